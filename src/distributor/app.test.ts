// POST /analyze has two ways in: Bun's own router (`routes`, which skips hono's routing and context)
// and the hono app (`fetch`). Both call the one handler in ingest.ts. Each row of the API table goes
// through both, over real HTTP to one distributor in front of a stub analyzer, and both answers must
// be the same: status, the headers a client acts on, and body.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { SERVER_BODY_CAP } from "../http/app.ts";
import { batchAnswer, NDJSON } from "../protocol/batch.ts";
import { recordOfLine } from "../protocol/formats/generic.ts";
import { type LogRecord, messageOf } from "../protocol/record.ts";
import { createDistributor } from "./app.ts";
import { loadDistributorConfig } from "./config.ts";

const MAX_BODY_BYTES = 1000;
/** The stub analyzer fails lines starting with "fail" (500) and answers "slow" ones after this. */
const SLOW_MS = 1000;

// A stand-in analyzer: healthy, answering the distributor's batch form (src/protocol/batch.ts).
let analyzer: Server<undefined>;
beforeAll(() => {
  analyzer = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    routes: {
      "/health": () => Response.json({ status: "healthy", id: "stub" }),
      "/analyze": async (req) => {
        // Both batch forms (src/protocol/batch.ts): NDJSON lines, or {"logs"}.
        const text = await req.text();
        const records = req.headers.get("content-type")?.startsWith(NDJSON)
          ? text
              .split("\n")
              .filter((l) => l !== "")
              .map((l) => recordOfLine(l) as LogRecord)
          : (JSON.parse(text) as { logs: LogRecord[] }).logs;
        const logs = records.map(messageOf);
        if (logs.some((l) => l.startsWith("fail"))) return new Response("simulated failure", { status: 500 });
        if (logs.some((l) => l.startsWith("slow"))) await Bun.sleep(SLOW_MS);
        return new Response(
          batchAnswer(
            '"stub"',
            logs.map((l) => ({ length: l.length })),
          ),
          { headers: { "content-type": NDJSON } },
        );
      },
    },
  });
});
afterAll(() => analyzer.stop(true));

type Entries = {
  viaRoutes: string;
  viaApp: string;
  distributor: ReturnType<typeof createDistributor>;
  stop(): Promise<void>;
};

/** One distributor, served twice: once as distributor.ts serves it (routes + app), once by the app alone. */
async function serveBothWays(env: Record<string, string>): Promise<Entries> {
  const distributor = createDistributor(
    loadDistributorConfig({
      MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      MAX_PACKET: "5",
      HEALTH_INTERVAL_MS: "60000",
      // The answers of the memory queue: the spool's own are tested in intake.test.ts.
      SPOOL: "memory",
      ...env,
    }),
    {
      log: () => {},
    },
  );
  await distributor.start();
  expect(Object.keys(distributor.routes)).toEqual(["/analyze"]);
  const common = { port: 0, hostname: "127.0.0.1", fetch: distributor.app.fetch, maxRequestBodySize: SERVER_BODY_CAP };
  const withRoutes = Bun.serve({ ...common, routes: distributor.routes });
  const appOnly = Bun.serve(common);
  return {
    viaRoutes: withRoutes.url.origin,
    viaApp: appOnly.url.origin,
    distributor,
    async stop() {
      await Promise.all([withRoutes.stop(true), appOnly.stop(true)]);
      await distributor.drain(0);
    },
  };
}

type Send = { method?: string; path?: string; body?: string; chunked?: boolean; headers?: Record<string, string> };

async function send(origin: string, s: Send) {
  const body = s.body === undefined ? undefined : s.chunked ? chunks(s.body) : s.body;
  const res = await fetch(`${origin}${s.path ?? "/analyze"}`, { method: s.method ?? "POST", headers: s.headers, body });
  const text = await res.text();
  const h = (name: string) => res.headers.get(name);
  return {
    status: res.status,
    headers: {
      "content-type": h("content-type"),
      "retry-after": h("retry-after"),
      allow: h("allow"),
      "www-authenticate": h("www-authenticate"),
    },
    body: text === "" ? null : (JSON.parse(text) as unknown),
  };
}

/** The body in 100-byte pieces with no declared length: fetch sends it chunked. */
function chunks(body: string): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(body);
  return new ReadableStream({
    start(controller) {
      for (let i = 0; i < bytes.length; i += 100) controller.enqueue(bytes.slice(i, i + 100));
      controller.close();
    },
  });
}

/** Sends the row through both entries, one after the other, and requires the same answer. */
async function expectSameAnswer(entries: Entries, s: Send, status: number) {
  const viaRoutes = await send(entries.viaRoutes, s);
  const viaApp = await send(entries.viaApp, s);
  expect(viaRoutes).toEqual(viaApp);
  expect(viaRoutes.status).toBe(status);
  expect(viaRoutes.headers["content-type"]).toStartWith("application/json");
  return viaRoutes;
}

const single = (log: string, headers?: Record<string, string>): Send => ({ body: JSON.stringify({ log }), headers });
const packet = (logs: string[]): Send => ({ body: JSON.stringify({ logs }) });
const tooLarge = JSON.stringify({ log: "x".repeat(MAX_BODY_BYTES) });

describe("with a healthy analyzer", () => {
  let entries: Entries;
  beforeAll(
    async () =>
      (entries = await serveBothWays({ ANALYZERS: analyzer.url.origin, REQUEST_TIMEOUT_MS: "100", MAX_ATTEMPTS: "1" })),
  );
  afterAll(() => entries.stop());

  test.each([
    ["a single log", 200, single("hello")],
    ["a packet", 200, packet(["a", "bb"])],
    [
      "a JSON body sent as text/plain (no 415: any Content-Type)",
      200,
      { body: '{"log":"a"}', headers: { "content-type": "text/plain" } },
    ],
    ["a query string", 200, { path: "/analyze?x=1", body: '{"log":"a"}' }],
    ["Prefer: respond-async", 202, single("a", { prefer: "respond-async" })],
    ["invalid JSON", 400, { body: "{bad" }],
    ["an object with fields beside its log", 200, { body: '{"log":"a","x":1}' }],
    [
      "NDJSON",
      200,
      { body: '{"message":"a"}\n{"msg":"b","level":"warn"}\n', headers: { "content-type": "application/x-ndjson" } },
    ],
    ["text lines", 200, { body: "a\nb\n", headers: { "content-type": "application/x-www-form-urlencoded" } }],
    ["an object without a message", 400, { body: '{"logz":["a"]}' }],
    ["an empty body", 400, { body: "" }],
    ["a packet over MAX_PACKET", 400, packet(["a", "b", "c", "d", "e", "f"])],
    ["a body over MAX_BODY_BYTES, its length declared", 413, { body: tooLarge }],
    ["a body over MAX_BODY_BYTES, chunked", 413, { body: tooLarge, chunked: true }],
    [
      "a body over MAX_BODY_BYTES with Prefer: respond-async",
      413,
      { body: tooLarge, headers: { prefer: "respond-async" } },
    ],
    ["a chunked body within MAX_BODY_BYTES", 200, { body: JSON.stringify({ log: "x".repeat(900) }), chunked: true }],
    ["GET /analyze", 405, { method: "GET" }],
    ["PUT /analyze", 405, { method: "PUT", body: '{"log":"a"}' }],
    ["an unknown path", 404, { path: "/nope", body: '{"log":"a"}' }],
    ["/analyze/ with a trailing slash", 404, { path: "/analyze/", body: '{"log":"a"}' }],
    ["a log the analyzer fails on", 502, single("fail me")],
    ["a packet the analyzer fails on", 502, packet(["ok", "fail me"])],
    ["a log the analyzer does not answer in time", 504, single("slow")],
  ] as const)("%s: %i, the same both ways", async (_, status, s) => {
    await expectSameAnswer(entries, s, status);
  });

  test("the answers themselves: the analysis, the 405's Allow, the failed packet's per-message outcomes", async () => {
    expect((await expectSameAnswer(entries, single("hello"), 200)).body).toEqual({
      analyzer: "stub",
      result: { length: 5 },
    });
    expect((await expectSameAnswer(entries, { method: "GET" }, 405)).headers.allow).toBe("POST");
    const failed = await expectSameAnswer(entries, packet(["ok", "fail me"]), 502);
    expect(failed.body).toMatchObject({
      error: expect.stringMatching(/^2 of 2 messages failed/),
      results: [{ status: 502 }, { status: 502 }],
    });
  });

  test("once shutting down: 503 + Retry-After both ways", async () => {
    await entries.distributor.drain(5_000);
    const answer = await expectSameAnswer(entries, single("late"), 503);
    expect(answer.headers["retry-after"]).toBe("1");
  });
});

describe("with AUTH_TOKEN set", () => {
  let entries: Entries;
  beforeAll(async () => (entries = await serveBothWays({ ANALYZERS: analyzer.url.origin, AUTH_TOKEN: "s3cret" })));
  afterAll(() => entries.stop());

  test.each([
    ["no token", 401, single("a")],
    ["a wrong token", 401, single("a", { authorization: "Bearer wrong" })],
    ["the token", 200, single("a", { authorization: "Bearer s3cret" })],
    ["a bad body with the token", 400, { body: "{bad", headers: { authorization: "Bearer s3cret" } }],
    ["a wrong method without the token", 405, { method: "GET" }],
  ] as const)("%s: %i, the same both ways", async (_, status, s) => {
    const answer = await expectSameAnswer(entries, s, status);
    if (status === 401) expect(answer.headers["www-authenticate"]).toBe("Bearer");
  });
});

describe("with no healthy analyzer", () => {
  let entries: Entries;
  beforeAll(async () => {
    const dead = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
    const url = dead.url.origin;
    await dead.stop(true);
    entries = await serveBothWays({
      ANALYZERS: url,
      QUEUE_CAPACITY: "2",
      MAX_PACKET: "1",
      WORKERS: "1",
      BATCH_MAX: "1",
    });
  });
  afterAll(() => entries.stop());

  // In order: each row leaves the queue as the next one needs it.
  test("a waiting client: 503 + Retry-After at once, both ways", async () => {
    const answer = await expectSameAnswer(entries, single("a"), 503);
    expect(answer.body).toEqual({ error: "no healthy analyzer" });
    expect(answer.headers["retry-after"]).toBe("1");
  });

  test("Prefer: respond-async: 202 both ways (the messages wait for an analyzer)", async () => {
    await expectSameAnswer(entries, single("a", { prefer: "respond-async" }), 202);
  });

  test("the queue full: 503 + Retry-After both ways", async () => {
    const { channel } = entries.distributor;
    // The worker holds what it took; the queue fills behind it.
    for (let i = 0; i < 10 && channel.size < channel.capacity; i++)
      expect((await send(entries.viaRoutes, single("a", { prefer: "respond-async" }))).status).toBe(202);
    expect(channel.size).toBe(channel.capacity);
    const answer = await expectSameAnswer(entries, single("a", { prefer: "respond-async" }), 503);
    expect(answer.body).toEqual({ error: expect.stringMatching(/^queue full/) });
    expect(answer.headers["retry-after"]).toBe("1");
  });
});
