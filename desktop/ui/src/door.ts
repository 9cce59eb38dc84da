// The door scanner window: pairing, then a full-screen scan view built for a queue. A
// keyboard-wedge scanner types the credential and Enter into the focused field; the SDK
// decides (and has stored the scan) before the answer is shown.
import { $, call, describe, input, isKind, reportFirstPaint } from "./api";

type Direction = "entry" | "exit";
type Rejection = string | { invalid: string };
type Decision = "admitted" | { rejected: Rejection };

interface DoorScan {
  outcome: {
    scan_id: string;
    decision: Decision;
    ticket: { ticket_id: string; ticket_type_id: string } | null;
    device_time_ms: number;
  };
  online: boolean;
  ticket_type_name: string | null;
}

interface DoorStatus {
  gate: string;
  list_name: string;
  gates: string[];
  online: boolean;
  unpushed: number;
  last_synced_ms: number | null;
}

// The reason codes of the domain's closed set, in words for the queue.
const REASONS: Record<string, string> = {
  wrong_event: "Ticket for another event",
  not_on_list: "Not valid at this entrance",
  revoked: "Ticket cancelled or refunded",
  not_yet_valid: "Not valid yet",
  expired: "Ticket expired",
  already_inside: "Already inside",
  already_used: "Already used",
  not_inside: "Not inside: cannot exit",
  malformed: "Not a ticket",
  unsupported_version: "Ticket format not supported",
  unknown_key: "Not a genuine ticket",
  retired_key: "Ticket signed with a retired key",
  bad_signature: "Forged ticket",
};

let direction: Direction = "entry";
const counts = { admitted: 0, refused: 0 };
// Status reads in the order they were asked: an answer older than the one on screen is
// dropped, so "waiting to upload" never goes back to a count from before a scan.
let statusAsked = 0;
let statusShown = 0;
let statusSoon: number | undefined;
// Wedge Enter to decision on screen, ms, for the measurements.
const timings: number[] = [];
(window as unknown as { __scanTimings: number[] }).__scanTimings = timings;
let audio: AudioContext | null = null;

function beep(ok: boolean): void {
  try {
    audio ??= new AudioContext();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = ok ? 880 : 220;
    gain.gain.value = 0.1;
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + (ok ? 0.12 : 0.4));
  } catch {
    // No audio device (a kiosk without speakers): the colour and the words still show.
  }
}

function reasonOf(decision: Decision): string {
  if (decision === "admitted") return "";
  const r = decision.rejected;
  const code = typeof r === "string" ? r : r.invalid;
  return REASONS[code] ?? code;
}

function show(scan: DoorScan): void {
  const admitted = scan.outcome.decision === "admitted";
  const panel = $("decision");
  panel.className = admitted ? "admitted" : "rejected";
  $("verdict").textContent = admitted ? "ADMITTED" : "REFUSED";
  $("reason").textContent = admitted ? (scan.online ? "Welcome" : "Welcome (offline)") : reasonOf(scan.outcome.decision);
  // The type's name comes from the door's own store, so it shows offline too; a door that
  // never pulled the names (an exported configuration) shows the id's start instead.
  const type = scan.outcome.ticket?.ticket_type_id;
  $("ticket-type").textContent = scan.ticket_type_name ?? (type ? `Ticket type ${type.slice(0, 8)}` : "");
  if (admitted) counts.admitted++;
  else counts.refused++;
  $("count-admitted").textContent = String(counts.admitted);
  $("count-refused").textContent = String(counts.refused);
  const item = document.createElement("li");
  const when = new Date(scan.outcome.device_time_ms).toLocaleTimeString();
  item.textContent = `${when} ${admitted ? "admitted" : "refused: " + reasonOf(scan.outcome.decision)}`;
  $("last-scans").prepend(item);
  while ($("last-scans").children.length > 5) $("last-scans").lastElementChild?.remove();
  beep(admitted);
}

async function submitScan(text: string, started: number): Promise<void> {
  if (!text.trim()) return;
  try {
    const scan = await call<DoorScan>("scan", { text, direction });
    $("scan-error").textContent = "";
    show(scan);
    requestAnimationFrame(() => timings.push(performance.now() - started));
    refreshStatusSoon();
  } catch (error) {
    $("scan-error").textContent = describe(error);
  }
}

// `scansBefore`: how many decisions were on screen when the status was asked for, so the
// count is known to include them (the WebDriver scenario waits on it).
function renderStatus(status: DoorStatus, scansBefore = counts.admitted + counts.refused): void {
  const net = $("net");
  net.textContent = status.online ? "Online" : "Offline";
  net.className = `net ${status.online ? "online" : "offline"}`;
  $("last-sync").textContent = status.last_synced_ms
    ? new Date(status.last_synced_ms).toLocaleTimeString()
    : "never";
  $("unpushed").textContent = String(status.unpushed);
  $("unpushed").dataset.scansBefore = String(scansBefore);
  $("list-name").textContent = status.list_name;
  const gate = $("gate") as HTMLSelectElement;
  if (gate.options.length !== status.gates.length) {
    gate.replaceChildren(...status.gates.map((g) => new Option(g, g)));
  }
  gate.value = status.gate;
}

function scanView(status: DoorStatus): void {
  $("pairing").hidden = true;
  $("scanning").hidden = false;
  renderStatus(status);
  input("scan-input").focus();
}

// After a decision: read the count once the queue pauses (150 ms without a scan), so a fast
// scanner's decisions never wait behind status reads.
function refreshStatusSoon(): void {
  clearTimeout(statusSoon);
  statusSoon = window.setTimeout(() => void refreshStatus(), 150);
}

async function refreshStatus(): Promise<void> {
  if ($("scanning").hidden) return;
  const asked = ++statusAsked;
  const scansBefore = counts.admitted + counts.refused;
  try {
    const status = await call<DoorStatus>("status");
    if (asked < statusShown) return;
    statusShown = asked;
    renderStatus(status, scansBefore);
  } catch (error) {
    if (isKind(error, "NOT_PAIRED") || isKind(error, "DEVICE_REVOKED")) location.reload();
  }
}

function wire(): void {
  $("pair-submit").addEventListener("click", async () => {
    // The pairing QR reads `GUICHET-PAIR:<code>`; the code is what the server takes.
    const code = input("pair-code").value.trim().replace(/^GUICHET-PAIR:/i, "");
    const submit = $("pair-submit") as HTMLButtonElement;
    if (submit.disabled) return;
    submit.disabled = true;
    try {
      const status = await call<DoorStatus>("pair", {
        code,
        name: input("pair-name").value,
        gate: input("pair-gate").value,
      });
      $("pair-error").textContent = "";
      scanView(status);
    } catch (error) {
      $("pair-error").textContent = describe(error);
    } finally {
      submit.disabled = false;
    }
  });
  input("pair-code").addEventListener("keydown", (e) => {
    if (e.key === "Enter") $("pair-submit").click();
  });
  const field = input("scan-input");
  field.addEventListener("keydown", (e) => {
    if (e.key !== "Enter") return;
    const started = performance.now();
    const text = field.value;
    field.value = "";
    void submitScan(text, started);
  });
  // A QR code in a PNG file (a ticket sent as a screenshot): decoded by the app, then the
  // same scan as a wedge line.
  const file = input("scan-file");
  file.addEventListener("change", async () => {
    const picked = file.files?.[0];
    file.value = "";
    if (!picked) return;
    try {
      const png = Array.from(new Uint8Array(await picked.arrayBuffer()));
      show(await call<DoorScan>("scan_image", { png, direction }));
      $("scan-error").textContent = "";
      refreshStatusSoon();
    } catch (error) {
      $("scan-error").textContent = describe(error);
    }
    field.focus();
  });
  // Keep the focus on the scan field so the wedge's keystrokes always land there.
  field.addEventListener("blur", () => setTimeout(() => field.focus(), 50));
  for (const d of ["entry", "exit"] as const) {
    $(`dir-${d}`).addEventListener("click", () => {
      direction = d;
      $("dir-entry").classList.toggle("on", d === "entry");
      $("dir-exit").classList.toggle("on", d === "exit");
    });
  }
  $("gate").addEventListener("change", async () => {
    try {
      renderStatus(await call<DoorStatus>("choose_gate", { gate: ($("gate") as HTMLSelectElement).value }));
    } catch (error) {
      $("scan-error").textContent = describe(error);
    }
  });
}

async function start(): Promise<void> {
  wire();
  try {
    scanView(await call<DoorStatus>("status"));
  } catch {
    $("pairing").hidden = false;
    input("pair-code").focus();
  }
  reportFirstPaint();
  setInterval(refreshStatus, 1000);
}

void start();
