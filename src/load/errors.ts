// What went wrong with the requests that did not get a 2xx, grouped the way oha groups them:
// connection errors and timeouts first, then everything else by message.

export type ErrorKind = "connection" | "timeout" | "http" | "other";

export type ErrorCount = { kind: ErrorKind; message: string; count: number };

// Error codes Bun (and Node) put on a failed fetch when no usable connection was made or it broke.
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ConnectionRefused",
  "ConnectionClosed",
  "FailedToOpenSocket",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EPIPE",
  "UND_ERR_SOCKET",
]);

// A misbehaving server could produce a new message per request; past this many distinct
// messages the rest are counted together so the tally stays small.
const MAX_DISTINCT = 50;

/** Sorts a thrown fetch error into connection error, timeout or other, with a readable message. */
export function classifyError(error: unknown): { kind: ErrorKind; message: string } {
  if (error instanceof Error || (typeof error === "object" && error !== null && "message" in error)) {
    const { name, message, code } = error as { name?: unknown; message?: unknown; code?: unknown };
    const text = String(message ?? "") || String(name ?? "error");
    if (name === "TimeoutError" || code === "ETIMEDOUT" || code === "UND_ERR_CONNECT_TIMEOUT")
      return { kind: "timeout", message: text };
    if (typeof code === "string" && CONNECTION_CODES.has(code)) return { kind: "connection", message: text };
    return { kind: "other", message: text };
  }
  return { kind: "other", message: String(error) };
}

/** Counts errors by kind and message, in first-seen order. */
export class ErrorTally {
  readonly #counts = new Map<string, ErrorCount>();
  #total = 0;

  get total(): number {
    return this.#total;
  }

  add(kind: ErrorKind, message: string): void {
    this.#total++;
    let key = `${kind}\u0000${message}`;
    let entry = this.#counts.get(key);
    if (!entry && this.#counts.size >= MAX_DISTINCT) {
      key = `${kind}\u0000(other messages)`;
      entry = this.#counts.get(key);
      message = "(other messages)";
    }
    if (entry) entry.count++;
    else this.#counts.set(key, { kind, message, count: 1 });
  }

  /** Most frequent first; ties keep first-seen order. */
  entries(): ErrorCount[] {
    return [...this.#counts.values()].map((e) => ({ ...e })).sort((a, b) => b.count - a.count);
  }
}
