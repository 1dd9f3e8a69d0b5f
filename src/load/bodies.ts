// Request bodies, generated and UTF-8 encoded before the run so the hot loop only sends bytes.

/** Distinct bodies kept for long runs; past this the runner cycles through them. */
export const MAX_DISTINCT_BODIES = 4096;

const encoder = new TextEncoder();

/**
 * @param nextLine the log line source (see loglines.ts)
 * @param count how many bodies to build; pass min(requests, MAX_DISTINCT_BODIES)
 * @param packet logs per body: 1 gives {"log": line}, more give {"logs": [lines]}
 */
export function createBodies(nextLine: () => string, count: number, packet: number): Uint8Array[] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
  if (!Number.isInteger(packet) || packet < 1) throw new RangeError(`packet must be a positive integer, got ${packet}`);
  const bodies: Uint8Array[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const payload = packet === 1 ? { log: nextLine() } : { logs: Array.from({ length: packet }, nextLine) };
    bodies[i] = encoder.encode(JSON.stringify(payload));
  }
  return bodies;
}
