// Durations as people type them on a command line (hey/oha style): "500ms", "10s", "1.5m", "1h".

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/** Milliseconds in `text`, or undefined when it is not a positive duration with a unit. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const ms = Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
  return ms > 0 && Number.isFinite(ms) ? ms : undefined;
}

/** A short human rendering of milliseconds: "850ms", "12.5s", "2m30s". */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${round(ms, 1)}ms`;
  if (ms < 60_000) return `${round(ms / 1_000, 2)}s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms - minutes * 60_000) / 1_000);
  return seconds === 0 ? `${minutes}m` : `${minutes}m${seconds}s`;
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}
