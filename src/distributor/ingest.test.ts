// The ingest handler over a real Channel and Balancer, with POST /analyze's format (formats.ts) and
// with a format of the test's own. The test stands in for the worker pool: it takes the queued jobs
// and settles their replies with the outcomes it wants, as dispatch does.

import { describe, expect, test } from "bun:test";
import { HttpError } from "../http/errors.ts";
import { isRaw, rawText } from "../protocol/record.ts";
import { Balancer } from "./balancer.ts";
import { Channel } from "./channel.ts";
import { createCounters } from "./counters.ts";
import type { Job, Outcome } from "./dispatch.ts";
import { analyzeFormat } from "./formats.ts";
import { createIngestHandler, type IngestFormat, prefersAsync } from "./ingest.ts";
import { memoryIntake } from "./intake.ts";
import { createUpstream } from "./upstream.ts";

type RigOptions = {
  capacity?: number;
  healthy?: boolean;
  authToken?: string;
  maxBodyBytes?: number;
  // biome-ignore lint/suspicious/noExplicitAny: any format's decoded type
  format?: IngestFormat<any>;
};

function rig({ capacity = 100, healthy = true, authToken, maxBodyBytes = 1000, format }: RigOptions = {}) {
  const upstream = createUpstream("http://127.0.0.1:5001", 1);
  const balancer = new Balancer([upstream]);
  if (healthy) balancer.setHealthy(upstream, true, "test");
  const channel = new Channel<Job>(capacity, (job) => job.logs.length);
  const counters = createCounters();
  const durations: number[] = [];
  const analyze = createIngestHandler({
    format: format ?? analyzeFormat(maxBodyBytes),
    channel,
    intake: memoryIntake(channel, 10, () => {}),
    balancer,
    counters,
    maxBodyBytes,
    maxPacket: 10,
    authToken,
    observe: (seconds) => durations.push(seconds),
  });
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    analyze(
      new Request("http://distributor/analyze", {
        method: "POST",
        body: typeof body === "string" ? body : JSON.stringify(body),
        headers,
      }),
    );
  /** Takes the next queued job and settles its messages with `outcomes`, in order. */
  async function settleNext(...outcomes: Outcome[]): Promise<Job> {
    const [job] = await channel.recvBatch(1);
    expect(job.logs).toHaveLength(outcomes.length);
    for (const [i, o] of outcomes.entries()) job.reply!.settle(i, i + 1, o);
    return job;
  }
  /** Sends `body` while settling its messages with `outcomes`; the answer. */
  async function answer(body: unknown, ...outcomes: Outcome[]): Promise<Response> {
    const res = post(body);
    await settleNext(...outcomes);
    return res;
  }
  return { channel, counters, durations, post, settleNext, answer };
}

type ErrorBody = {
  error: string;
  results?: ({ status: number; error: string } | { analyzer: string; result?: unknown })[];
};
const errorOf = async (res: Response) => (await res.json()) as ErrorBody;

const ok = (analyzer: string, result: object): Outcome => ({ analyzer, result: JSON.stringify(result) });
const failed = (status: 502 | 503 | 504, error: string): Outcome => ({ status, error });

describe("a delivered request", () => {
  test("a single log gets its analyzer's result, spliced in as the analyzer wrote it", async () => {
    const { answer, counters, durations } = rig();
    const res = await answer({ log: "ERROR x" }, { analyzer: "a1", result: '{"level":"ERROR", "length":7}' });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.text()).toBe('{"analyzer":"a1","result":{"level":"ERROR", "length":7}}');
    expect(counters).toMatchObject({ received: 1, rejected: 0, invalid: 0 });
    expect(durations).toHaveLength(1);
  });

  test("a packet gets every message's result in input order", async () => {
    const { answer, counters } = rig();
    const res = await answer({ logs: ["a", "b", "c"] }, ok("a1", { n: 0 }), ok("a2", { n: 1 }), ok("a1", { n: 2 }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      results: [
        { analyzer: "a1", result: { n: 0 } },
        { analyzer: "a2", result: { n: 1 } },
        { analyzer: "a1", result: { n: 2 } },
      ],
    });
    expect(counters.received).toBe(3);
  });

  test("a packet of one is still answered as a packet", async () => {
    const { answer } = rig();
    const res = await answer({ logs: ["a"] }, ok("a1", { n: 0 }));
    expect(await res.json()).toEqual({ results: [{ analyzer: "a1", result: { n: 0 } }] });
  });

  test("the whole request is queued as one job holding its messages", async () => {
    const { post, channel } = rig();
    const res = post({ logs: ["a", "b"] });
    const [job] = await channel.recvBatch(10);
    expect(job.logs).toEqual(["a", "b"]);
    job.reply!.settle(1, 2, ok("a1", {}));
    job.reply!.settle(0, 1, ok("a1", {}));
    expect((await res).status).toBe(200);
  });
});

describe("NDJSON", () => {
  const ndjson = { "content-type": "application/x-ndjson" };
  const text = (job: Job) => job.logs.map((r) => (isRaw(r) ? rawText(r) : r));

  test("a waiting client's lines are queued as they came, unparsed, each its own message", async () => {
    const { post, channel } = rig();
    const res = post('{"msg":"a"}\r\n\n  {"msg":"b"} \n{"not json"}', ndjson);
    const [job] = await channel.recvBatch(10);
    expect(text(job)).toEqual(['{"msg":"a"}', '{"msg":"b"}', '{"not json"}']);
    expect(job.minimal).toBe(true); // an agent's body: answered {"analyzed": n} unless it asks for more
    for (let i = 0; i < 3; i++) job.reply!.settle(i, i + 1, ok("a1", { n: i }));
    expect((await res).status).toBe(200);
  });

  test("asked for the analyses (Prefer: return=representation), a line an analyzer refused fails the request with a 400 listing every message's outcome", async () => {
    const { post, settleNext } = rig();
    const res = post('{"msg":"a"}\n{"lvl":1}\n', { ...ndjson, prefer: "return=representation" });
    await settleNext(ok("a1", { n: 0 }), { status: 400, error: "message 2: the line has no message" });
    expect(res).resolves.toHaveProperty("status", 400);
    expect(await errorOf(await res)).toEqual({
      error: "1 of 2 messages failed: message 2: the line has no message",
      results: [
        { analyzer: "a1", result: { n: 0 } },
        { status: 400, error: "message 2: the line has no message" },
      ],
    });
  });

  test("by default, a line an analyzer refused fails the request with a 400 naming how many and why, no list", async () => {
    const { post, settleNext } = rig();
    const res = post('{"msg":"a"}\n{"lvl":1}\n', ndjson);
    await settleNext({ analyzer: "a1" }, { status: 400, error: "message 2: the line has no message" });
    expect(res).resolves.toHaveProperty("status", 400);
    expect(await errorOf(await res)).toEqual({ error: "1 of 2 messages failed: message 2: the line has no message" });
  });

  test("a 503 among the outcomes outranks a refused line: the agent should send it again", async () => {
    const { post, settleNext } = rig();
    const res = post('{"msg":"a"}\n{"lvl":1}\n', ndjson);
    await settleNext({ status: 503, error: "no healthy analyzer" }, { status: 400, error: "message 2: no message" });
    expect((await res).status).toBe(503);
  });

  test("lines that do not each hold one object are read whole, as before", async () => {
    const { post, channel } = rig();
    const res = post('{"msg":\n"a"}\n', ndjson);
    const [job] = await channel.recvBatch(10);
    expect(job.logs).toEqual(["a"]);
    job.reply!.settle(0, 1, ok("a1", {}));
    expect((await res).status).toBe(200);
  });

  test("respond-async NDJSON is parsed before its 202: a bad line refuses the body and nothing is queued", async () => {
    const { post, channel } = rig();
    const res = await post('{"msg":"a"}\n{"lvl":1}\n', { ...ndjson, prefer: "respond-async" });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).error).toStartWith("value 2 has no message");
    expect(channel.size).toBe(0);
    expect((await post('{"msg":"a"}\n', { ...ndjson, prefer: "respond-async" })).status).toBe(202);
    const [job] = await channel.recvBatch(10);
    expect(job.logs).toEqual(["a"]);
  });
});

describe("Prefer: return=minimal", () => {
  test("answers how many were analyzed, and the job asks the analyzers for no analyses", async () => {
    const { post, channel } = rig();
    const res = post({ logs: ["a", "b"] }, { prefer: "return=minimal" });
    const [job] = await channel.recvBatch(10);
    expect(job.minimal).toBe(true);
    job.reply!.settle(0, 1, { analyzer: "a1" });
    job.reply!.settle(1, 2, { analyzer: "a2" });
    expect(await (await res).json()).toEqual({ analyzed: 2 });
  });

  test("a failure names how many failed and why, without a list: an agent reads only so much of an answer", async () => {
    const { post, settleNext } = rig();
    const res = post({ logs: ["a", "b"] }, { prefer: "return=minimal" });
    await settleNext({ analyzer: "a1" }, failed(502, "analyzer a2 answered 500"));
    expect(await errorOf(await res)).toEqual({ error: "1 of 2 messages failed: analyzer a2 answered 500" });
  });
});

describe("Prefer: respond-async", () => {
  test("202 with the count once queued; the job has no reply to settle", async () => {
    const { post, channel, counters } = rig();
    const res = await post({ logs: ["a", "b"] }, { prefer: "respond-async" });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 2 });
    const [job] = await channel.recvBatch(10);
    expect(job).toEqual({ logs: ["a", "b"], reply: null });
    expect(counters.received).toBe(2);
  });

  test("is queued even with no healthy analyzer: it waits for one", async () => {
    const { post, channel } = rig({ healthy: false });
    expect((await post({ log: "a" }, { prefer: "respond-async" })).status).toBe(202);
    expect(channel.size).toBe(1);
  });

  test.each([
    ["respond-async", true],
    ["RESPOND-ASYNC", true],
    ["wait=10, respond-async", true],
    ["respond-async; x=1", true],
    ["respond-async , wait=5", true],
    ["respond-asynchronously", false],
    ["no-respond-async", false],
    ["wait=10", false],
    ["", false],
  ])("Prefer: %p asks for an async answer: %p", (header, want) => {
    expect(prefersAsync(header)).toBe(want);
  });

  test("no Prefer header: a sync answer", () => {
    expect(prefersAsync(null)).toBe(false);
    expect(prefersAsync(undefined)).toBe(false);
  });
});

describe("admission: the whole request or nothing, refused at once", () => {
  test("a packet that does not fit the queue is refused whole with 503 + Retry-After; one that fits is queued", async () => {
    const { post, channel, counters } = rig({ capacity: 5 });
    expect((await post({ logs: ["a", "b"] }, { prefer: "respond-async" })).status).toBe(202);
    const full = await post({ logs: ["c", "d", "e", "f"] }, { prefer: "respond-async" });
    expect(full.status).toBe(503);
    expect(full.headers.get("retry-after")).toBe("1");
    expect((await errorOf(full)).error).toMatch(/queue full \(5 messages\)/);
    expect(channel.size).toBe(2);
    expect(counters).toMatchObject({ received: 2, rejected: 4 });
    expect((await post({ logs: ["c", "d", "e"] }, { prefer: "respond-async" })).status).toBe(202);
    expect(channel.size).toBe(5);
  });

  test("a waiting client with no healthy analyzer gets 503 + Retry-After at once, and nothing is queued", async () => {
    const { post, channel, counters } = rig({ healthy: false });
    const res = await post({ logs: ["a", "b"] });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(await res.json()).toEqual({ error: "no healthy analyzer" });
    expect(channel.size).toBe(0);
    expect(counters).toMatchObject({ received: 0, rejected: 2 });
  });

  test("once the channel is closed (shutting down): 503 + Retry-After, and the connection closes", async () => {
    const { post, channel, counters } = rig();
    channel.close();
    for (const headers of [{}, { prefer: "respond-async" }] as Record<string, string>[]) {
      const res = await post({ log: "a" }, headers);
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("1");
      expect(res.headers.get("connection")).toBe("close");
      expect((await errorOf(res)).error).toMatch(/shutting down/);
    }
    expect(counters).toMatchObject({ received: 0, rejected: 2 });
  });
});

describe("a failed delivery", () => {
  test.each([
    [502, "answered 500: boom", undefined],
    [504, "timed out after 2000 ms", undefined],
    [503, "no healthy analyzer", "1"],
  ] as const)(
    "a single log whose delivery failed with %i gets that status and error",
    async (status, error, retryAfter) => {
      const { answer } = rig();
      const res = await answer({ log: "a" }, failed(status, error));
      expect(res.status).toBe(status);
      expect(res.headers.get("retry-after") ?? undefined).toBe(retryAfter);
      expect(await res.json()).toEqual({ error });
    },
  );

  test("a packet with some failures: the worst status, 'N of M messages failed', and every message's own outcome", async () => {
    const { answer } = rig();
    const res = await answer(
      { logs: ["a", "b", "c", "d"] },
      ok("a1", { n: 0 }),
      failed(502, "answered 500: boom"),
      ok("a2", { n: 2 }),
      failed(504, "timed out after 2000 ms"),
    );
    expect(res.status).toBe(504);
    expect(await res.json()).toEqual({
      error: "2 of 4 messages failed: timed out after 2000 ms",
      results: [
        { analyzer: "a1", result: { n: 0 } },
        { status: 502, error: "answered 500: boom" },
        { analyzer: "a2", result: { n: 2 } },
        { status: 504, error: "timed out after 2000 ms" },
      ],
    });
  });

  test("a packet whose every message failed says so", async () => {
    const { answer } = rig();
    const res = await answer({ logs: ["a", "b"] }, failed(502, "x"), failed(502, "y"));
    expect(res.status).toBe(502);
    expect((await errorOf(res)).error).toBe("2 of 2 messages failed: x");
  });

  // 503 tells a client that retries the packet the most useful thing: come back later.
  test.each([
    [[502, 504], 504],
    [[504, 502], 504],
    [[504, 503], 503],
    [[503, 504, 502], 503],
    [[502, 502], 502],
  ] as const)("failures %p rank as %i (503 over 504 over 502)", async (statuses, want) => {
    const { answer } = rig();
    const logs = statuses.map((_, i) => `log ${i}`);
    const res = await answer({ logs }, ...statuses.map((s, i) => failed(s, `failure ${i} (${s})`)));
    expect(res.status).toBe(want);
    expect(res.headers.get("retry-after")).toBe(want === 503 ? "1" : null);
    const body = await errorOf(res);
    // The error names the first failure of the worst status.
    expect(body.error).toBe(
      `${statuses.length} of ${statuses.length} messages failed: failure ${statuses.indexOf(want as never)} (${want})`,
    );
    expect(body.results?.map((r) => ("status" in r ? r.status : 200))).toEqual([...statuses]);
  });
});

describe("what is refused before admission", () => {
  test.each([
    ["invalid JSON", "{bad", /not valid JSON/],
    ["an object without a message", '{"logz":["a"]}', /has no message/],
    ["a packet with a field beside logs", '{"logs":["a"],"x":1}', /unknown field\(s\): x/],
    ["an empty body", "", /empty body/],
    ["a packet over MAX_PACKET", JSON.stringify({ logs: Array(11).fill("x") }), /MAX_PACKET/],
  ])("%s: 400, counted as invalid, nothing queued", async (_, body, error) => {
    const { post, channel, counters } = rig();
    const res = await post(body);
    expect(res.status).toBe(400);
    expect((await errorOf(res)).error).toMatch(error);
    expect(channel.size).toBe(0);
    expect(counters).toMatchObject({ invalid: 1, received: 0, rejected: 0 });
  });

  test.each([
    ["declared", { "content-length": "1001" }],
    ["chunked (no length declared)", {}],
  ])("a body over MAX_BODY_BYTES, %s: 413, counted as invalid, even when async", async (_, headers) => {
    const { post, channel, counters } = rig({ maxBodyBytes: 1000 });
    const res = await post({ log: "x".repeat(1000) }, { ...headers, prefer: "respond-async" });
    expect(res.status).toBe(413);
    expect((await errorOf(res)).error).toMatch(/larger than 1000 bytes/);
    expect(channel.size).toBe(0);
    expect(counters.invalid).toBe(1);
  });

  test("with a token configured: 401 without it or with a wrong one, then admitted with it", async () => {
    const { post, settleNext, counters } = rig({ authToken: "s3cret" });
    for (const headers of [{}, { authorization: "Bearer wrong" }, { authorization: "s3cret" }] as Record<
      string,
      string
    >[]) {
      const res = await post({ log: "a" }, headers);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe("Bearer");
    }
    expect(counters).toMatchObject({ invalid: 0, received: 0 });
    const res = post({ log: "a" }, { authorization: "Bearer s3cret" });
    await settleNext(ok("a1", { n: 0 }));
    expect((await res).status).toBe(200);
  });
});

// A format of the test's own: one record per comma-separated word, refusing "bad" with a 415, and
// answering with what it was told, so the test sees exactly what the handler hands a format.
type WordsDecoded = { records: string[]; contentType: string };
function wordsFormat(seen: { bodies: Uint8Array[]; responded: unknown[] }): IngestFormat<WordsDecoded> {
  return {
    name: "words",
    decode(body, contentType) {
      seen.bodies.push(body);
      const text = new TextDecoder().decode(body);
      if (text === "bad") throw new HttpError(415, "words only");
      return { records: text === "" ? [] : text.split(","), contentType };
    },
    respond(decoded, _req, acceptance) {
      seen.responded.push(acceptance);
      return Response.json({ words: decoded.records.length, contentType: decoded.contentType }, { status: 201 });
    },
  };
}

describe("any format through the same handler", () => {
  const words = () => {
    const seen = { bodies: [] as Uint8Array[], responded: [] as unknown[] };
    return { seen, ...rig({ format: wordsFormat(seen) }) };
  };

  test("the format gets the body's bytes and Content-Type, its records are queued, and it builds the answer", async () => {
    const { post, settleNext, seen } = words();
    const res = post("a,b,ü", { "content-type": "text/words" });
    const job = await settleNext(ok("a1", { n: 0 }), ok("a2", { n: 1 }), ok("a1", { n: 2 }));
    expect(job.logs).toEqual(["a", "b", "ü"]);
    expect((await res).status).toBe(201);
    expect(await (await res).json()).toEqual({ words: 3, contentType: "text/words" });
    expect(seen.bodies[0]).toEqual(new TextEncoder().encode("a,b,ü"));
    expect(seen.responded).toEqual([
      { async: false, results: [ok("a1", { n: 0 }), ok("a2", { n: 1 }), ok("a1", { n: 2 })] },
    ]);
  });

  test("respond-async: the format answers once the records are queued", async () => {
    const { post, channel, seen } = words();
    expect((await post("a,b", { prefer: "respond-async" })).status).toBe(201);
    expect(seen.responded).toEqual([{ async: true }]);
    expect(channel.size).toBe(2);
  });

  test("a format's own refusal (415) is the answer, counted as invalid, nothing queued", async () => {
    const { post, channel, counters } = words();
    const res = await post("bad");
    expect(res.status).toBe(415);
    expect(await res.json()).toEqual({ error: "words only" });
    expect(channel.size).toBe(0);
    expect(counters.invalid).toBe(1);
  });

  test("MAX_PACKET counts records whatever the format: 11 words are refused with 400", async () => {
    const { post, channel, counters, seen } = words();
    const res = await post(Array(11).fill("w").join(","));
    expect(res.status).toBe(400);
    expect((await errorOf(res)).error).toBe("11 messages in one request, more than MAX_PACKET (10): split it");
    expect(channel.size).toBe(0);
    expect(counters.invalid).toBe(1);
    expect(seen.responded).toEqual([]);
  });

  test("no records: nothing is queued and the format answers at once", async () => {
    const { post, channel, seen, counters } = words();
    expect((await post("")).status).toBe(201);
    expect(channel.size).toBe(0);
    expect(seen.responded).toEqual([{ async: false, results: [] }]);
    expect(counters.received).toBe(0);
  });

  test("one record failing fails the whole request: the worst status, and the format is never asked to answer", async () => {
    const { answer, seen } = words();
    const res = await answer("a,b,c", ok("a1", {}), failed(503, "no healthy analyzer"), failed(502, "boom"));
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    // Only /analyze lists every outcome; other formats get the reason alone.
    expect(await res.json()).toEqual({ error: "2 of 3 messages failed: no healthy analyzer" });
    expect(seen.responded).toEqual([]);
  });

  test("a single record's failure is its own error", async () => {
    const { answer } = words();
    const res = await answer("a", failed(504, "timed out after 2000 ms"));
    expect(res.status).toBe(504);
    expect(await res.json()).toEqual({ error: "timed out after 2000 ms" });
  });

  test("the token and the body limit come before the format sees anything", async () => {
    const seen = { bodies: [] as Uint8Array[], responded: [] as unknown[] };
    const { post } = rig({ format: wordsFormat(seen), authToken: "t", maxBodyBytes: 5 });
    expect((await post("a,b")).status).toBe(401);
    expect((await post("a,b,c,d", { authorization: "Bearer t" })).status).toBe(413);
    expect(seen.bodies).toEqual([]);
  });
});

describe("a format's own answer to a 5xx (format.failure)", () => {
  // The words format with a failure answer that says what it was given.
  const failing = (healthy = true) => {
    const seen = { bodies: [] as Uint8Array[], responded: [] as unknown[] };
    const format: IngestFormat<WordsDecoded> = {
      ...wordsFormat(seen),
      failure: (decoded, error) =>
        Response.json(
          { words: decoded.records, status: error.status, reason: error.message },
          { status: error.status, headers: { ...error.headers, "x-failure": "words" } },
        ),
    };
    return rig({ format, healthy });
  };

  test("a failed delivery: the format answers with the decoded records, the error's status and headers", async () => {
    const { answer } = failing();
    const res = await answer("a,b", ok("a1", {}), failed(503, "no healthy analyzer"));
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(res.headers.get("x-failure")).toBe("words");
    expect(await res.json()).toEqual({
      words: ["a", "b"],
      status: 503,
      reason: "1 of 2 messages failed: no healthy analyzer",
    });
    const timeout = await answer("c", failed(504, "timed out after 2000 ms"));
    expect([timeout.status, timeout.headers.get("x-failure")]).toEqual([504, "words"]);
  });

  test("refused at admission (no healthy analyzer): the format answers the 503", async () => {
    const { post } = failing(false);
    const res = await post("a");
    expect([res.status, res.headers.get("retry-after"), res.headers.get("x-failure")]).toEqual([503, "1", "words"]);
  });

  test("4xx keep the JSON error: a body it cannot decode, more than MAX_PACKET records", async () => {
    const { post } = failing();
    for (const body of ["bad", Array(11).fill("w").join(",")]) {
      const res = await post(body);
      expect(res.status).toBeLessThan(500);
      expect(res.headers.get("x-failure")).toBeNull();
      expect(Object.keys((await res.json()) as object)).toEqual(["error"]);
    }
  });
});
