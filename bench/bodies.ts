// The request bodies every generator sends (load_tester excepted: it makes its own lines). Fixed,
// so every target analyzes exactly the same text; lines vary in level, ids and addresses the way
// real ones do, so the analyzer's template masking has work to do.

import type { Scenario } from "./args.ts";

export const PACKET_SIZE = 100;

const LEVELS = ["INFO", "ERROR", "WARN", "DEBUG", "INFO", "CRITICAL"] as const;
const EVENTS = [
  "payment failed for user {n} from {ip}",
  "GET /api/orders/{n} 200 in {n}ms from {ip}",
  "cache miss for key session:{n}, refilling from {ip}",
  "worker {n} restarted after 3 crashes",
] as const;

/** The i-th log event taken apart: the same i always gives the same parts. */
export function logParts(i: number): { time: string; level: string; text: string } {
  const second = String(i % 60).padStart(2, "0");
  const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const text = EVENTS[i % EVENTS.length]!.replaceAll("{n}", String(1000 + ((i * 7919) % 90000))).replaceAll("{ip}", ip);
  return { time: `2026-11-24T10:00:${second}Z`, level: LEVELS[i % LEVELS.length]!, text };
}

/** The i-th log line: the same i always gives the same line. */
export function logLine(i: number): string {
  const { time, level, text } = logParts(i);
  return `${time} ${level} ${text}`;
}

/** {"log": ...} for packet 1, {"logs": [...]} with `packet` lines otherwise. */
export function requestBody(packet: number): string {
  if (packet === 1) return JSON.stringify({ log: logLine(1) });
  return JSON.stringify({ logs: Array.from({ length: packet }, (_, i) => logLine(i)) });
}

export const NDJSON = "application/x-ndjson";

/**
 * `count` records as an agent ships structured logs: one JSON object per line, each line ending in
 * a newline, the message under "message" beside the time and level it was parsed into (the shape of
 * Vector's ndjson codec and Fluent Bit's json_lines format).
 */
export function ndjsonBody(count: number): string {
  let body = "";
  for (let i = 0; i < count; i++) {
    const { time, level, text } = logParts(i);
    body += `${JSON.stringify({ time, level, message: text })}\n`;
  }
  return body;
}

export type BodyKind = "single" | "packet" | "ndjson";
export const BODY_KINDS: readonly BodyKind[] = ["single", "packet", "ndjson"];

/** What one request of a kind carries: the body, its Content-Type and how many logs are in it. */
export type RequestBody = { body: string; contentType: string; logs: number };

export function benchBody(kind: BodyKind): RequestBody {
  switch (kind) {
    case "single":
      return { body: requestBody(1), contentType: "application/json", logs: 1 };
    case "packet":
      return { body: requestBody(PACKET_SIZE), contentType: "application/json", logs: PACKET_SIZE };
    case "ndjson":
      return { body: ndjsonBody(PACKET_SIZE), contentType: NDJSON, logs: PACKET_SIZE };
  }
}

/** The body a scenario sends: async and failover send single logs. */
export function bodyKind(scenario: Scenario): BodyKind {
  return scenario === "packet" || scenario === "ndjson" ? scenario : "single";
}
