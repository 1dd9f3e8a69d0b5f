import { afterAll, expect, test } from "bun:test";
import { NDJSON } from "../protocol/batch.ts";
import type { RawLine } from "../protocol/record.ts";
import { createForward } from "./forward.ts";
import { createUpstream } from "./upstream.ts";

// Analyzer stand-ins speaking the documented batch form in each of the ways an analyzer may answer.
let answer: (logs: string[], req: Request) => Response = () => new Response(null, { status: 500 });
/** How the last request came: its Content-Type, its Prefer header and its body. */
let last = { contentType: "", prefer: "", body: "" };
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(req) {
    const body = await req.text();
    const contentType = req.headers.get("content-type") ?? "";
    last = { contentType, prefer: req.headers.get("prefer") ?? "", body };
    // An NDJSON batch's lines stand for themselves here; {"logs"} holds strings.
    const logs = contentType === NDJSON ? body.split("\n").filter((l) => l !== "") : JSON.parse(body).logs;
    return answer(logs, req);
  },
});
afterAll(() => server.stop(true));
const upstream = createUpstream(server.url.origin, 1);
const forward = createForward(1000);

test("an NDJSON answer's result lines are passed through as they are", async () => {
  answer = (logs) =>
    new Response(['"x1"', ...logs.map((l) => JSON.stringify({ echo: l }))].join("\n"), {
      headers: { "content-type": "application/x-ndjson" },
    });
  expect(await forward(upstream, ["a", "b"])).toEqual({
    ok: true,
    analyzer: "x1",
    results: ['{"echo":"a"}', '{"echo":"b"}'],
  });
});

test("a plain JSON answer works too, its results re-encoded", async () => {
  answer = (logs) => Response.json({ analyzer: "x2", results: logs.map((l) => ({ echo: l })) });
  expect(await forward(upstream, ["a"])).toEqual({ ok: true, analyzer: "x2", results: ['{"echo":"a"}'] });
});

test.each([
  ["too few NDJSON lines", () => new Response('"x"\n{"a":1}', { headers: { "content-type": "application/x-ndjson" } })],
  [
    "an NDJSON line that is not an object",
    () => new Response('"x"\n{"a":1}\n[1]', { headers: { "content-type": "application/x-ndjson" } }),
  ],
  ["too few JSON results", () => Response.json({ analyzer: "x", results: [{}] })],
  ["not JSON at all", () => new Response("oops")],
])("%s is the analyzer's fault: a retryable failure", async (_name, make) => {
  answer = make;
  const r = await forward(upstream, ["a", "b"]);
  expect(r).toMatchObject({ ok: false, retryable: true, unreachable: false, reason: "answered 200 without 2 results" });
});

test.each([
  [500, true],
  [503, true],
  [429, true],
  [400, false],
  [413, false],
])("an answer with status %i is retryable: %p", async (status, retryable) => {
  answer = () => Response.json({ error: "no" }, { status });
  expect(await forward(upstream, ["a"])).toMatchObject({
    ok: false,
    retryable,
    reason: `answered ${status}: {"error":"no"}`,
  });
});

test("an address where nothing listens is unreachable", async () => {
  const r = await createForward(1000)(createUpstream("http://127.0.0.1:1", 1), ["a"]);
  expect(r).toMatchObject({ ok: false, retryable: true, unreachable: true, timedOut: false });
});

/** The lines of an NDJSON body as the decoder makes them: ranges of one buffer. */
function rawLines(text: string): RawLine[] {
  const body = new TextEncoder().encode(text);
  const lines: RawLine[] = [];
  for (let from = 0; from < body.length; ) {
    const to = body.indexOf(10, from);
    lines.push({ body, start: from, end: to });
    from = to + 1;
  }
  return lines;
}

const ndjsonAnswer = (lines: string[]) => new Response(lines.join("\n"), { headers: { "content-type": NDJSON } });

test("raw lines go as NDJSON, as they came, beside other records as JSON; a refused line is told apart", async () => {
  const lines = rawLines('{"msg":"a"}\n{"msg":"é"}\n{"lvl":1}\n');
  answer = (logs) =>
    ndjsonAnswer(['"x1"', ...logs.map((l) => (l.includes("lvl") ? '{"rejected":"no message"}' : "{}"))]);
  const r = await forward(upstream, [
    lines[0]!,
    lines[1]!,
    "plain",
    { message: "m", fields: { level: "warn" } },
    lines[2]!,
  ]);
  expect(last.contentType).toBe(NDJSON);
  expect(last.body).toBe('{"msg":"a"}\n{"msg":"é"}\n"plain"\n{"message":"m","fields":{"level":"warn"}}\n{"lvl":1}\n');
  expect(r).toEqual({
    ok: true,
    analyzer: "x1",
    results: ["{}", "{}", "{}", "{}", '{"rejected":"no message"}'],
    rejected: new Map([[4, "no message"]]),
  });
});

test("lines of one body that are not neighbours are not sent as one range", async () => {
  const lines = rawLines('{"n":0}\n{"n":1}\n{"n":2}\n');
  answer = (logs) => ndjsonAnswer(['"x1"', ...logs.map(() => "{}")]);
  await forward(upstream, [lines[2]!, lines[0]!]);
  expect(last.body).toBe('{"n":2}\n{"n":0}\n');
  await forward(upstream, [lines[0]!, lines[2]!]);
  expect(last.body).toBe('{"n":0}\n{"n":2}\n');
});

test("runs of raw lines go as the bytes they span, blanks and all; the count is what the answer must match", async () => {
  const body = new TextEncoder().encode('{"n":0}\n\n{"n":1}\n{"n":2}\n');
  const runs = [body.subarray(0, 16), body.subarray(17, 24)]; // lines 0-1 (a blank between), line 2
  answer = (logs) => ndjsonAnswer(['"x1"', ...logs.map(() => "{}")]);
  expect(await forward(upstream, { count: 3, runs })).toEqual({
    ok: true,
    analyzer: "x1",
    results: ["{}", "{}", "{}"],
  });
  expect(last.contentType).toBe(NDJSON);
  expect(last.body).toBe('{"n":0}\n\n{"n":1}\n{"n":2}\n');
  // an analyzer that answers for fewer lines than the runs hold has not analyzed them all
  answer = () => ndjsonAnswer(['"x1"', "{}", "{}"]);
  expect(await forward(upstream, { count: 3, runs })).toMatchObject({ ok: false, retryable: true });
});

test("minimal: asks for no analyses and reads the summary, refused messages by index", async () => {
  answer = () => ndjsonAnswer(['"x1"', '{"analyzed":1,"rejected":[{"index":1,"reason":"bad"}]}']);
  const r = await forward(upstream, ["a", "b"], { minimal: true });
  expect(last.prefer).toBe("return=minimal");
  expect(r).toEqual({ ok: true, analyzer: "x1", rejected: new Map([[1, "bad"]]) });
});

test("minimal: an analyzer that answers every result anyway is read as usual", async () => {
  answer = (logs) => ndjsonAnswer(['"x1"', ...logs.map(() => "{}")]);
  expect(await forward(upstream, ["a", "b"], { minimal: true })).toEqual({
    ok: true,
    analyzer: "x1",
    results: ["{}", "{}"],
  });
});

test("minimal: a summary that does not add up is the analyzer's fault", async () => {
  answer = () => ndjsonAnswer(['"x1"', '{"analyzed":1}']);
  expect(await forward(upstream, ["a", "b"], { minimal: true })).toMatchObject({ ok: false, retryable: true });
});
