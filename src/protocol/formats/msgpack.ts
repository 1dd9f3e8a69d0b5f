// Fluent Bit's `http` output in its default format, msgpack (Content-Type: application/msgpack): the
// body is the output's chunk as it is, MessagePack events back to back, each `[TIMESTAMP, MESSAGE]`
// or, since Fluent Bit 2.1, `[[TIMESTAMP, METADATA], MESSAGE]`; MESSAGE is a map with string keys,
// TIMESTAMP an integer, a float or the EventTime extension (type 0: seconds and nanoseconds, two
// big-endian uint32). Sources: Fluent Bit's plugins/out_http/http.c (msgpack bodies are posted
// unchanged), docs.fluentbit.io "Key concepts" (event format) and "MessagePack format" (timestamps).
// Each event's message is found as in any JSON object (recordFromObject); its timestamp travels as
// `date`, in seconds, as Fluent Bit's json formats send it (json_date_key, json_date_format double).

import { DecodeError, decodeMulti, ExtensionCodec } from "@msgpack/msgpack";
import { BadRequestError } from "../../http/errors.ts";
import type { LogFields, LogRecord } from "../record.ts";
import { MESSAGE_KEYS, recordFromObject } from "../record.ts";

export const MSGPACK_TYPES = /^\s*application\/(?:x-|vnd\.)?msgpack\s*(?:;|$)/i;

// Fluent Bit's EventTime, read as seconds with a fraction (a double keeps microseconds).
const EVENT_TIME = 0;
const extensionCodec = new ExtensionCodec();
extensionCodec.register({
  type: EVENT_TIME,
  encode: () => null,
  decode: (data) => {
    if (data.byteLength !== 8) throw new DecodeError(`EventTime must be 8 bytes, got ${data.byteLength}`);
    const view = new DataView(data.buffer, data.byteOffset, 8);
    return view.getUint32(0) + view.getUint32(4) / 1e9;
  },
});

/**
 * Whether a body's first byte opens a short MessagePack array (fixarray, as every event is): a
 * UTF-8 continuation byte, so no text starts with it. (array16/32, 0xdc/0xdd, are UTF-8 lead bytes
 * of U+0700..U+077F: not sniffed.)
 */
export function startsWithMsgpackArray(body: Uint8Array): boolean {
  const b = body[0];
  return b !== undefined && b >= 0x90 && b <= 0x9f;
}

/** The records of a body of MessagePack events (or bare maps); a 400 naming the first bad one. */
export function decodeMsgpack(body: Uint8Array): LogRecord[] {
  const records: LogRecord[] = [];
  try {
    for (const event of decodeMulti(body, { extensionCodec })) {
      records.push(recordOf(event, records.length + 1));
    }
  } catch (error) {
    if (error instanceof BadRequestError) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new BadRequestError(`body is not valid MessagePack (event ${records.length + 1}: ${reason})`);
  }
  if (records.length === 0) throw new BadRequestError("empty body: no MessagePack event in it");
  return records;
}

function recordOf(event: unknown, n: number): LogRecord {
  let time: unknown;
  let metadata: unknown;
  let message = event;
  if (Array.isArray(event)) {
    if (event.length !== 2) throw refused(n, `an event must be [timestamp, map], got an array of ${event.length}`);
    [time, message] = event;
    if (Array.isArray(time)) [time, metadata] = time;
  }
  if (!isMap(message)) throw refused(n, "an event's message must be a map");
  const record = recordFromObject(message);
  if (record === undefined) {
    throw refused(n, `no message: put it under one of ${MESSAGE_KEYS.join(", ")} as a string`);
  }
  if (time === undefined && !hasEntries(metadata)) return record;
  const fields: LogFields = typeof record === "string" ? {} : { ...record.fields };
  if (typeof time === "number" && !("date" in fields)) fields.date = time;
  if (hasEntries(metadata)) fields.metadata = metadata;
  return { message: typeof record === "string" ? record : record.message, fields };
}

function isMap(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x) && !(x instanceof Uint8Array);
}

function hasEntries(x: unknown): boolean {
  return isMap(x) && Object.keys(x).length > 0;
}

function refused(n: number, reason: string): BadRequestError {
  return new BadRequestError(`MessagePack event ${n}: ${reason}`);
}
