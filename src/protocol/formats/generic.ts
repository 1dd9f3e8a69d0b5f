// POST /analyze's bodies, on the distributor and the analyzer alike: our own {"log": "<line>"} and
// {"logs": [...]}, and what log agents send to a plain HTTP endpoint. The Content-Type is only a
// hint, since agents often send a wrong one (syslog-ng's http() and curl -d say form-urlencoded):
// - MessagePack (Fluent Bit's default): a msgpack Content-Type, or a body opening a msgpack array.
// - JSON: a JSON Content-Type (json, *+json, ndjson, jsonl), or a body starting with `{` or `[{`.
//   It must parse, as one value or as values one after another: NDJSON (Vector, Fluent Bit
//   json_lines) or json_stream (objects back to back or apart by whitespace).
// - Any other body starting with `"` or `[` is JSON if it reads as JSON messages, and text
//   otherwise, as lines like `[2026-11-24 10:00:00] ERROR ...` and `"GET / HTTP/1.1" 200` are common.
// - A multipart form is refused (415): its parts are not messages.
// - Anything else is text: one message per line (\n or \r\n). An empty line is not a message, as
//   text cannot tell an empty message from a blank line; text must be UTF-8 without NUL bytes.
// In JSON every value is a message: a string (an empty one too: it is an agent's empty line), or
// an object whose message is the first string among MESSAGE_KEYS, its other fields going with it.
// An object with `logs` is our packet and holds nothing else. A value of another kind, or an
// object without a message, refuses the whole body with a 400 naming it.

import { BadRequestError, HttpError } from "../../http/errors.ts";
import {
  type Decoded,
  type LogFields,
  type LogRecord,
  MESSAGE_KEYS,
  type RawLine,
  recordFromObject,
} from "../record.ts";
import { decodeMsgpack, MSGPACK_TYPES, startsWithMsgpackArray } from "./msgpack.ts";

/**
 * `single`: the body was one JSON object or string, answered with one result instead of a list.
 * `ours`: our own {"log"} or {"logs"}, not an agent's body (the answer's default differs: answersMinimal).
 * `ids`: a packet's message ids ({"logs", "ids"}, src/protocol/batch.ts), which analyzers drop repeats by.
 */
export type GenericDecoded = Decoded & { single: boolean; ours?: true; ids?: (string | null)[] };

export const USAGE =
  'send {"log": "<line>"}, {"logs": ["<line>", ...]}, JSON objects with a "message" (an array, NDJSON or back to back), or text lines';

type ContentKind = "msgpack" | "json" | "ndjson" | "multipart" | "other";

// Agents send the same few Content-Types over and over: each is classified once.
const kinds = new Map<string, ContentKind>();
function typeOf(contentType: string): ContentKind {
  let kind = kinds.get(contentType);
  if (kind === undefined) {
    if (kinds.size >= 100) kinds.clear(); // the header is the client's: keep the memo bounded
    kind = MULTIPART.test(contentType)
      ? "multipart"
      : MSGPACK_TYPES.test(contentType)
        ? "msgpack"
        : NDJSON_TYPES.test(contentType)
          ? "ndjson"
          : JSON_TYPES.test(contentType)
            ? "json"
            : "other";
    kinds.set(contentType, kind);
  }
  return kind;
}

const JSON_TYPES =
  /^\s*application\/(?:[\w.-]+\+json|json|x-ndjson|ndjson|jsonl|x-jsonl|jsonlines|x-jsonlines)\s*(?:;|$)/i;
const MULTIPART = /^\s*multipart\//i;
const NDJSON_TYPES = /^\s*application\/(?:x-ndjson|ndjson|jsonl|x-jsonl|jsonlines|x-jsonlines)\s*(?:;|$)/i;

// As Request.text() decodes: invalid bytes become U+FFFD, a byte order mark is dropped.
const utf8 = new TextDecoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

export function decodeGeneric(body: Uint8Array, contentType: string): GenericDecoded {
  const type = typeOf(contentType);
  if (type === "multipart") {
    throw new HttpError(415, `multipart bodies are not read: send the messages as the body itself: ${USAGE}`);
  }
  if (type === "msgpack" || startsWithMsgpackArray(body)) {
    return { records: decodeMsgpack(body), single: false };
  }
  const text = utf8.decode(body);
  const start = firstNonBlank(text);
  if (start === -1) throw new BadRequestError(`empty body: ${USAGE}`);
  const first = text.charCodeAt(start);
  const objects =
    first === OPEN_BRACE || (first === OPEN_BRACKET && text.charCodeAt(skipBlank(text, start + 1)) === OPEN_BRACE);
  if (objects || type === "json" || type === "ndjson") {
    const parsed = parseJson(text, type === "ndjson");
    if ("error" in parsed) throw new BadRequestError(`body is not valid JSON (${parsed.error}): ${USAGE}`);
    return fromValues(parsed.values, parsed.one);
  }
  if (first === QUOTE || first === OPEN_BRACKET) {
    // JSON if it reads as messages; otherwise a text line that happens to start like JSON.
    const parsed = parseJson(text, false);
    if (!("error" in parsed)) {
      try {
        return fromValues(parsed.values, parsed.one);
      } catch (error) {
        if (!(error instanceof BadRequestError)) throw error;
      }
    }
  }
  return fromText(text, body);
}

/**
 * An NDJSON body (by its Content-Type) as its lines, unparsed and undecoded, for the distributor to
 * route as they are: no JSON.parse per message on its side, the analyzer reads each line
 * (recordOfLine). Blank lines are skipped, blanks around a line (a trailing \r) dropped. Undefined,
 * so that decodeGeneric reads the body the usual way, unless every line looks like one object
 * (`{` to `}`): a body whose objects span lines or sit back to back keeps being read whole.
 */
export function ndjsonLines(body: Uint8Array, contentType: string): RawLine[] | undefined {
  if (typeOf(contentType) !== "ndjson" || startsWithMsgpackArray(body)) return undefined;
  const lines: RawLine[] = [];
  let from = 0;
  while (from < body.length) {
    let to = body.indexOf(LINE_FEED, from);
    if (to === -1) to = body.length;
    const next = to + 1;
    while (to > from && isBlank(body[to - 1]!)) to--;
    while (from < to && isBlank(body[from]!)) from++;
    if (from < to) {
      if (body[from] !== OPEN_BRACE || body[to - 1] !== CLOSE_BRACE) return undefined;
      lines.push({ body, start: from, end: to });
    }
    from = next;
  }
  return lines.length > 0 ? lines : undefined;
}

/**
 * One line of the distributor's NDJSON batch (src/protocol/batch.ts) as a record, read as a value of
 * an NDJSON body is; a line that is not JSON or holds no message is refused on its own: its reason.
 */
export function recordOfLine(line: string): LogRecord | { rejected: string } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (e) {
    return { rejected: `not valid JSON (${reason(e)})` };
  }
  try {
    return recordOf(value, "the line");
  } catch (error) {
    if (error instanceof BadRequestError) return { rejected: error.message };
    throw error;
  }
}

// ---------------------------------------------------------------------------------------------
// JSON

const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const QUOTE = 34;
const LINE_FEED = 10;
const BACKSLASH = 92;

type Parsed = { values: unknown[]; one: boolean } | { error: string };

/**
 * The body as one JSON value, or as values one after another. Each try is one native JSON.parse:
 * the whole body, then (NDJSON) its lines joined into an array, then each value the scanner finds;
 * `linesFirst` skips the first when the Content-Type says NDJSON.
 */
function parseJson(text: string, linesFirst: boolean): Parsed {
  let error = "";
  if (!linesFirst) {
    try {
      return { values: [JSON.parse(text)], one: true };
    } catch (e) {
      error = reason(e);
    }
  }
  // NDJSON: a line break cannot occur inside a JSON string, so each line is whole values.
  const lines = text.split("\n").filter((line) => firstNonBlank(line) !== -1);
  if (lines.length > 1 || linesFirst) {
    try {
      const values = JSON.parse(`[${lines.join(",")}]`) as unknown[];
      // A line like `{"a":1},{"b":2}` would count twice: let the scanner refuse it.
      if (values.length === lines.length) return { values, one: values.length === 1 && !linesFirst };
    } catch {
      // not NDJSON: values may be back to back, or span lines
    }
  }
  const spans = splitValues(text);
  if (spans.length <= 1 && error !== "") return { error };
  const values: unknown[] = [];
  for (const [from, to] of spans) {
    try {
      values.push(JSON.parse(text.slice(from, to)));
    } catch (e) {
      return { error: `value ${values.length + 1}, line ${lineOf(text, from)}: ${reason(e)}` };
    }
  }
  return { values, one: values.length === 1 && !linesFirst };
}

/**
 * Where each top-level value starts and ends, by brackets and strings alone: `{"a":1}{"a":2}`,
 * `{"a":1} {"a":2}`, or an object printed over several lines. JSON.parse then judges each one.
 */
function splitValues(text: string): [number, number][] {
  const spans: [number, number][] = [];
  let i = 0;
  for (;;) {
    i = skipBlank(text, i);
    if (i === text.length) return spans;
    const start = i;
    let depth = 0;
    do {
      const c = text.charCodeAt(i);
      if (c === QUOTE) i = stringEnd(text, i);
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
      i++;
    } while (i < text.length && depth > 0);
    // A bare word (a number, true, ...) runs to the next blank or bracket.
    if (depth === 0 && !isOpening(text.charCodeAt(start))) {
      while (i < text.length && !isBlank(text.charCodeAt(i)) && !isOpening(text.charCodeAt(i))) i++;
    }
    spans.push([start, i]);
  }
}

/** The index of the quote closing the string that opens at `i` (the last index if it is not closed). */
function stringEnd(text: string, i: number): number {
  for (i++; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === BACKSLASH) i++;
    else if (c === QUOTE) return i;
  }
  return text.length - 1;
}

function isOpening(c: number): boolean {
  return c === OPEN_BRACE || c === OPEN_BRACKET || c === QUOTE;
}

function reason(error: unknown): string {
  // Deeply nested input can exhaust the parser's stack: still the client's malformed body.
  return error instanceof SyntaxError ? error.message : "nested too deeply";
}

function fromValues(values: unknown[], one: boolean): GenericDecoded {
  if (!one) return { records: values.map((v, i) => recordOf(v, `value ${i + 1}`)), single: false };
  const value = values[0];
  // Fast path: {"log": "<line>"}, the most common body of all.
  if (isObject(value) && typeof value.log === "string" && hasOneKey(value)) {
    return { records: [value.log], single: true, ours: true };
  }
  if (Array.isArray(value)) {
    if (value.length === 0) throw new BadRequestError(`an empty array holds no message: ${USAGE}`);
    return { records: value.map((v, i) => recordOf(v, `[${i}]`)), single: false };
  }
  if (isObject(value) && "logs" in value) return packet(value);
  if (typeof value === "string" || isObject(value)) return { records: [recordOf(value, "")], single: true };
  throw new BadRequestError(`body must be JSON objects or strings, got ${kind(value)}: ${USAGE}`);
}

/** {"logs": [...]}, with "ids" beside it or nothing, and at least one message in it. */
function packet(body: Record<string, unknown>): GenericDecoded {
  const extra = Object.keys(body).filter((k) => k !== "logs" && k !== "ids");
  if (extra.length > 0) throw new BadRequestError(`unknown field(s): ${extra.join(", ")}: ${USAGE}`);
  const logs = body.logs;
  if (!Array.isArray(logs)) throw new BadRequestError(`logs must be an array of log lines: ${USAGE}`);
  if (logs.length === 0) throw new BadRequestError(`logs must hold at least one log line: ${USAGE}`);
  const ids = body.ids;
  if (ids !== undefined) {
    const ok =
      Array.isArray(ids) && ids.length === logs.length && ids.every((id) => id === null || typeof id === "string");
    if (!ok) throw new BadRequestError(`ids must be an array of strings (or null), one per message in logs`);
  }
  // Fast path: a packet of lines is its own records.
  const records = logs.every((l) => typeof l === "string") ? logs : logs.map((l, i) => recordOf(l, `logs.${i}`));
  return ids === undefined
    ? { records, single: false, ours: true }
    : { records, single: false, ours: true, ids: ids as (string | null)[] };
}

/** One JSON value as a record; `where` names it in the 400 when it is not one. */
function recordOf(value: unknown, where: string): LogRecord {
  if (typeof value === "string") return value;
  if (isObject(value)) {
    // Our own record form, as the distributor forwards it: kept, not read as an agent's object.
    if (typeof value.message === "string" && isObject(value.fields) && Object.keys(value).length === 2) {
      return { message: value.message, fields: value.fields as LogFields };
    }
    const record = recordFromObject(value);
    if (record !== undefined) return record;
    const at = where === "" ? "" : `${where}.`;
    const key = MESSAGE_KEYS.find((k) => Object.hasOwn(value, k));
    if (key !== undefined) throw new BadRequestError(`${at}${key} must be a string: ${USAGE}`);
    throw new BadRequestError(
      `${where === "" ? "the object" : where} has no message: put it under one of ${MESSAGE_KEYS.join(", ")}: ${USAGE}`,
    );
  }
  throw new BadRequestError(`${where} must be a string or an object with a message, got ${kind(value)}: ${USAGE}`);
}

function hasOneKey(object: object): boolean {
  let n = 0;
  for (const _ in object) if (++n > 1) return false;
  return n === 1;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function kind(x: unknown): string {
  return x === null ? "null" : Array.isArray(x) ? "an array" : `a ${typeof x}`;
}

// ---------------------------------------------------------------------------------------------
// Text

function fromText(text: string, body: Uint8Array): GenericDecoded {
  if (text.includes("\uFFFD") && !isUtf8(body)) {
    throw new BadRequestError(`a text body must be UTF-8 (this one has invalid bytes): ${USAGE}`);
  }
  if (text.includes("\0")) throw new BadRequestError(`a text body cannot hold NUL bytes (is it binary?): ${USAGE}`);
  const records: string[] = [];
  for (const line of text.split("\n")) {
    const message = line.endsWith("\r") ? line.slice(0, -1) : line;
    if (message !== "") records.push(message);
  }
  return { records, single: false };
}

function isUtf8(body: Uint8Array): boolean {
  try {
    strictUtf8.decode(body);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------

// JSON's whitespace: space, tab, line feed, carriage return.
function isBlank(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

function skipBlank(text: string, i: number): number {
  while (i < text.length && isBlank(text.charCodeAt(i))) i++;
  return i;
}

function firstNonBlank(text: string): number {
  const i = skipBlank(text, 0);
  return i === text.length ? -1 : i;
}

function lineOf(text: string, index: number): number {
  let line = 1;
  for (let i = text.indexOf("\n"); i !== -1 && i < index; i = text.indexOf("\n", i + 1)) line++;
  return line;
}
