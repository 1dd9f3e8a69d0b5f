// One log message as it travels from the distributor to an analyzer, whatever format its agent
// sent it in (src/protocol/formats/). A plain line is a string; a structured record keeps the
// fields its agent sent beside the message (time, level, attributes), so that the analyzer can use
// a supplied time or level instead of guessing them from the text. The distributor routes each
// record on its own and sends an analyzer `{"logs": [record, ...]}`.

export type LogFields = Record<string, unknown>;

export type LogRecord = string | { message: string; fields: LogFields };

/**
 * One line of an NDJSON body as it came, not parsed nor even decoded: bytes start..end-1 of the
 * request's body. The distributor routes it as it is and the analyzer reads it
 * (src/protocol/batch.ts), refusing it on its own when it holds no message. A request's raw lines
 * are all of its records, in the order of its body, with nothing but blanks between two that follow
 * each other: the distributor sends a run of them as the bytes they span.
 */
export type RawLine = { readonly body: Uint8Array; readonly start: number; readonly end: number };

/** What the distributor routes: a record, or a line only the analyzer will read. */
export type Routable = LogRecord | RawLine;

export function isRaw(record: Routable): record is RawLine {
  return typeof record === "object" && "body" in record;
}

const utf8 = new TextDecoder();

/** A raw line's text. */
export function rawText(line: RawLine): string {
  return utf8.decode(line.body.subarray(line.start, line.end));
}

/** What a format's decoder found in one request body (raw lines only where the decoder says so). */
export type Decoded<R extends Routable = LogRecord> = {
  records: R[];
  /** Records refused on their own (no message in them), when the format can say so per record. */
  rejected?: { count: number; reason: string };
};

/** Where an agent's object keeps its message: the first of these keys whose value is a string. */
export const MESSAGE_KEYS = ["log", "message", "msg", "MESSAGE", "short_message", "body"] as const;

/** An agent's object as a record: its message, and every other field beside it; undefined without one. */
export function recordFromObject(object: Record<string, unknown>): LogRecord | undefined {
  for (const key of MESSAGE_KEYS) {
    const message = object[key];
    if (typeof message !== "string") continue;
    // No prototype: a field named __proto__ (JSON.parse makes it an own key) stays a field.
    const fields: LogFields = Object.create(null);
    let any = false;
    for (const k in object) {
      if (k === key || !Object.hasOwn(object, k)) continue;
      fields[k] = object[k];
      any = true;
    }
    return any ? { message, fields } : message;
  }
  return undefined;
}

export function messageOf(record: LogRecord): string {
  return typeof record === "string" ? record : record.message;
}
