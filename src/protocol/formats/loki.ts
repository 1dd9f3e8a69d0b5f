// Loki's push API, POST /loki/api/v1/push, as Loki itself reads it (pkg/loghttp/push/push.go):
// - Content-Type application/json: {"streams": [{"stream": {labels}, "values": [["<ns>", "<line>",
//   {structured metadata}?], ...]}]} (pino-loki, Fluent Bit, Vector with compression "gzip" or
//   "none"; the endpoint inflates a gzip or deflate Content-Encoding before decoding);
// - any other Content-Type, or none: a snappy-compressed (block format) protobuf PushRequest, read
//   with protobufjs against Loki's own push.proto (loki-proto/, see its README) — what Promtail,
//   Alloy and Vector (compression "snappy", its default) send.
// Each entry becomes one record: the message is its line as it is (an empty line too), and its
// fields are the stream's labels, the entry's structured metadata, and `time`, the entry's timestamp
// as ISO 8601 with all nine digits of nanoseconds. A malformed body is a 400 for the whole request,
// as in Loki. The answer to a push is 204 No Content.

import { readFileSync } from "node:fs";
import protobuf from "protobufjs";
import { BadRequestError, PayloadTooLargeError } from "../../http/errors.ts";
import { decodeSnappy } from "../../http/snappy.ts";
import type { Decoded, LogRecord } from "../record.ts";

export type LokiDecodeOptions = {
  /** The protobuf body's size limit once snappy-decompressed (MAX_BODY_BYTES): a bigger one is a 413. */
  maxBytes?: number;
};

export const LOKI_PUSH_PATH = "/loki/api/v1/push";

const USAGE =
  'send {"streams": [{"stream": {"label": "value"}, "values": [["<unix ns>", "<line>"]]}]} as application/json, or snappy-compressed protobuf as application/x-protobuf';

/** The records of a push body; throws 400 (malformed) or 413 (too big once snappy-decompressed). */
export function decodeLoki(body: Uint8Array, contentType: string, options: LokiDecodeOptions = {}): Decoded {
  const media = contentType.split(";", 1)[0].trim().toLowerCase();
  if (media === "application/json") return fromJson(body);
  return fromProtobuf(unsnappy(body, options.maxBytes, media));
}

/** What Loki answers to a push it took. */
export function lokiResponse(): Response {
  return new Response(null, { status: 204 });
}

// JSON.

const utf8 = new TextDecoder();

function fromJson(bytes: Uint8Array): Decoded {
  let body: unknown;
  try {
    body = JSON.parse(utf8.decode(bytes));
  } catch (error) {
    const reason = error instanceof SyntaxError ? error.message : "nested too deeply";
    throw new BadRequestError(`body is not valid JSON (${reason}): ${USAGE}`);
  }
  if (!isObject(body) || !Array.isArray(body.streams)) throw new BadRequestError(`streams must be an array: ${USAGE}`);
  const records: LogRecord[] = [];
  for (const [s, stream] of body.streams.entries()) {
    const at = `streams[${s}]`;
    if (!isObject(stream)) throw new BadRequestError(`${at} must be an object: ${USAGE}`);
    const labels = stringMap(stream.stream ?? {}, `${at}.stream`);
    if (!Array.isArray(stream.values)) throw new BadRequestError(`${at}.values must be an array: ${USAGE}`);
    for (const [v, value] of stream.values.entries()) {
      const where = `${at}.values[${v}]`;
      if (!Array.isArray(value) || value.length < 2 || value.length > 3) {
        throw new BadRequestError(`${where} must be ["<unix ns>", "<line>"] or ["<unix ns>", "<line>", {metadata}]`);
      }
      const [ts, line, metadata] = value;
      if (typeof ts !== "string" || !/^\d{1,19}$/.test(ts)) {
        throw new BadRequestError(`${where}[0] must be the time in nanoseconds since 1970 as a string of digits`);
      }
      if (typeof line !== "string") throw new BadRequestError(`${where}[1] must be the log line, a string`);
      const fields = metadata === undefined ? { ...labels } : { ...labels, ...stringMap(metadata, `${where}[2]`) };
      fields.time = isoTime(BigInt(ts));
      records.push({ message: line, fields });
    }
  }
  return { records };
}

/** Labels or structured metadata: an object of strings (numbers taken as their text, as Loki does). */
function stringMap(value: unknown, at: string): Record<string, string> {
  if (!isObject(value)) throw new BadRequestError(`${at} must be an object of strings`);
  const map: Record<string, string> = {};
  for (const key in value) {
    const v = value[key];
    if (typeof v === "string") map[key] = v;
    else if (typeof v === "number") map[key] = String(v);
    else throw new BadRequestError(`${at}.${key} must be a string`);
  }
  return map;
}

// Protobuf.

function unsnappy(body: Uint8Array, maxBytes: number | undefined, media: string): Uint8Array {
  try {
    return decodeSnappy(body, maxBytes);
  } catch (error) {
    if (error instanceof PayloadTooLargeError) throw error;
    const hint =
      body[0] === 0x7b && media !== "application/x-protobuf"
        ? ` (it looks like JSON: send Content-Type: application/json)`
        : "";
    throw new BadRequestError(`body is not snappy-compressed protobuf${hint}: ${USAGE}`);
  }
}

type Timestamp = { seconds?: number | { toString(): string }; nanos?: number };
type PushRequest = {
  streams: { labels: string; entries: { timestamp?: Timestamp | null; line: string; structuredMetadata: Pair[] }[] }[];
};
type Pair = { name: string; value: string };

function fromProtobuf(bytes: Uint8Array): Decoded {
  let request: PushRequest;
  try {
    request = pushRequest().decode(bytes) as unknown as PushRequest;
  } catch (error) {
    throw new BadRequestError(`body is not a protobuf PushRequest (${(error as Error).message}): ${USAGE}`);
  }
  const records: LogRecord[] = [];
  for (const [s, stream] of request.streams.entries()) {
    const labels = parseLabels(stream.labels, `streams[${s}].labels`);
    for (const entry of stream.entries) {
      const fields: Record<string, string> = { ...labels };
      for (const { name, value } of entry.structuredMetadata) fields[name] = value;
      const ns = nanosOf(entry.timestamp);
      if (ns !== 0n) fields.time = isoTime(ns);
      records.push({ message: entry.line, fields });
    }
  }
  return { records };
}

function nanosOf(ts: Timestamp | null | undefined): bigint {
  if (!ts) return 0n;
  const ns = BigInt(String(ts.seconds ?? 0)) * 1_000_000_000n + BigInt(ts.nanos ?? 0);
  if (ns < 0n || ns >= MAX_NANOS) throw new BadRequestError(`entry timestamp ${ns} ns is not between 1970 and 2286`);
  return ns;
}

/** 19 digits of nanoseconds, as the JSON form allows: up to the year 2286. */
const MAX_NANOS = 10_000_000_000_000_000_000n;

let pushType: protobuf.Type | undefined;

/** logproto.PushRequest, parsed once on first use from Loki's push.proto. */
function pushRequest(): protobuf.Type {
  if (pushType) return pushType;
  const root = new protobuf.Root();
  // push.proto imports gogoproto only for Go code generation options, which protobufjs keeps as
  // uninterpreted options; google.protobuf.Timestamp comes with protobufjs.
  root.addJSON(protobuf.common.get("google/protobuf/timestamp.proto")!.nested!);
  protobuf.parse(readFileSync(`${import.meta.dir}/loki-proto/push.proto`, "utf8"), root);
  root.resolveAll();
  pushType = root.lookupType("logproto.PushRequest");
  return pushType;
}

// Prometheus label sets, as Promtail and Alloy write a stream's labels: {name="value", ...}, the
// values quoted as Go does (strconv.Quote: \" \\ \n \t \xHH \u... escapes), names plain or quoted.

/** The labels of `{a="b", c="d"}`; a 400 naming `at` for anything else. */
export function parseLabels(text: string, at = "labels"): Record<string, string> {
  const labels: Record<string, string> = {};
  let i = 0;
  const fail = (what: string): never => {
    throw new BadRequestError(
      `${at} ${JSON.stringify(text.slice(0, 200))}: ${what} at offset ${i}; write labels as {name="value", ...}`,
    );
  };
  const space = () => {
    while (i < text.length && (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r")) i++;
  };
  const expect = (char: string) => {
    space();
    if (text[i] !== char) fail(`expected ${char}`);
    i++;
  };
  const name = (): string => {
    space();
    if (text[i] === '"' || text[i] === "`") return quoted();
    const start = i;
    if (!/[A-Za-z_]/.test(text[i] ?? "")) fail("expected a label name");
    while (i < text.length && /[A-Za-z0-9_]/.test(text[i])) i++;
    return text.slice(start, i);
  };
  const quoted = (): string => {
    const quote = text[i++];
    if (quote === "`") {
      const end = text.indexOf("`", i);
      if (end < 0) fail("unterminated `");
      const raw = text.slice(i, end);
      i = end + 1;
      return raw;
    }
    const bytes: number[] = [];
    for (;;) {
      if (i >= text.length) fail("unterminated string");
      const c = text.charCodeAt(i);
      if (c === 0x22) break; // "
      if (c === 0x0a) fail("newline in string");
      if (c !== 0x5c) {
        const cp = text.codePointAt(i)!;
        pushUtf8(bytes, cp);
        i += cp > 0xffff ? 2 : 1;
        continue;
      }
      const e = text[i + 1];
      i += 2;
      const simple = GO_ESCAPES[e];
      if (simple !== undefined) bytes.push(simple);
      else if (e === "x") bytes.push(hex(2));
      else if (e === "u") pushUtf8(bytes, hex(4));
      else if (e === "U") pushUtf8(bytes, hex(8));
      else if (e >= "0" && e <= "7") {
        const digits = text.slice(i - 1, i + 2);
        if (!/^[0-7]{3}$/.test(digits) || Number.parseInt(digits, 8) > 255) fail("bad octal escape");
        bytes.push(Number.parseInt(digits, 8));
        i += 2;
      } else fail(`unknown escape \\${e ?? ""}`);
    }
    i++; // the closing quote
    return utf8.decode(new Uint8Array(bytes));
  };
  const hex = (n: number): number => {
    const digits = text.slice(i, i + n);
    if (digits.length !== n || !/^[0-9a-fA-F]+$/.test(digits)) fail(`expected ${n} hex digits`);
    i += n;
    const value = Number.parseInt(digits, 16);
    if (n > 2 && (value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff))) fail("escape is not a Unicode character");
    return value;
  };

  expect("{");
  space();
  while (text[i] !== "}") {
    const key = name();
    expect("=");
    space();
    if (text[i] !== '"' && text[i] !== "`") fail("expected a quoted value");
    const value = quoted();
    if (Object.hasOwn(labels, key)) fail(`label ${key} given twice`);
    labels[key] = value;
    space();
    if (text[i] === ",") {
      i++;
      space();
    } else if (text[i] !== "}") fail("expected , or }");
  }
  i++;
  space();
  if (i !== text.length) fail("unexpected text after }");
  return labels;
}

const GO_ESCAPES: Record<string, number | undefined> = {
  a: 0x07,
  b: 0x08,
  f: 0x0c,
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  v: 0x0b,
  "\\": 0x5c,
  '"': 0x22,
  "'": 0x27,
};

function pushUtf8(bytes: number[], cp: number): void {
  if (cp < 0x80) bytes.push(cp);
  else if (cp < 0x800) bytes.push(0xc0 | (cp >> 6), 0x80 | (cp & 0x3f));
  else if (cp < 0x10000) bytes.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
  else bytes.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 0x3f), 0x80 | ((cp >> 6) & 0x3f), 0x80 | (cp & 0x3f));
}

/** Nanoseconds since the epoch as ISO 8601 with all nine digits. */
function isoTime(ns: bigint): string {
  const seconds = new Date(Number(ns / 1_000_000_000n) * 1000).toISOString().slice(0, -5); // drops ".000Z"
  return `${seconds}.${String(ns % 1_000_000_000n).padStart(9, "0")}Z`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
