import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import protobuf from "protobufjs";
import { compress } from "snappyjs";
import { BadRequestError, HttpError, PayloadTooLargeError } from "../../http/errors.ts";
import { messageOf } from "../record.ts";
import { decodeLoki, lokiResponse, parseLabels } from "./loki.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const json = (value: unknown) => bytes(JSON.stringify(value));

function thrown(run: () => unknown): HttpError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    return error as HttpError;
  }
  throw new Error("expected an HttpError");
}

// A snappy block of one literal, written by hand (format_description.txt in google/snappy): the
// length as a varint, then a literal tag, so these tests do not rest on snappyjs' compressor alone.
function snappyLiteral(data: Uint8Array): Uint8Array {
  if (data.length === 0 || data.length > 256) throw new RangeError(`1 to 256 bytes, got ${data.length}`);
  const tag = data.length <= 60 ? [(data.length - 1) << 2] : [60 << 2, data.length - 1];
  const varint = data.length < 128 ? [data.length] : [(data.length & 0x7f) | 0x80, data.length >> 7];
  return new Uint8Array([...varint, ...tag, ...data]);
}

// Loki's push.proto, encoded by a protobufjs of our own: what Promtail and Alloy send, field by field.
function promtailBody(request: unknown): Uint8Array {
  const root = protobuf.parse(`
    syntax = "proto3";
    package logproto;
    message PushRequest { repeated StreamAdapter streams = 1; }
    message StreamAdapter { string labels = 1; repeated EntryAdapter entries = 2; uint64 hash = 3; }
    message LabelPairAdapter { string name = 1; string value = 2; }
    message Timestamp { int64 seconds = 1; int32 nanos = 2; }
    message EntryAdapter { Timestamp timestamp = 1; string line = 2; repeated LabelPairAdapter structuredMetadata = 3; }
  `).root;
  const type = root.lookupType("logproto.PushRequest");
  return compress(type.encode(type.fromObject(request as Record<string, unknown>)).finish());
}

describe("decodeLoki, JSON", () => {
  test("the push API's documented example: one record per value, labels and time as fields", () => {
    // Loki's HTTP API reference, POST /loki/api/v1/push, "Examples".
    const body = '{"streams": [{ "stream": { "foo": "bar2" }, "values": [ [ "1570818238000000000", "fizzbuzz" ] ] }]}';
    expect(decodeLoki(bytes(body), "application/json")).toEqual({
      records: [{ message: "fizzbuzz", fields: { foo: "bar2", time: "2019-10-11T18:23:58.000000000Z" } }],
    });
  });

  test("structured metadata, the optional third element, goes beside the labels", () => {
    const body = json({
      streams: [
        {
          stream: { job: "api", level: "info" },
          values: [
            ["1570818238000000001", "one", { trace_id: "0242ac120002", user_id: "superUser123" }],
            ["1570818238000000002", "two"],
          ],
        },
        { stream: { job: "db" }, values: [["1570818238123456789", "three", { attempt: 3 }]] },
      ],
    });
    expect(decodeLoki(body, "application/json; charset=utf-8").records).toEqual([
      {
        message: "one",
        fields: {
          job: "api",
          level: "info",
          trace_id: "0242ac120002",
          user_id: "superUser123",
          time: "2019-10-11T18:23:58.000000001Z",
        },
      },
      { message: "two", fields: { job: "api", level: "info", time: "2019-10-11T18:23:58.000000002Z" } },
      { message: "three", fields: { job: "db", attempt: "3", time: "2019-10-11T18:23:58.123456789Z" } },
    ]);
  });

  test("pino-loki 3.0.0's body: one stream per log, the line the pino object's JSON, an empty line kept", () => {
    // LogBuilder.build() and LogPusher.push() in pino-loki's dist/index.mjs.
    const line = JSON.stringify({ level: 30, time: 1764493200123, pid: 7, msg: 'say "hi" \\ é' });
    const body = json({
      streams: [
        { stream: { level: "info", hostname: "web-1" }, values: [["1764493200123000000", line]] },
        { stream: { level: "info", hostname: "web-1" }, values: [["1764493200124000000", ""]] },
      ],
    });
    const { records } = decodeLoki(body, "application/json");
    expect(records.map(messageOf)).toEqual([line, ""]);
  });

  test("no streams is no records", () => {
    expect(decodeLoki(bytes('{"streams":[]}'), "application/json").records).toEqual([]);
  });

  test.each([
    ["{", "body is not valid JSON"],
    ["[]", "streams must be an array"],
    ['{"streams":{}}', "streams must be an array"],
    ['{"streams":[1]}', "streams[0] must be an object"],
    ['{"streams":[{"stream":{"a":"b"}}]}', "streams[0].values must be an array"],
    ['{"streams":[{"stream":{"a":["b"]},"values":[]}]}', "streams[0].stream.a must be a string"],
    ['{"streams":[{"stream":"a","values":[]}]}', "streams[0].stream must be an object of strings"],
    ['{"streams":[{"stream":{},"values":[["1"]]}]}', 'streams[0].values[0] must be ["<unix ns>", "<line>"]'],
    ['{"streams":[{"stream":{},"values":[[1,"x"]]}]}', "streams[0].values[0][0] must be the time in nanoseconds"],
    ['{"streams":[{"stream":{},"values":[["-1","x"]]}]}', "streams[0].values[0][0] must be the time in nanoseconds"],
    ['{"streams":[{"stream":{},"values":[["12345678901234567890","x"]]}]}', "streams[0].values[0][0] must be"],
    ['{"streams":[{"stream":{},"values":[["1",{"msg":"x"}]]}]}', "streams[0].values[0][1] must be the log line"],
    ['{"streams":[{"stream":{},"values":[["1","x",["m"]]]}]}', "streams[0].values[0][2] must be an object of strings"],
  ])("%s is a 400: %s", (body, reason) => {
    const error = thrown(() => decodeLoki(bytes(body), "application/json"));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error.message).toStartWith(reason);
  });
});

describe("decodeLoki, snappy protobuf", () => {
  test("a PushRequest written byte by byte in a hand-made snappy block", () => {
    // PushRequest{streams: [{labels: '{a="b"}', entries: [{timestamp: {seconds: 1, nanos: 2}, line: "x"}]}]}
    const labels = [...bytes('{a="b"}')];
    const entry = [0x0a, 0x04, 0x08, 0x01, 0x10, 0x02, 0x12, 0x01, 0x78];
    const stream = [0x0a, labels.length, ...labels, 0x12, entry.length, ...entry];
    const body = snappyLiteral(new Uint8Array([0x0a, stream.length, ...stream]));
    expect(decodeLoki(body, "application/x-protobuf")).toEqual({
      records: [{ message: "x", fields: { a: "b", time: "1970-01-01T00:00:01.000000002Z" } }],
    });
  });

  test("Promtail's shape: several streams and entries, structured metadata, no Content-Type at all", () => {
    const body = promtailBody({
      streams: [
        {
          labels: '{filename="/var/log/app.log", job="varlogs"}',
          hash: 42,
          entries: [
            { timestamp: { seconds: 1764493200, nanos: 5 }, line: 'GET /a "ok" é' },
            {
              timestamp: { seconds: 1764493201, nanos: 0 },
              line: "",
              structuredMetadata: [{ name: "trace_id", value: "abc" }],
            },
          ],
        },
        { labels: "{}", entries: [{ timestamp: { seconds: 1764493202 }, line: "no labels" }] },
        { labels: '{job="x"}', entries: [{ line: "no timestamp" }] },
      ],
    });
    const labels = { filename: "/var/log/app.log", job: "varlogs" };
    expect(decodeLoki(body, "").records).toEqual([
      { message: 'GET /a "ok" é', fields: { ...labels, time: "2025-11-30T09:00:00.000000005Z" } },
      { message: "", fields: { ...labels, trace_id: "abc", time: "2025-11-30T09:00:01.000000000Z" } },
      { message: "no labels", fields: { time: "2025-11-30T09:00:02.000000000Z" } },
      { message: "no timestamp", fields: { job: "x" } },
    ]);
    expect(decodeLoki(body, "application/x-protobuf").records).toHaveLength(4);
  });

  test("a body that is not snappy, or snappy around no PushRequest, is a 400; JSON without its type gets a hint", () => {
    const notSnappy = thrown(() => decodeLoki(bytes("\xff\xff\xff\xff\xff\xff"), "application/x-protobuf"));
    expect(notSnappy.message).toStartWith("body is not snappy-compressed protobuf: send");
    const jsonish = thrown(() => decodeLoki(json({ streams: [] }), "text/plain"));
    expect(jsonish.message).toStartWith(
      "body is not snappy-compressed protobuf (it looks like JSON: send Content-Type: application/json)",
    );
    const garbage = thrown(() => decodeLoki(snappyLiteral(new Uint8Array([0x0a, 0x7f, 1])), "application/x-protobuf"));
    expect(garbage).toBeInstanceOf(BadRequestError);
    expect(garbage.message).toStartWith("body is not a protobuf PushRequest (");
    const badLabels = thrown(() => decodeLoki(promtailBody({ streams: [{ labels: "a=b" }] }), ""));
    expect(badLabels.message).toStartWith('streams[0].labels "a=b": expected { at offset 0');
    const future = promtailBody({
      streams: [{ labels: "{}", entries: [{ timestamp: { seconds: 1e11 }, line: "x" }] }],
    });
    expect(thrown(() => decodeLoki(future, "")).message).toBe(
      "entry timestamp 100000000000000000000 ns is not between 1970 and 2286",
    );
  });

  test("a block whose stated length is over the limit is a 413 before it is inflated", () => {
    const body = promtailBody({ streams: [{ labels: "{}", entries: [{ line: "x".repeat(5000) }] }] });
    expect(thrown(() => decodeLoki(body, "", { maxBytes: 4000 }))).toBeInstanceOf(PayloadTooLargeError);
    expect(decodeLoki(body, "", { maxBytes: 6000 }).records).toHaveLength(1);
  });
});

describe("parseLabels", () => {
  test.each([
    ["{}", {}],
    [" { } ", {}],
    ['{job="varlogs"}', { job: "varlogs" }],
    ['{a="1", b="2",}', { a: "1", b: "2" }],
    ['{a = "1" ,b="2"}', { a: "1", b: "2" }],
    ['{_x9="", __name__="up"}', { _x9: "", __name__: "up" }],
    ['{"service.name"="api", `raw`=`a\\b"`}', { "service.name": "api", raw: 'a\\b"' }],
    // strconv.Quote's escapes: Go quotes every label value this way.
    ['{v="q\\"b\\\\n\\n\\t\\a\\b\\f\\r\\v"}', { v: 'q"b\\n\n\t\x07\b\f\r\v' }],
    ['{v="\\u00e9\\U0001F600\\xc3\\xa9\\303\\251é😀"}', { v: "é😀ééé😀" }],
    ['{v="\\xff"}', { v: "\uFFFD" }],
  ])("%s", (text, labels) => {
    expect(parseLabels(text)).toEqual(labels);
  });

  test.each([
    ["", "expected { at offset 0"],
    ['job="x"', "expected { at offset 0"],
    ["{", "expected a label name at offset 1"],
    ['{job="x"', "expected , or } at offset 8"],
    ["{job}", "expected = at offset 4"],
    ["{job=x}", "expected a quoted value at offset 5"],
    ['{9a="x"}', "expected a label name at offset 1"],
    ['{a="x" b="y"}', "expected , or } at offset 7"],
    ['{a="x"} extra', "unexpected text after } at offset 8"],
    ['{a="x", a="y"}', "label a given twice"],
    ['{a="x}', "unterminated string"],
    ['{a="\\q"}', "unknown escape \\q"],
    ['{a="\\x4"}', "expected 2 hex digits"],
    ['{a="\\uD800"}', "escape is not a Unicode character"],
    ['{a="\\400"}', "bad octal escape"],
    ['{a="line\nbreak"}', "newline in string"],
  ])("%j is refused: %s", (text, reason) => {
    const error = thrown(() => parseLabels(text, "labels"));
    expect(error).toBeInstanceOf(BadRequestError);
    expect(error.message).toContain(reason);
    expect(error.message).toEndWith('write labels as {name="value", ...}');
  });

  test("any value Go's strconv.Quote could write comes back", () => {
    // A JSON string's escapes are a subset of Go's, so JSON.stringify quotes as strconv.Quote may.
    fc.assert(
      fc.property(
        fc.dictionary(fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]*$/), fc.string({ unit: "grapheme" })),
        (labels) => {
          const text = `{${Object.entries(labels)
            .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
            .join(", ")}}`;
          expect(parseLabels(text)).toEqual(labels);
        },
      ),
    );
  });
});

test("the answer to a push is 204 No Content", async () => {
  const res = lokiResponse();
  expect(res.status).toBe(204);
  expect(await res.text()).toBe("");
});
