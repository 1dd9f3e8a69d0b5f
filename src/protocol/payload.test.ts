import { afterEach, describe, expect, spyOn, test } from "bun:test";
import fc from "fast-check";
import { BadRequestError } from "../http/errors.ts";
import type { BodyIssue } from "./error.ts";
import { createPayloadParser } from "./payload.ts";

const MAX_PACKET = 3;
const parsePayload = createPayloadParser(MAX_PACKET);
const USAGE = 'send {"log": "<line>"} or {"logs": ["<line>", ...]}';

/** The 400 that parsing `text` throws, or a failure naming what came back instead. */
function refusal(text: string, parse = parsePayload): BadRequestError {
  let result: unknown;
  try {
    result = parse(text);
  } catch (error) {
    if (error instanceof BadRequestError) return error;
    throw error;
  }
  throw new Error(`expected a 400 for ${text}, got ${JSON.stringify(result)}`);
}

describe("a well-formed body", () => {
  test.each([
    ['{"log":"a line"}', { logs: ["a line"], packet: false }],
    ['{"logs":["a line"]}', { logs: ["a line"], packet: true }],
    ['{"logs":["a","b","c"]}', { logs: ["a", "b", "c"], packet: true }],
    ['  {"log":"spaces around the JSON are fine"}\t', { logs: ["spaces around the JSON are fine"], packet: false }],
    ['{"log":" "}', { logs: [" "], packet: false }],
    ['{"logs":["\\u00e9\\n\\"quoted\\""]}', { logs: ['é\n"quoted"'], packet: true }],
  ])("%s is read as its lines, single or packet", (text, payload) => {
    expect(parsePayload(text)).toEqual(payload);
  });

  test("a packet of exactly MAX_PACKET lines is accepted, one more is refused", () => {
    expect(parsePayload(JSON.stringify({ logs: ["a", "b", "c"] })).logs).toHaveLength(MAX_PACKET);
    expect(refusal(JSON.stringify({ logs: ["a", "b", "c", "d"] })).message).toBe(
      `logs must hold 1 to 3 log lines (MAX_PACKET): split the packet: ${USAGE}`,
    );
  });
});

describe("a body that is not a JSON object", () => {
  test.each([
    ["an empty body", "", `empty body: ${USAGE}`],
    ["a body of only whitespace", " \n\t", `empty body: ${USAGE}`],
    ["text that is not JSON", "log=a", /^body is not valid JSON \(JSON Parse error: .+\): send/],
    ["truncated JSON", '{"log":"a', /^body is not valid JSON \(.+\): send/],
    ["an array", '["a"]', `body must be a JSON object: ${USAGE}`],
    ["a string", '"a line"', `body must be a JSON object: ${USAGE}`],
    ["a number", "5", `body must be a JSON object: ${USAGE}`],
    ["null", "null", `body must be a JSON object: ${USAGE}`],
    ["an array nested a million deep", `${"[".repeat(1e6)}${"]".repeat(1e6)}`, `body must be a JSON object: ${USAGE}`],
  ])("%s is a 400 that says what to send", (_, text, message) => {
    const error = refusal(text);
    expect(error.status).toBe(400);
    if (typeof message === "string") expect(error.message).toBe(message);
    else expect(error.message).toMatch(message);
    expect(error.details).toBeUndefined();
  });

  test("a log nested a million deep is a 400 for the log, not a crash", () => {
    expect(refusal(`{"log":${"[".repeat(1e6)}${"]".repeat(1e6)}}`).message).toBe(`log must be a string: ${USAGE}`);
  });

  describe("when the JSON parser runs out of stack", () => {
    afterEach(() => {
      (JSON.parse as unknown as { mockRestore(): void }).mockRestore();
    });

    test("the body is still the client's malformed body, not a 500", () => {
      // Bun's parser copes with a million levels; other engines (or a deeper call stack) throw RangeError.
      spyOn(JSON, "parse").mockImplementationOnce(() => {
        throw new RangeError("Maximum call stack size exceeded.");
      });
      expect(refusal('{"log":"a"}').message).toBe(`body is not valid JSON (nested too deeply): ${USAGE}`);
    });
  });
});

describe("an object of the wrong shape", () => {
  test.each([
    ["a typo in the packet field", '{"logz":["a"]}', "unknown field(s): logz"],
    ["a typo in the single field", '{"lg":"a"}', "unknown field(s): lg"],
    ["an extra field beside log", '{"log":"a","level":"INFO"}', "unknown field(s): level"],
    ["both log and logs", '{"log":"a","logs":["b"]}', "unknown field(s): log"],
    ["an empty object", "{}", "log is required"],
    ["an empty line", '{"log":""}', "log must be a non-empty string"],
    ["a log that is a number", '{"log":5}', "log must be a string"],
    ["a log that is null", '{"log":null}', "log must be a string"],
    ["logs that is a string", '{"logs":"a"}', "logs must be an array of log lines"],
    ["an empty packet", '{"logs":[]}', "logs must hold 1 to 3 log lines"],
    [
      "a packet over MAX_PACKET",
      '{"logs":["a","b","c","d"]}',
      "logs must hold 1 to 3 log lines (MAX_PACKET): split the packet",
    ],
    ["a packet holding a number", '{"logs":["a",1]}', "logs.1 must be a string"],
    ["a packet holding an empty line", '{"logs":["a",""]}', "logs.1 must be a non-empty string"],
  ])("%s is a 400 naming the problem first", (_, text, first) => {
    const error = refusal(text);
    expect(error.status).toBe(400);
    expect(error.message).toBe(`${first}: ${USAGE}`);
  });

  test("an unknown field is reported before the missing one it was probably meant to be", () => {
    expect(refusal('{"logz":["a"]}').details?.details).toEqual([
      { path: "", message: "unknown field(s): logz" },
      { path: "log", message: "is required" },
    ]);
  });

  test("details list every problem with its path, up to 10", () => {
    const details = refusal(JSON.stringify({ logs: [1, null, ""] })).details?.details;
    expect(details).toEqual([
      { path: "logs.0", message: "must be a string" },
      { path: "logs.1", message: "must be a string" },
      { path: "logs.2", message: "must be a non-empty string" },
    ] satisfies BodyIssue[]);

    const numbers = JSON.stringify({ logs: Array.from({ length: 25 }, (_, i) => i) });
    const issues = refusal(numbers, createPayloadParser(100)).details?.details ?? [];
    expect(issues.map((i) => i.path)).toEqual(Array.from({ length: 10 }, (_, i) => `logs.${i}`));
  });
});

describe("the fast path and the schema", () => {
  const line = fc.string({ minLength: 1 });
  const valid = fc.oneof(
    line.map((log) => ({ log })),
    fc.array(line, { minLength: 1, maxLength: MAX_PACKET }).map((logs) => ({ logs })),
  );

  test("return any valid payload as it is", () => {
    fc.assert(
      fc.property(valid, (body) => {
        const payload = parsePayload(JSON.stringify(body));
        expect(payload).toEqual(
          "log" in body ? { logs: [body.log], packet: false } : { logs: body.logs, packet: true },
        );
      }),
    );
  });

  // The parser throws a plain Error when the schema accepts what the fast path refused: a drift
  // between the two would show up here as something other than a payload or a 400.
  const value = fc.oneof(
    line,
    fc.constant(""),
    fc.array(fc.oneof(line, fc.constant(""), fc.integer(), fc.constant(null)), { maxLength: MAX_PACKET + 2 }),
    fc.jsonValue({ maxDepth: 2 }),
  );
  const body = fc.dictionary(fc.constantFrom("log", "logs", "logz", "x"), value, { maxKeys: 3 });
  const isLine = (x: unknown) => typeof x === "string" && x !== "";

  test("agree on every object: a payload exactly when it is valid, a 400 otherwise", () => {
    fc.assert(
      fc.property(body, (object) => {
        const keys = Object.keys(object);
        const expectedValid =
          keys.length === 1 &&
          (keys[0] === "log"
            ? isLine(object.log)
            : keys[0] === "logs" &&
              Array.isArray(object.logs) &&
              object.logs.length >= 1 &&
              object.logs.length <= MAX_PACKET &&
              object.logs.every(isLine));
        let outcome: "payload" | "400";
        try {
          parsePayload(JSON.stringify(object));
          outcome = "payload";
        } catch (error) {
          if (!(error instanceof BadRequestError)) throw error;
          outcome = "400";
        }
        expect(outcome).toBe(expectedValid ? "payload" : "400");
      }),
      { numRuns: 500 },
    );
  });
});
