// Live progress on stderr while the run goes: a redrawn bar with the current rate on a TTY,
// a plain line every second otherwise (CI logs and pipes should not fill with carriage returns).

import type { Paint } from "./colour.ts";
import { formatDuration } from "./duration.ts";

export type ProgressState = {
  completed: number;
  failures: number;
  elapsedMs: number;
  /** Requests per second over the last second. */
  rate: number;
  /** The run's bounds: whichever is reached first ends it. */
  total: number | undefined;
  durationMs: number | undefined;
};

export type ProgressSource = { readonly completed: number; readonly failures: number };

export type ProgressOptions = {
  source: ProgressSource;
  stream: { write(text: string): unknown; isTTY?: boolean; columns?: number };
  paint: Paint;
  total: number | undefined;
  durationMs: number | undefined;
  now?: () => number;
  /** Defaults: 100 ms on a TTY, 1 s otherwise. */
  intervalMs?: number;
};

export const TTY_INTERVAL_MS = 100;
export const PLAIN_INTERVAL_MS = 1_000;
const BAR_WIDTH = 30;
const RATE_WINDOW_MS = 1_000;

/** How far along the run is, 0..1: the further of the request count and the clock. */
export function fractionDone({ completed, elapsedMs, total, durationMs }: ProgressState): number {
  const byCount = total === undefined ? 0 : completed / total;
  const byTime = durationMs === undefined ? 0 : elapsedMs / durationMs;
  return Math.min(1, Math.max(byCount, byTime));
}

/** One line for a TTY, redrawn in place: "[██████░░░░] 60% 300/500 1234 req/s 0 errors 0.4s". */
export function renderBar(state: ProgressState, paint: Paint, width = BAR_WIDTH): string {
  const done = fractionDone(state);
  const filled = Math.round(done * width);
  const bar = paint.green("█".repeat(filled)) + paint.dim("░".repeat(width - filled));
  const errors = state.failures === 0 ? "0 errors" : paint.red(`${state.failures} errors`);
  return `[${bar}] ${String(Math.floor(done * 100)).padStart(3)}% ${counted(state)} ${Math.round(state.rate)} req/s ${errors} ${formatDuration(state.elapsedMs)}`;
}

/** One line for a log: "[2.0s] 300/500 requests (60%), 1234 req/s, 0 errors". */
export function renderLine(state: ProgressState): string {
  const percent = Math.floor(fractionDone(state) * 100);
  return `[${formatDuration(state.elapsedMs)}] ${counted(state)} requests (${percent}%), ${Math.round(state.rate)} req/s, ${state.failures} errors`;
}

function counted({ completed, total }: ProgressState): string {
  return total === undefined ? String(completed) : `${completed}/${total}`;
}

/** Starts drawing; call the returned stop() before printing anything else to the stream. */
export function startProgress(options: ProgressOptions): { stop(): void } {
  const { source, stream, paint, total, durationMs } = options;
  const now = options.now ?? (() => performance.now());
  const tty = stream.isTTY === true;
  const start = now();
  // Recent (time, completed) samples, for a rate that follows the run instead of averaging it.
  const samples: [number, number][] = [[0, 0]];

  const tick = () => {
    const elapsedMs = now() - start;
    const completed = source.completed;
    samples.push([elapsedMs, completed]);
    while (samples.length > 2 && elapsedMs - samples[1]![0] >= RATE_WINDOW_MS) samples.shift();
    const [since, then] = samples[0]!;
    const rate = elapsedMs > since ? ((completed - then) * 1000) / (elapsedMs - since) : 0;
    const state: ProgressState = { completed, failures: source.failures, elapsedMs, rate, total, durationMs };
    if (tty) stream.write(`\r\x1b[2K${renderBar(state, paint)}`);
    else stream.write(`${renderLine(state)}\n`);
  };

  const timer = setInterval(tick, options.intervalMs ?? (tty ? TTY_INTERVAL_MS : PLAIN_INTERVAL_MS));
  return {
    stop() {
      clearInterval(timer);
      if (tty) stream.write("\r\x1b[2K");
    },
  };
}
