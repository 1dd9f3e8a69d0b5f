// The generic bodies of POST /analyze: which form a body is read as, the records it holds, and each
// refusal's reason. Agents' bodies are shaped as their docs and sources say they send them.

import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { BadRequestError } from "../../http/errors.ts";
import { rawText } from "../record.ts";
import { decodeGeneric, type GenericDecoded, ndjsonLines, recordOfLine, USAGE } from "./generic.ts";

const encoder = new TextEncoder();
const decode = (body: string | Uint8Array, contentType = "") =>
  decodeGeneric(typeof body === "string" ? encoder.encode(body) : body, contentType);

/** The 400 that decoding `body` throws, or a failure naming what came back instead. */
function refusal(body: string | Uint8Array, contentType = ""): BadRequestError {
  let result: GenericDecoded;
  try {
    result = decode(body, contentType);
  } catch (error) {
    if (error instanceof BadRequestError) return error;
    throw error;
  }
  throw new Error(`expected a 400, got ${JSON.stringify(result)}`);
}

describe("our own bodies, as before", () => {
  test.each([
    ['{"log":"a line"}', ["a line"], true],
    ['  {"log":"spaces around the JSON are fine"}\t\n', ["spaces around the JSON are fine"], true],
    ['{"logs":["a line"]}', ["a line"], false],
    ['{"logs":["a","b","c"]}', ["a", "b", "c"], false],
    ['{"logs":["\\u00e9\\n\\"quoted\\""]}', ['é\n"quoted"'], false],
  ])("%s holds %p (single: %p)", (body, records, single) => {
    expect(decode(body)).toEqual({ records, single, ours: true });
  });

  test("whatever the Content-Type says, as curl -d sends form-urlencoded", () => {
    for (const type of ["", "application/json", "text/plain", "application/x-www-form-urlencoded"]) {
      expect(decode('{"log":"a"}', type)).toEqual({ records: ["a"], single: true, ours: true });
    }
  });

  test("a packet of lines is its records as they are: no copy on the hot path", () => {
    const decoded = decode('{"logs":["a","b"]}');
    expect(decoded.records).toEqual(["a", "b"]);
  });
});

describe("agents' JSON", () => {
  test.each([
    // Fluent Bit `format json`: an array of objects, the time under json_date_key ("date").
    [
      "Fluent Bit json",
      '[{"date":1764013588.123,"log":"first","stream":"stdout"},{"date":1764013589.5,"log":"second"}]',
      "application/json",
      [
        { message: "first", fields: { date: 1764013588.123, stream: "stdout" } },
        { message: "second", fields: { date: 1764013589.5 } },
      ],
    ],
    // Fluent Bit `format json_lines` (application/x-ndjson since 1.9) and Vector's ndjson codec.
    [
      "NDJSON",
      '{"date":1.5,"log":"a"}\n{"timestamp":"2026-11-24T19:46:28Z","message":"b","host":"h"}\n',
      "application/x-ndjson",
      [
        { message: "a", fields: { date: 1.5 } },
        { message: "b", fields: { timestamp: "2026-11-24T19:46:28Z", host: "h" } },
      ],
    ],
    ["NDJSON with \\r\\n and blank lines", '{"msg":"a"}\r\n\r\n{"msg":"b"}\r\n', "", ["a", "b"]],
    // Fluent Bit `format json_stream`: plugins/out_http/http.c turns the array into objects apart by a space.
    ["json_stream, apart by spaces", '{"log":"a"} {"log":"b"}', "application/json", ["a", "b"]],
    ["json_stream, back to back", '{"log":"a"}{"log":"b"}{"log":"c"}', "", ["a", "b", "c"]],
    ["objects printed over several lines", '{\n  "log": "a"\n}\n{\n  "log": "b"\n}\n', "", ["a", "b"]],
    // Vector `codec json` with `framing array`, winston's Http transport with batching.
    [
      "an array of objects",
      '[{"message":"a","level":"info"},{"message":"b"}]',
      "",
      [{ message: "a", fields: { level: "info" } }, "b"],
    ],
    ["an array of strings", '["a","b"]', "application/json", ["a", "b"]],
    ["NDJSON of strings", '"a"\n"b"\n', "", ["a", "b"]],
  ])("%s", (_, body, contentType, records) => {
    expect(decode(body, contentType)).toEqual({ records, single: false });
  });

  test("a packet of objects is still ours", () => {
    expect(decode('{"logs":[{"msg":"a","pid":1},"b"]}')).toEqual({
      records: [{ message: "a", fields: { pid: 1 } }, "b"],
      single: false,
      ours: true,
    });
  });

  test.each([
    // winston's Http transport without batching: one object per request.
    [
      '{"level":"info","message":"started","service":"api"}',
      { message: "started", fields: { level: "info", service: "api" } },
    ],
    // pino: the message under msg, the level a number.
    [
      '{"level":30,"time":1764013588123,"pid":7,"msg":"hi"}',
      { message: "hi", fields: { level: 30, time: 1764013588123, pid: 7 } },
    ],
    ['{"log":"a","x":1}', { message: "a", fields: { x: 1 } }],
    ['"a JSON string"', "a JSON string"],
  ])("one object or string, %s, is a single record", (body, record) => {
    expect(decode(body)).toEqual({ records: [record], single: true });
  });

  test.each([
    ["log", { log: "1", message: "2", msg: "3", MESSAGE: "4", short_message: "5", body: "6" }, "1"],
    ["message", { message: "2", msg: "3", MESSAGE: "4", short_message: "5", body: "6" }, "2"],
    ["msg", { msg: "3", MESSAGE: "4", short_message: "5", body: "6" }, "3"],
    ["MESSAGE (journald)", { MESSAGE: "4", short_message: "5", body: "6" }, "4"],
    ["short_message (GELF)", { short_message: "5", body: "6" }, "5"],
    ["body", { body: "6" }, "6"],
    ["the first that is a string", { log: { nested: true }, message: "2" }, "2"],
  ])("the message is under %s", (_, object, message) => {
    const [record] = decode(JSON.stringify(object)).records;
    expect(typeof record === "string" ? record : record.message).toBe(message);
  });

  test("our own record form {message, fields} is kept as it is, so a forwarded record is not wrapped again", () => {
    const record = { message: "m", fields: { level: "warn", fields: { inner: 1 } } };
    expect(decode(JSON.stringify({ logs: [record] })).records).toEqual([record]);
  });

  test("an empty string is a message in JSON: an agent's empty line arrives as one", () => {
    expect(decode('{"log":""}').records).toEqual([""]);
    expect(decode('[{"log":""},{"log":"b"}]').records).toEqual(["", "b"]);
    expect(decode('{"logs":["a",""]}').records).toEqual(["a", ""]);
  });
});

describe("text", () => {
  test.each([
    ["one line", "hello", ["hello"]],
    ["lines ending in \\n", "a\nb\n", ["a", "b"]],
    ["\\r\\n line ends", "a\r\nb\r\n", ["a", "b"]],
    ["an empty line is not a message", "a\n\nb\n\n", ["a", "b"]],
    ["a line of spaces is one", "a\n  \nb", ["a", "  ", "b"]],
    ["quotes, backslashes and UTF-8 as they are", 'say "hi" \\o/ é 日本\n', ['say "hi" \\o/ é 日本']],
    ["a line that starts like a JSON string", '"GET / HTTP/1.1" 200 512\nnext', ['"GET / HTTP/1.1" 200 512', "next"]],
    [
      "a line that starts with a bracket",
      "[2026-11-24 10:00:00] ERROR x\n[core:warn] y",
      ["[2026-11-24 10:00:00] ERROR x", "[core:warn] y"],
    ],
    ["brackets that are not JSON messages", "[1, 2]", ["[1, 2]"]],
    ["key=value", "log=x", ["log=x"]],
    ["a number", "42", ["42"]],
    ["null", "null", ["null"]],
    ["a line in Syriac (its first byte, 0xdc, would open a MessagePack array16)", "\u0700 a\nb", ["\u0700 a", "b"]],
  ])("%s", (_, body, records) => {
    // syslog-ng's http() sends form-urlencoded unless told otherwise.
    expect(decode(body, "application/x-www-form-urlencoded")).toEqual({ records, single: false });
  });

  test("an 8 KB line is one message", () => {
    const line = "x".repeat(8192);
    expect(decode(`a\n${line}\nb`).records).toEqual(["a", line, "b"]);
  });
});

describe("MessagePack, by Content-Type or by its first byte", () => {
  // [1764013588, {"log": "a"}] as Fluent Bit's chunk holds it (see msgpack.test.ts for the forms).
  const event = Uint8Array.from([0x92, 0xce, 0x69, 0x24, 0xb6, 0x14, 0x81, 0xa3, ...encoder.encode("log"), 0xa1, 0x61]);

  test.each([["application/msgpack"], ["application/x-msgpack"], [""], ["application/x-www-form-urlencoded"]])(
    "%p",
    (contentType) => {
      expect(decode(event, contentType)).toEqual({
        records: [{ message: "a", fields: { date: 1764013588 } }],
        single: false,
      });
    },
  );
});

describe("refused with a 400 that says why", () => {
  test.each([
    ["an empty body", "", "", `empty body: ${USAGE}`],
    ["a body of whitespace", " \r\n\t ", "", `empty body: ${USAGE}`],
    ["truncated JSON", '{"log":"a', "", /^body is not valid JSON \(JSON Parse error: Unterminated string\): send/],
    ["invalid JSON", "{bad", "", /^body is not valid JSON \(JSON Parse error: .+\): send/],
    ["text sent as application/json", "hello", "application/json", /^body is not valid JSON/],
    [
      "a bad NDJSON line names its value and line",
      '{"log":"a"}\n{"log":"b"}\n{"log":}\n',
      "",
      /value 3, line 3: JSON Parse error/,
    ],
    [
      "objects apart by a comma",
      '{"log":"a"},{"log":"b"}',
      "",
      /value 2, line 1: JSON Parse error: Unexpected token ','/,
    ],
    [
      "an object nested too deeply",
      `{"log":${"[".repeat(1e6)}${"]".repeat(1e6)}}`,
      "",
      /nested too deeply|log must be a string/,
    ],
    [
      "an object without a message",
      '{"logz":["a"]}',
      "",
      `the object has no message: put it under one of log, message, msg, MESSAGE, short_message, body: ${USAGE}`,
    ],
    ["an empty object", "{}", "", /^the object has no message/],
    ["a log that is a number", '{"log":5}', "", `log must be a string: ${USAGE}`],
    ["a log that is null", '{"log":null}', "", `log must be a string: ${USAGE}`],
    ["a __proto__ key", '{"__proto__":{"log":"a"}}', "", /^the object has no message/],
    ["an empty array", "[]", "application/json", `an empty array holds no message: ${USAGE}`],
    [
      "an array holding a number",
      '[{"log":"a"},1]',
      "",
      `[1] must be a string or an object with a message, got a number: ${USAGE}`,
    ],
    ["an NDJSON value without a message", '{"log":"a"}\n{"lvl":1}\n', "", /^value 2 has no message/],
    [
      "an NDJSON value that is a number",
      '{"log":"a"}\n7\n',
      "",
      /^value 2 must be a string or an object with a message, got a number/,
    ],
    ["a JSON number as JSON", "42", "application/json", `body must be JSON objects or strings, got a number: ${USAGE}`],
    ["null as JSON", "null", "application/json", `body must be JSON objects or strings, got null: ${USAGE}`],
    // Our packet stays strict: a typo beside it is not a message with a field.
    ["log beside logs", '{"log":"a","logs":["b"]}', "", `unknown field(s): log: ${USAGE}`],
    ["logs that is a string", '{"logs":"a"}', "", `logs must be an array of log lines: ${USAGE}`],
    ["an empty packet", '{"logs":[]}', "", `logs must hold at least one log line: ${USAGE}`],
    [
      "a packet holding a number",
      '{"logs":["a",1]}',
      "",
      /^logs\.1 must be a string or an object with a message, got a number/,
    ],
    [
      "a packet holding an array",
      '{"logs":[["a"]]}',
      "",
      /^logs\.0 must be a string or an object with a message, got an array/,
    ],
  ])("%s", (_, body, contentType, message) => {
    const error = refusal(body, contentType);
    expect(error.status).toBe(400);
    if (typeof message === "string") expect(error.message).toBe(message);
    else expect(error.message).toMatch(message);
  });

  test.each([
    ["invalid UTF-8", Uint8Array.from([0x61, 0xff, 0x62]), /^a text body must be UTF-8/],
    ["a NUL byte", encoder.encode("a\0b"), /^a text body cannot hold NUL bytes/],
    ["a gzip body without its Content-Encoding", Bun.gzipSync(encoder.encode("hello")), /^a text body must be UTF-8/],
    ["a literal U+FFFD is text like any other", encoder.encode("a\uFFFDb"), null],
  ])("text: %s", (_, body, message) => {
    if (message === null) expect(decode(body).records).toEqual(["a\uFFFDb"]);
    else expect(refusal(body).message).toMatch(message);
  });

  test("a multipart form is a 415: its parts are not messages", () => {
    const body = '--b\r\nContent-Disposition: form-data; name="log"\r\n\r\nx\r\n--b--\r\n';
    let error: unknown;
    try {
      decode(body, "multipart/form-data; boundary=b");
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ status: 415, message: expect.stringMatching(/^multipart bodies are not read/) });
  });

  test("invalid UTF-8 inside a JSON string is read as U+FFFD, as before", () => {
    const body = Uint8Array.from([...encoder.encode('{"log":"'), 0xff, ...encoder.encode('"}')]);
    expect(decode(body).records).toEqual(["\uFFFD"]);
  });
});

describe("properties", () => {
  const line = fc.string({ unit: "grapheme", minLength: 1, maxLength: 40 }).filter((s) => !/[\r\n]/.test(s));

  test("any NDJSON of objects gives back each object's message and fields, in order", () => {
    const object = fc.record({ message: fc.string(), n: fc.integer(), tag: fc.string() });
    fc.assert(
      fc.property(fc.array(object, { minLength: 1, maxLength: 20 }), (objects) => {
        const body = objects.map((o) => JSON.stringify(o)).join("\n");
        expect(decode(body, "application/x-ndjson").records).toEqual(
          objects.map(({ message, ...fields }) => ({ message, fields })),
        );
        // The same objects back to back, and as an array, give the same records.
        expect(decode(objects.map((o) => JSON.stringify(o)).join("")).records).toEqual(
          decode(body, "application/x-ndjson").records,
        );
        expect(decode(JSON.stringify(objects)).records).toEqual(decode(body, "application/x-ndjson").records);
      }),
    );
  });

  test("text lines that start like neither JSON nor MessagePack come back exactly", () => {
    const textLine = line.filter((s) => !/^[\s{["]/.test(s) && !s.includes("\0") && !s.includes("\uFFFD"));
    fc.assert(
      fc.property(fc.array(textLine, { minLength: 1, maxLength: 20 }), fc.constantFrom("\n", "\r\n"), (lines, eol) => {
        expect(decode(lines.join(eol) + eol, "text/plain").records).toEqual(lines);
      }),
    );
  });

  test("no body makes the decoder throw anything but a 4xx", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 64 }),
          fc.json().map((s) => encoder.encode(s)),
        ),
        (body) => {
          try {
            decode(body);
          } catch (error) {
            expect(error).toBeInstanceOf(BadRequestError);
          }
        },
      ),
    );
  });
});

describe("ndjsonLines: an NDJSON body's lines for the distributor, unparsed", () => {
  const lines = (body: string, contentType = "application/x-ndjson") =>
    ndjsonLines(encoder.encode(body), contentType)?.map((l) => rawText(l));

  test("each object line as it came; blank lines skipped, blanks around a line and \\r dropped", () => {
    expect(lines('{"msg":"a"}\r\n\r\n  {"msg":"é"} \n{"x":}\n')).toEqual(['{"msg":"a"}', '{"msg":"é"}', '{"x":}']);
    expect(lines('{"msg":"a"}', "application/jsonl; charset=utf-8")).toEqual(['{"msg":"a"}']);
  });

  test.each([
    ["a JSON Content-Type", '{"msg":"a"}\n', "application/json"],
    ["no Content-Type", '{"msg":"a"}\n', ""],
    ["an object over several lines", '{"msg":\n"a"}\n', "application/x-ndjson"],
    ["a line of strings", '"a"\n', "application/x-ndjson"],
    ["blank lines only", "\n \n", "application/x-ndjson"],
  ])("is undefined for %s: the body is read whole", (_, body, contentType) => {
    expect(lines(body, contentType)).toBeUndefined();
  });
});

describe("recordOfLine: a line of the distributor's NDJSON batch", () => {
  test.each([
    ['{"message":"a","level":"warn"}', { message: "a", fields: { level: "warn" } }],
    ['{"log":"a"}', "a"],
    ['"a string"', "a string"],
    ['{"message":"m","fields":{"level":"error"}}', { message: "m", fields: { level: "error" } }],
  ])("%s is a record", (line, record) => {
    expect(recordOfLine(line)).toEqual(record);
  });

  test.each([
    ['{"message":', /^not valid JSON \(JSON Parse error/],
    ['{"lvl":1}', /^the line has no message: put it under one of log, message/],
    ['{"msg":1}', /^the line\.msg must be a string/],
    ["42", /^the line must be a string or an object with a message, got a number/],
  ])("%s is refused alone, with its reason", (line, reason) => {
    const r = recordOfLine(line);
    expect(typeof r === "object" && "rejected" in r ? r.rejected : "").toMatch(reason);
  });
});
