// The request bodies every generator sends (load_tester excepted: it makes its own lines). Fixed,
// so every target analyzes exactly the same text; lines vary in level, ids and addresses the way
// real ones do, so the analyzer's template masking has work to do.

export const PACKET_SIZE = 100;

const LEVELS = ["INFO", "ERROR", "WARN", "DEBUG", "INFO", "CRITICAL"] as const;
const EVENTS = [
  "payment failed for user {n} from {ip}",
  "GET /api/orders/{n} 200 in {n}ms from {ip}",
  "cache miss for key session:{n}, refilling from {ip}",
  "worker {n} restarted after 3 crashes",
] as const;

/** The i-th log line: the same i always gives the same line. */
export function logLine(i: number): string {
  const second = String(i % 60).padStart(2, "0");
  const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const text = EVENTS[i % EVENTS.length]!.replaceAll("{n}", String(1000 + ((i * 7919) % 90000))).replaceAll("{ip}", ip);
  return `2026-11-24T10:00:${second}Z ${LEVELS[i % LEVELS.length]} ${text}`;
}

/** {"log": ...} for packet 1, {"logs": [...]} with `packet` lines otherwise. */
export function requestBody(packet: number): string {
  if (packet === 1) return JSON.stringify({ log: logLine(1) });
  return JSON.stringify({ logs: Array.from({ length: packet }, (_, i) => logLine(i)) });
}
