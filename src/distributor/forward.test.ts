import { afterAll, expect, test } from "bun:test";
import { createForward } from "./forward.ts";
import { createUpstream } from "./upstream.ts";

// Analyzer stand-ins speaking the documented batch form in each of the ways an analyzer may answer.
let answer: (logs: string[]) => Response = () => new Response(null, { status: 500 });
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(req) {
    const { logs } = (await req.json()) as { logs: string[] };
    return answer(logs);
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
