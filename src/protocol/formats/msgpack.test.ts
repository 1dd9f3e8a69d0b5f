// Fluent Bit's msgpack bodies, built with @msgpack/msgpack in the shapes its docs give: events
// [TIMESTAMP, MESSAGE] (before 2.1) and [[TIMESTAMP, METADATA], MESSAGE] (2.1 on), TIMESTAMP an
// integer, a float or the EventTime extension (type 0, seconds and nanoseconds as big-endian uint32).

import { describe, expect, test } from "bun:test";
import { ExtData, encode } from "@msgpack/msgpack";
import { BadRequestError } from "../../http/errors.ts";
import { decodeMsgpack, MSGPACK_TYPES, startsWithMsgpackArray } from "./msgpack.ts";

const concat = (...events: unknown[]) => {
  const parts = events.map((e) => encode(e));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

/** Fluent Bit's EventTime for `seconds` and `nanoseconds`. */
function eventTime(seconds: number, nanoseconds: number): ExtData {
  const data = new Uint8Array(8);
  const view = new DataView(data.buffer);
  view.setUint32(0, seconds);
  view.setUint32(4, nanoseconds);
  return new ExtData(0, data);
}

function refusal(body: Uint8Array): BadRequestError {
  try {
    decodeMsgpack(body);
  } catch (error) {
    if (error instanceof BadRequestError) return error;
    throw error;
  }
  throw new Error("expected a 400");
}

describe("Fluent Bit's events", () => {
  test.each([
    ["[integer, map] (before 2.1)", [1764013588, { log: "a" }], { message: "a", fields: { date: 1764013588 } }],
    ["[float, map]", [1764013588.25, { log: "a" }], { message: "a", fields: { date: 1764013588.25 } }],
    [
      "[EventTime, map]",
      [eventTime(1764013588, 500_000_000), { log: "a" }],
      { message: "a", fields: { date: 1764013588.5 } },
    ],
    [
      "[[EventTime, {}], map] (2.1 on)",
      [[eventTime(1764013588, 0), {}], { log: "a" }],
      { message: "a", fields: { date: 1764013588 } },
    ],
    [
      "[[time, metadata], map]: metadata goes with the fields",
      [[1764013588, { otlp: { severity_number: 9 } }], { message: "a", level: "info" }],
      { message: "a", fields: { level: "info", date: 1764013588, metadata: { otlp: { severity_number: 9 } } } },
    ],
    [
      "the record's own date is kept over the event's",
      [1764013588, { log: "a", date: "2026-11-24" }],
      { message: "a", fields: { date: "2026-11-24" } },
    ],
    ["a bare map", { log: "a", stream: "stdout" }, { message: "a", fields: { stream: "stdout" } }],
    ["a bare map with only its message", { log: "a" }, "a"],
  ])("%s", (_, event, record) => {
    expect(decodeMsgpack(encode(event))).toEqual([record]);
  });

  test("events back to back, as a chunk holds them, are the records in order", () => {
    const body = concat(
      [[eventTime(1, 0), {}], { log: "first", stream: "stdout" }],
      [[eventTime(2, 0), {}], { log: "" }],
      [[eventTime(3, 0), {}], { log: 'say "hi" \\o/ é' }],
    );
    expect(decodeMsgpack(body)).toEqual([
      { message: "first", fields: { stream: "stdout", date: 1 } },
      { message: "", fields: { date: 2 } },
      { message: 'say "hi" \\o/ é', fields: { date: 3 } },
    ]);
  });

  test("a chunk starts with an array header: sniffed without a Content-Type", () => {
    expect(startsWithMsgpackArray(encode([1, { log: "a" }]))).toBe(true);
    expect(startsWithMsgpackArray(encode([[1, {}], { log: "a" }]))).toBe(true);
    expect(startsWithMsgpackArray(new TextEncoder().encode('{"log":"a"}'))).toBe(false);
    expect(startsWithMsgpackArray(new Uint8Array())).toBe(false);
    // U+0700 is 0xdc 0x80 in UTF-8, and 0xdc opens an array16: text, not MessagePack.
    expect(startsWithMsgpackArray(new TextEncoder().encode("\u0700 text"))).toBe(false);
  });

  test.each([
    ["application/msgpack", true],
    ["application/x-msgpack", true],
    ["application/vnd.msgpack; charset=binary", true],
    ["application/json", false],
    ["application/msgpack-ish", false],
  ])("%p is MessagePack: %p", (type, want) => {
    expect(MSGPACK_TYPES.test(type)).toBe(want);
  });
});

describe("refused with a 400", () => {
  test.each([
    ["an empty body", new Uint8Array(), "empty body: no MessagePack event in it"],
    ["a truncated event", encode([1, { log: "a" }]).slice(0, -1), /^body is not valid MessagePack \(event 1: /],
    [
      "an event of three",
      encode([1, { log: "a" }, 3]),
      "MessagePack event 1: an event must be [timestamp, map], got an array of 3",
    ],
    ["a message that is not a map", encode([1, "a"]), "MessagePack event 1: an event's message must be a map"],
    [
      "a map without a message",
      concat([1, { log: "a" }], [2, { lvl: 1 }]),
      /^MessagePack event 2: no message: put it under one of log, message/,
    ],
    [
      "an EventTime of the wrong size",
      encode([new ExtData(0, new Uint8Array(4)), { log: "a" }]),
      /EventTime must be 8 bytes, got 4/,
    ],
  ])("%s", (_, body, message) => {
    const error = refusal(body);
    expect(error.status).toBe(400);
    if (typeof message === "string") expect(error.message).toBe(message);
    else expect(error.message).toMatch(message);
  });
});
