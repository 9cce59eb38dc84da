// The window's only way to the SDK: Tauri commands. Failures arrive as the SDK's flat
// boundary error {kind, message}; the window shows both.
import { invoke } from "@tauri-apps/api/core";

export interface BoundaryError {
  kind: string;
  message: string;
}

export async function call<T>(command: string, args: Record<string, unknown> = {}): Promise<T> {
  return invoke<T>(command, args);
}

export function describe(error: unknown): string {
  const e = error as Partial<BoundaryError>;
  if (e && typeof e.kind === "string") return `${e.kind}: ${e.message ?? ""}`;
  return String(error);
}

export function isKind(error: unknown, kind: string): boolean {
  return (error as Partial<BoundaryError>)?.kind === kind;
}

export function $(id: string): HTMLElement {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el;
}

export function input(id: string): HTMLInputElement {
  return $(id) as HTMLInputElement;
}

// Reports the first paint (ms since main() started) to the page for the start-up figure.
export function reportFirstPaint(): void {
  requestAnimationFrame(() =>
    requestAnimationFrame(async () => {
      const ms = await call<number>("first_paint");
      document.body.dataset.firstPaintMs = String(ms);
    }),
  );
}
