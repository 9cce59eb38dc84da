// The organizer console window: sign in, events, sales dashboard (live: the SDK's sales
// feed pushes every change), attendees and refunds, doors. Display only: every decision is
// the SDK's.
import { Chart, BarController, BarElement, CategoryScale, LinearScale, Tooltip } from "chart.js";
import { listen } from "@tauri-apps/api/event";
import { $, call, describe, input, isKind, reportFirstPaint } from "./api";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Tooltip);

interface TicketType {
  id: string;
  details: { name: string; price_minor: number; currency: string; capacity: number };
  available: number;
}
interface OrgEvent {
  id: string;
  details: { title: string; venue: string; latitude: number | null; longitude: number | null; time_zone: string };
  status: "draft" | "published" | "cancelled";
  ticket_types: TicketType[];
}
// What the report and the live feed both carry.
interface SalesTotals {
  currency: string | null;
  sold: number;
  held: number;
  revenue_minor: number;
  by_ticket_type: { ticket_type_id: string; sold: number; held: number; revenue_minor: number }[];
}
interface Sales extends SalesTotals {
  by_day: { day: string; sold: number }[];
}
interface LiveSales extends SalesTotals {
  event_id: string;
}
interface LiveState {
  phase: "connecting" | "live" | "reconnecting" | "ended";
  attempt: number;
  error: { kind: string; message: string } | null;
}
interface Attendee {
  ticket_id: string;
  order_id: string;
  ticket_type_name: string;
  status: string;
  holder_name: string;
  holder_email: string;
}
interface CheckInList { id: string; name: string; gates: string[]; re_entry: boolean; ticket_type_ids: string[]; checked_in: number }
interface Device { id: string; name: string; last_seen_at: string | null; revoked_at: string | null }
interface Alert { scan: { gate: string; ticket_id: string | null }; detected_at: string }

let current: OrgEvent | null = null;
let chart: Chart | null = null;
// The doors panel (lists' counts, devices, alerts) is still read every few seconds.
const DOORS_POLL_MS = 3000;
// The per-day chart comes from the report: re-read at most this often while sales move.
const REPORT_EVERY_MS = 2000;
let reportDue: number | null = null;

const money = (minor: number, currency: string) => `${(minor / 100).toFixed(2)} ${currency}`;

function fail(error: unknown): void {
  $("error").textContent = describe(error);
  if (isKind(error, "NETWORK")) setOnline(false);
  if (isKind(error, "NOT_SIGNED_IN") || isKind(error, "SESSION_EXPIRED")) void showSignIn();
}

function setOnline(online: boolean): void {
  $("net").textContent = online ? "Online" : "Offline";
  $("net").className = `net ${online ? "online" : "offline"}`;
}

async function run<T>(command: string, args: Record<string, unknown> = {}): Promise<T> {
  try {
    const value = await call<T>(command, args);
    setOnline(true);
    $("error").textContent = "";
    return value;
  } catch (error) {
    fail(error);
    throw error;
  }
}

function li(text: string, ...extra: HTMLElement[]): HTMLLIElement {
  const item = document.createElement("li");
  item.textContent = text;
  item.append(...extra);
  return item;
}

function button(label: string, onClick: () => void, id?: string): HTMLButtonElement {
  const b = document.createElement("button");
  b.textContent = label;
  if (id) b.id = id;
  b.addEventListener("click", onClick);
  return b;
}

async function showSignIn(): Promise<void> {
  $("sign-in-view").hidden = false;
  $("console").hidden = true;
  $("sign-out").hidden = true;
  $("who").textContent = "";
}

async function showConsole(name: string): Promise<void> {
  $("sign-in-view").hidden = true;
  $("console").hidden = false;
  $("sign-out").hidden = false;
  $("who").textContent = name;
  await loadEvents();
}

async function loadEvents(): Promise<void> {
  const events = await run<OrgEvent[]>("my_events");
  $("events").replaceChildren(
    ...events.map((e) => {
      const item = li(`${e.details.title} `);
      item.dataset.eventId = e.id;
      const status = document.createElement("span");
      status.className = `status-${e.status}`;
      status.textContent = e.status;
      item.append(status);
      item.classList.toggle("selected", e.id === current?.id);
      item.addEventListener("click", () => void openEvent(e));
      return item;
    }),
  );
  if (current) {
    const fresh = events.find((e) => e.id === current?.id);
    if (fresh) renderEvent(fresh);
  }
}

function renderEvent(e: OrgEvent): void {
  current = e;
  $("event-view").hidden = false;
  $("ev-heading").textContent = e.details.title;
  $("ev-status").textContent = e.status;
  ($("publish") as HTMLButtonElement).disabled = e.status !== "draft";
  ($("cancel-event") as HTMLButtonElement).disabled = e.status === "cancelled";
  input("ed-title").value = e.details.title;
  input("ed-venue").value = e.details.venue;
  input("ed-lat").value = e.details.latitude?.toString() ?? "";
  input("ed-lon").value = e.details.longitude?.toString() ?? "";
  input("ed-tz").value = e.details.time_zone;
}

async function openEvent(e: OrgEvent): Promise<void> {
  renderEvent(e);
  await loadEvents();
  await Promise.all([refreshSales(), loadAttendees(), loadDoors()]);
  // From now on the feed pushes every change of this event's sales.
  await run("watch_sales", { eventId: e.id });
}

// A live frame: totals at once, the per-day chart from the report shortly after.
function onLiveSales(sales: LiveSales): void {
  if (!current || sales.event_id !== current.id) return;
  showTotals(sales);
  if (reportDue === null) {
    reportDue = window.setTimeout(() => {
      reportDue = null;
      void refreshSales().catch(() => undefined);
    }, REPORT_EVERY_MS);
  }
}

function onLiveState(state: LiveState): void {
  const text: Record<LiveState["phase"], string> = {
    connecting: "connecting…",
    live: "live",
    reconnecting: `reconnecting (attempt ${state.attempt})…`,
    ended: state.error ? `live updates stopped: ${state.error.kind}` : "",
  };
  $("sales-live").textContent = text[state.phase];
  if (state.phase === "reconnecting") setOnline(false);
  if (state.phase === "live") setOnline(true);
}

async function refreshSales(): Promise<void> {
  if (!current) return;
  const sales = await run<Sales>("sales_report", { eventId: current.id });
  showTotals(sales);
  showByDay(sales);
}

function showTotals(sales: SalesTotals): void {
  if (!current) return;
  const e = current;
  $("sold").textContent = String(sales.sold);
  $("held").textContent = String(sales.held);
  $("revenue").textContent = money(sales.revenue_minor, sales.currency ?? "");
  $("sales-updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  const rows = e.ticket_types.map((t) => {
    const s = sales.by_ticket_type.find((x) => x.ticket_type_id === t.id);
    const row = document.createElement("tr");
    const cells = [
      t.details.name,
      money(t.details.price_minor, t.details.currency),
      String(t.details.capacity),
      String(s?.sold ?? 0),
      String(s?.held ?? 0),
      String(t.details.capacity - (s?.sold ?? 0) - (s?.held ?? 0)),
      money(s?.revenue_minor ?? 0, t.details.currency),
    ];
    row.replaceChildren(...cells.map((c) => Object.assign(document.createElement("td"), { textContent: c })));
    return row;
  });
  $("types").querySelector("tbody")?.replaceChildren(...rows);
}

function showByDay(sales: Sales): void {
  const labels = sales.by_day.map((d) => d.day);
  const data = sales.by_day.map((d) => d.sold);
  if (!chart) {
    chart = new Chart($("by-day") as HTMLCanvasElement, {
      type: "bar",
      data: { labels, datasets: [{ label: "Tickets sold", data, backgroundColor: "#1565c0" }] },
      options: { animation: false, maintainAspectRatio: false, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  } else {
    chart.data.labels = labels;
    chart.data.datasets[0].data = data;
    chart.update();
  }
}

async function loadAttendees(): Promise<void> {
  if (!current) return;
  const page = await run<{ attendees: Attendee[] }>("attendees", {
    eventId: current.id,
    search: input("att-search").value,
    after: null,
  });
  const rows = page.attendees.map((a) => {
    const row = document.createElement("tr");
    for (const c of [a.holder_name, a.holder_email, a.ticket_type_name, a.status]) {
      row.append(Object.assign(document.createElement("td"), { textContent: c }));
    }
    const actions = document.createElement("td");
    if (a.status === "valid") {
      actions.append(
        button("Refund ticket", () => void refund(a.order_id, [a.ticket_id], "this ticket")),
        button("Refund order", () => void refund(a.order_id, [], "the whole order")),
      );
    }
    row.append(actions);
    return row;
  });
  $("attendees").querySelector("tbody")?.replaceChildren(...rows);
}

async function refund(orderId: string, ticketIds: string[], what: string): Promise<void> {
  if (!confirm(`Refund ${what}? The tickets stop working at every door.`)) return;
  await run("refund", { orderId, ticketIds });
  await Promise.all([loadAttendees(), refreshSales()]);
}

async function loadDoors(): Promise<void> {
  if (!current) return;
  const eventId = current.id;
  const [lists, devices, alerts] = await Promise.all([
    run<CheckInList[]>("check_in_lists", { eventId }),
    run<Device[]>("scanner_devices", { eventId }),
    run<Alert[]>("duplicate_alerts", { eventId }),
  ]);
  $("lists").replaceChildren(
    ...lists.map((l) =>
      li(
        `${l.name} — gates ${l.gates.join(", ")}${l.re_entry ? ", re-entry" : ""} — ${l.checked_in} checked in `,
        progress(l.checked_in, Number($("sold").textContent ?? "0")),
        button("Pair a scanner", () => void pair(l.id), `pair-${l.id}`),
      ),
    ),
  );
  $("devices").replaceChildren(
    ...devices.map((d) => {
      const seen = d.last_seen_at ? `last seen ${new Date(d.last_seen_at).toLocaleTimeString()}` : "not seen yet";
      const item = li(`${d.name} — ${d.revoked_at ? "revoked" : seen} `);
      item.className = "device";
      if (!d.revoked_at) {
        item.append(button("Revoke", async () => {
          if (!confirm(`Revoke ${d.name}? It stops scanning and forgets the event.`)) return;
          await run("revoke_scanner", { deviceId: d.id });
          await loadDoors();
        }));
      }
      return item;
    }),
  );
  $("alerts").replaceChildren(
    ...alerts.map((a) => li(`Ticket ${a.scan.ticket_id?.slice(0, 8) ?? "?"} entered twice (gate ${a.scan.gate}) at ${new Date(a.detected_at).toLocaleTimeString()}`)),
  );
}

function progress(value: number, max: number): HTMLProgressElement {
  const bar = document.createElement("progress");
  bar.max = Math.max(max, value, 1);
  bar.value = value;
  return bar;
}

async function pair(listId: string): Promise<void> {
  const p = await run<{ code: string; qr_svg: string; expires_at: string }>("pair_scanner", { listId });
  $("pairing").hidden = false;
  $("pair-code").textContent = p.code;
  $("pair-expires").textContent = `works once, until ${new Date(p.expires_at).toLocaleTimeString()}`;
  const svg = new DOMParser().parseFromString(p.qr_svg, "image/svg+xml").documentElement;
  $("pair-qr").replaceChildren(svg);
}

const iso = (local: string) => new Date(local).toISOString();
const num = (id: string) => (input(id).value === "" ? null : Number(input(id).value));

function wire(): void {
  $("sign-in").addEventListener("click", async () => {
    const account = await run<{ display_name: string }>("log_in", {
      email: input("email").value,
      password: input("password").value,
    });
    await showConsole(account.display_name);
  });
  // Single sign-on: the system browser opens the provider's page; the app waits for its
  // redirect (the SDK listens on a loopback port).
  $("sso").addEventListener("click", async () => {
    $("error").textContent = "Finish signing in in your browser…";
    const account = await run<{ display_name: string }>("sign_in_with_provider");
    await showConsole(account.display_name);
  });
  $("sign-out").addEventListener("click", async () => {
    await run("log_out");
    current = null;
    await showSignIn();
  });
  $("ev-save").addEventListener("click", async () => {
    const created = await run<OrgEvent>("create_event", {
      draft: {
        title: input("ev-title").value,
        description: ($("ev-desc") as HTMLTextAreaElement).value,
        venue: input("ev-venue").value,
        city: input("ev-city").value,
        latitude: num("ev-lat"),
        longitude: num("ev-lon"),
        starts_at: iso(input("ev-start").value),
        ends_at: iso(input("ev-end").value),
        time_zone: input("ev-tz").value,
        online: false,
      },
    });
    ($("new-event") as HTMLDetailsElement).open = false;
    await openEvent(created);
  });
  $("ed-save").addEventListener("click", async () => {
    if (!current) return;
    const e = await run<OrgEvent>("update_event", {
      eventId: current.id,
      changes: {
        title: input("ed-title").value,
        venue: input("ed-venue").value,
        latitude: num("ed-lat"),
        longitude: num("ed-lon"),
        time_zone: input("ed-tz").value,
      },
    });
    await openEvent(e);
  });
  $("tt-add").addEventListener("click", async () => {
    if (!current) return;
    const now = new Date();
    await run("add_ticket_type", {
      eventId: current.id,
      draft: {
        name: input("tt-name").value,
        price_minor: Number(input("tt-price").value),
        currency: input("tt-currency").value,
        capacity: Number(input("tt-capacity").value),
        sale_starts_at: now.toISOString(),
        sale_ends_at: new Date(now.getTime() + 30 * 86400_000).toISOString(),
        max_per_order: 10,
      },
    });
    await loadEvents();
    await refreshSales();
  });
  $("publish").addEventListener("click", async () => {
    if (!current) return;
    renderEvent(await run<OrgEvent>("publish_event", { eventId: current.id }));
    await loadEvents();
  });
  $("cancel-event").addEventListener("click", async () => {
    if (!current || !confirm(`Cancel ${current.details.title}? Every order is refunded; this cannot be undone.`)) return;
    renderEvent(await run<OrgEvent>("cancel_event", { eventId: current.id }));
    await loadEvents();
  });
  input("att-search").addEventListener("input", () => void loadAttendees());
  $("list-create").addEventListener("click", async () => {
    if (!current) return;
    await run("create_check_in_list", {
      eventId: current.id,
      draft: {
        name: input("list-name").value,
        ticket_type_ids: current.ticket_types.map((t) => t.id),
        gates: input("list-gates").value.split(",").map((g) => g.trim()).filter(Boolean),
        re_entry: input("list-reentry").checked,
      },
    });
    await loadDoors();
  });
}

async function start(): Promise<void> {
  await listen<LiveSales>("sales-updated", (e) => onLiveSales(e.payload));
  await listen<LiveState>("sales-live", (e) => onLiveState(e.payload));
  wire();
  $("sso").hidden = !(await call<boolean>("sso_available"));
  const account = await call<{ display_name: string } | null>("account");
  if (account) await showConsole(account.display_name);
  else await showSignIn();
  reportFirstPaint();
  setInterval(() => {
    if (current && !$("console").hidden) void loadDoors().catch(() => undefined);
  }, DOORS_POLL_MS);
}

void start();
