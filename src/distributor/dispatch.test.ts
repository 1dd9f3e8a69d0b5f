// The dispatcher's own logic over a real Balancer and real Upstreams, with its `forward` scripted per
// analyzer so that every outcome (results, 5xx, timeout, no connection, 4xx) is the test's to choose.
// test/dispatch.test.ts runs it against real analyzers over HTTP.

import { describe, expect, test } from "bun:test";
import { chiSquare, expectedCounts } from "../math/chisquare.ts";
import { seededRandom } from "../math/random.ts";
import { isRaw, messageOf, type RawLine, type Routable, rawText } from "../protocol/record.ts";
import { Balancer } from "./balancer.ts";
import { createCounters } from "./counters.ts";
import { createDispatcher, type Job, NO_HEALTHY_ANALYZER, type Outcome, type Reply } from "./dispatch.ts";
import type { ForwardResult, RawRuns } from "./forward.ts";
import { RetryBudget } from "./retrybudget.ts";
import { createUpstream, type Upstream } from "./upstream.ts";

/** What an analyzer does with a request: answer, or fail in one of the ways forward.ts reports. */
type Behaviour = "ok" | "5xx" | "timeout" | "unreachable" | "4xx";

const FAILURES: Record<Exclude<Behaviour, "ok">, Extract<ForwardResult, { ok: false }>> = {
  "5xx": { ok: false, retryable: true, unreachable: false, timedOut: false, reason: "answered 500: boom" },
  timeout: { ok: false, retryable: true, unreachable: false, timedOut: true, reason: "timed out after 1000 ms" },
  unreachable: { ok: false, retryable: true, unreachable: true, timedOut: false, reason: "connection refused" },
  "4xx": { ok: false, retryable: false, unreachable: false, timedOut: false, reason: "answered 400: bad log" },
};

/** What forward was given, a message each: runs of raw lines cut back into their lines (as forward sends them, each run then a line break). */
function messagesIn(logs: readonly Routable[] | RawRuns): Routable[] {
  if (!("runs" in logs)) return [...logs];
  const lines = logs.runs.flatMap((run) =>
    new TextDecoder()
      .decode(run)
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== ""),
  );
  expect(lines).toHaveLength(logs.count);
  return lines;
}

/** The analysis a scripted analyzer gives a log: the log itself, so each result shows where it came from. */
const resultFor = (log: string) => JSON.stringify({ log });

/** `runs`: how many runs of raw lines the request carried them in, when it did. */
type Call = { upstream: Upstream; logs: string[]; records: Routable[]; inflightDuring: number; runs?: number };

type RigOptions = {
  weights?: number[];
  /** Per analyzer: one behaviour for every request, or one per request in turn (the last repeats). */
  behaviours?: (Behaviour | Behaviour[])[];
  maxAttempts?: number;
  maxEjectionPercent?: number;
  budget?: RetryBudget;
  seed?: number;
  maxBatchBytes?: number;
  /** The analyzers answer 413 to a request whose messages' text is longer than this (their MAX_BODY_BYTES). */
  takesUpTo?: number;
};

function rig({
  weights = [1, 1, 1],
  behaviours = [],
  maxAttempts = 3,
  maxEjectionPercent,
  budget,
  seed = 7,
  maxBatchBytes,
  takesUpTo = Number.POSITIVE_INFINITY,
}: RigOptions = {}) {
  const upstreams = weights.map((w, i) => createUpstream(`http://a${i + 1}.test:9000`, w));
  const balancer = new Balancer(upstreams, { random: seededRandom(seed), maxEjectionPercent });
  for (const u of upstreams) balancer.setHealthy(u, true, "test");
  const counters = createCounters();
  const calls: Call[] = [];
  const observed: [Upstream, number][] = [];
  const lost: [start: number, end: number, reason: string][] = [];
  const delivered: [start: number, end: number][] = [];
  const turns = new Map<Upstream, number>();

  async function forward(upstream: Upstream, sent: readonly Routable[] | RawRuns): Promise<ForwardResult> {
    const records = messagesIn(sent);
    const logs = records.map((r) => (isRaw(r) ? rawText(r) : messageOf(r)));
    calls.push({
      upstream,
      logs,
      records,
      inflightDuring: upstream.inflight,
      runs: "runs" in sent ? sent.runs.length : undefined,
    });
    await Promise.resolve(); // answer later, as a real request does
    const script = behaviours[upstreams.indexOf(upstream)] ?? "ok";
    const turn = turns.get(upstream) ?? 0;
    turns.set(upstream, turn + 1);
    const behaviour = typeof script === "string" ? script : script[Math.min(turn, script.length - 1)];
    if (behaviour !== "ok") return FAILURES[behaviour];
    if (logs.reduce((n, l) => n + l.length, 0) > takesUpTo)
      return {
        ok: false,
        retryable: false,
        unreachable: false,
        timedOut: false,
        reason: "answered 413: too large",
        tooLarge: true,
      };
    return { ok: true, analyzer: upstream.id, results: logs.map(resultFor) };
  }

  const dispatch = createDispatcher({
    balancer,
    forward,
    counters,
    maxAttempts,
    budget,
    maxBatchBytes,
    observe: (upstream, seconds) => observed.push([upstream, seconds]),
    ledger: {
      delivered: (_job, start, end) => delivered.push([start, end]),
      givenUp: (_job, start, end, reason) => lost.push([start, end, reason]),
      messageId: () => undefined,
    },
  });
  /** Logs sent to each analyzer, in the balancer's order. */
  const logsTo = () =>
    upstreams.map((u) => calls.filter((c) => c.upstream === u).reduce((n, c) => n + c.logs.length, 0));
  return { upstreams, balancer, counters, calls, observed, lost, delivered, dispatch, logsTo };
}

/** A client request of `n` logs named `prefix i`, whose outcomes land in `outcomes`, each exactly once. */
function job(n: number, prefix = "line"): { job: Job & { logs: string[] }; outcomes: Outcome[] } {
  const outcomes: Outcome[] = [];
  const reply = {
    settle(start: number, end: number, o: Outcome) {
      for (let i = start; i < end; i++) {
        if (outcomes[i] !== undefined) throw new Error(`message ${i} settled twice`);
        outcomes[i] = o;
      }
    },
  };
  return { job: { logs: Array.from({ length: n }, (_, i) => `${prefix} ${i}`), reply }, outcomes };
}

/** A reply that puts each message's outcome at its index in `outcomes`. */
const into = (outcomes: Outcome[]): Reply => ({
  settle(start, end, o) {
    for (let i = start; i < end; i++) outcomes[i] = o;
  },
});

const asyncJob = (n: number, prefix = "async"): Job => ({
  logs: Array.from({ length: n }, (_, i) => `${prefix} ${i}`),
  reply: null,
});

/** Lets the event loop go round a few times (no clock involved), so anything ready runs. */
const turnsOfTheLoop = async (n = 5) => {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe("splitting a batch", () => {
  test("each picked analyzer gets one request carrying all of its messages from every job in the batch", async () => {
    const { dispatch, calls, upstreams } = rig();
    const first = job(30, "first");
    const second = job(20, "second");
    await dispatch([first.job, second.job]);
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.upstream))).toEqual(new Set(upstreams));
    expect(calls.flatMap((c) => c.logs).sort()).toEqual([...first.job.logs, ...second.job.logs].sort());
    for (const c of calls)
      expect(c.logs.some((l) => l.startsWith("first")) && c.logs.some((l) => l.startsWith("second"))).toBe(true);
  });

  test("a structured record travels to its analyzer as it was queued, fields and all", async () => {
    const { dispatch, calls } = rig({ weights: [1] });
    const record = { message: "disk full", fields: { level: "error", time: "2026-11-24T19:46:28Z" } };
    const outcomes: Outcome[] = [];
    await dispatch([{ logs: ["plain", record], reply: into(outcomes) }]);
    expect(calls[0].records).toEqual(["plain", record]);
    expect(calls[0].records[1]).toBe(record);
    expect(outcomes.map((o) => "result" in o && o.result)).toEqual([resultFor("plain"), resultFor("disk full")]);
  });

  test("an NDJSON body's lines go as runs of its bytes, one per job and analyzer; each result at its own index", async () => {
    const { dispatch, calls, upstreams } = rig();
    /** A job of raw lines as ndjsonLines makes them, a blank line among them. */
    const rawJob = (prefix: string, n: number) => {
      const texts = Array.from({ length: n }, (_, i) => `{"msg":"${prefix} ${i}"}`);
      const body = new TextEncoder().encode(`${texts.slice(0, 3).join("\n")}\n\n${texts.slice(3).join("\n")}\n`);
      const lines: RawLine[] = [];
      for (let start = 0; start < body.length; ) {
        const end = body.indexOf(10, start);
        if (end > start) lines.push({ body, start, end });
        start = end + 1;
      }
      const outcomes: Outcome[] = [];
      const reply = into(outcomes);
      return { job: { logs: lines, reply } satisfies Job, texts, outcomes };
    };
    const first = rawJob("first", 40);
    const second = rawJob("second", 30);
    await dispatch([first.job, second.job]);
    expect(calls).toHaveLength(3);
    expect(new Set(calls.map((c) => c.upstream))).toEqual(new Set(upstreams));
    expect(calls.flatMap((c) => c.logs).sort()).toEqual([...first.texts, ...second.texts].sort());
    expect(calls.map((c) => c.runs)).toEqual([2, 2, 2]); // each analyzer's slice of each body, whole
    // each message settled with the analysis of its own line, from the analyzer it went to
    for (const { texts, outcomes } of [first, second]) {
      expect(outcomes).toHaveLength(texts.length);
      for (const [i, o] of outcomes.entries()) {
        const call = calls.find((c) => c.logs.includes(texts[i]!))!;
        expect(o).toEqual({ analyzer: call.upstream.id, result: resultFor(texts[i]!) });
      }
    }
  });

  test("each message's result comes back at its own index, from the analyzer that was sent it", async () => {
    const { dispatch, calls } = rig();
    const jobs = [job(30, "first"), job(20, "second"), job(1, "third")];
    await dispatch(jobs.map((j) => j.job));
    const sentTo = new Map(calls.flatMap((c) => c.logs.map((log) => [log, c.upstream.id] as const)));
    for (const { job: j, outcomes } of jobs) {
      expect(outcomes).toHaveLength(j.logs.length);
      for (const [i, o] of outcomes.entries())
        expect(o).toEqual({ analyzer: sentTo.get(j.logs[i])!, result: resultFor(j.logs[i]) });
    }
  });

  test("an async job's results are skipped over, so a sync job sharing its request still gets its own", async () => {
    const { dispatch, calls, counters } = rig({ weights: [1] });
    const sync = job(3, "sync");
    await dispatch([asyncJob(4), sync.job, asyncJob(2, "later")]);
    expect(calls).toHaveLength(1);
    expect(calls[0].logs).toHaveLength(9);
    expect(sync.outcomes.map((o) => "result" in o && o.result)).toEqual(sync.job.logs.map(resultFor));
    expect(counters.delivered).toBe(9);
  });

  test.each([
    [[1, 2, 5], 40_000],
    [[3, 1, 1, 1], 40_000],
    [[0.5, 4], 20_000],
  ])(
    "messages spread over analyzers of weights %p in proportion to them (%i messages, chi-square p > 1e-4)",
    async (weights, n) => {
      const { dispatch, logsTo } = rig({ weights, seed: 11 });
      await dispatch([job(n).job]);
      expect(chiSquare(logsTo(), expectedCounts(weights, n)).pValue).toBeGreaterThan(1e-4);
    },
  );

  test("a failing analyzer's messages go to the others in proportion to their own weights", async () => {
    // Never ejected (cap 0): it keeps its first-attempt share, and every retry avoids it.
    const { dispatch, counters, upstreams } = rig({
      weights: [1, 2, 3],
      behaviours: ["5xx"],
      maxEjectionPercent: 0,
    });
    const n = 30_000;
    await dispatch([job(n).job]);
    expect(upstreams[0].healthy).toBe(true);
    expect(counters).toMatchObject({ delivered: n, failed: 0 });
    const delivered = upstreams.map((u) => u.delivered);
    expect(delivered[0]).toBe(0);
    expect(chiSquare(delivered, expectedCounts([0, 2, 3], n)).pValue).toBeGreaterThan(1e-4);
    // ...while its own first-attempt share was still its weight's.
    expect(chiSquare([upstreams[0].failed, n - upstreams[0].failed], expectedCounts([1, 5], n)).pValue).toBeGreaterThan(
      1e-4,
    );
  });
});

describe("a failed request", () => {
  test("a retryable failure retries its messages on another analyzer and counts them", async () => {
    const { dispatch, counters, calls, upstreams } = rig({ weights: [1, 1], behaviours: ["5xx"] });
    const { job: j, outcomes } = job(40);
    await dispatch([j]);
    const onFirst = calls[0].upstream === upstreams[0] ? calls[0].logs.length : calls[1].logs.length;
    expect(onFirst).toBeGreaterThan(0);
    expect(outcomes.every((o) => "analyzer" in o && o.analyzer === upstreams[1].id)).toBe(true);
    expect(counters).toMatchObject({
      delivered: 40,
      retried: onFirst,
      retriedRequests: 1,
      failed: 0,
      retriesDenied: 0,
    });
    // round 1: one request each; round 2: the retry, on the other one
    expect(calls.map((c) => c.upstream.id).sort()).toEqual(["a1.test:9000", "a2.test:9000", "a2.test:9000"]);
    expect(calls.at(-1)!.logs).toEqual(calls.find((c) => c.upstream === upstreams[0])!.logs);
  });

  // Two analyzers, so a cap of 50% lets one be ejected and a cap of 0% none.
  test.each([
    ["no connection marks the analyzer down whatever the ejection cap", "unreachable", 0, false, "connection refused"],
    ["no connection marks it down under a cap that allows it too", "unreachable", 50, false, "connection refused"],
    ["a 5xx marks it down while the ejection cap allows", "5xx", 50, false, "answered 500: boom"],
    ["a 5xx leaves it up once the cap is reached", "5xx", 0, true, null],
    ["a timeout marks it down while the ejection cap allows", "timeout", 50, false, "timed out after 1000 ms"],
    ["a timeout leaves it up once the cap is reached", "timeout", 0, true, null],
    ["a 4xx never marks it down", "4xx", 100, true, null],
  ] as const)("%s", async (_, behaviour, maxEjectionPercent, healthy, lastError) => {
    const { dispatch, upstreams, balancer } = rig({ weights: [1, 1], behaviours: [behaviour], maxEjectionPercent });
    await dispatch([job(20).job]);
    expect(upstreams[0]).toMatchObject({ healthy, lastError });
    expect(balancer.healthyCount).toBe(healthy ? 2 : 1);
  });

  test("a non-retryable failure (4xx) fails its messages at once, with the analyzer's answer, and nothing is retried", async () => {
    const { dispatch, counters, calls, upstreams } = rig({ weights: [1, 1], behaviours: ["4xx"] });
    const { job: j, outcomes } = job(40);
    await dispatch([j]);
    const refused = calls.find((c) => c.upstream === upstreams[0])!.logs;
    expect(refused.length).toBeGreaterThan(0);
    expect(calls).toHaveLength(2);
    for (const [i, o] of outcomes.entries()) {
      if (refused.includes(j.logs[i])) {
        expect(o).toEqual({
          status: 502,
          error: "analyzer a1.test:9000 answered 400: bad log; gave up after 1 attempt(s)",
        });
      } else expect(o).toMatchObject({ analyzer: upstreams[1].id });
    }
    expect(counters).toMatchObject({ delivered: 40 - refused.length, failed: refused.length, retried: 0 });
    expect(counters).toMatchObject({ retriedRequests: 0, retriesDenied: 0 });
  });

  test.each([
    ["a 5xx", 502, "5xx"],
    ["a timeout", 504, "timeout"],
  ] as const)(
    "a message that meets %s on every attempt fails %i with the reason after maxAttempts",
    async (_, status, behaviour) => {
      const { dispatch, counters, calls } = rig({
        behaviours: [behaviour, behaviour, behaviour],
        maxEjectionPercent: 0,
      });
      const { job: j, outcomes } = job(1);
      await dispatch([j]);
      expect(calls).toHaveLength(3);
      for (let i = 1; i < calls.length; i++) expect(calls[i].upstream).not.toBe(calls[i - 1].upstream);
      const last = calls[2].upstream.id;
      const error = `analyzer ${last} ${FAILURES[behaviour].reason}; gave up after 3 attempt(s)`;
      expect(outcomes).toEqual([{ status, error }]);
      expect(counters).toMatchObject({ failed: 1, retried: 2, retriedRequests: 2, delivered: 0 });
    },
  );

  test("messages that run out of analyzers before attempts fail 503 for a waiting client", async () => {
    const { dispatch, counters, calls, upstreams } = rig({
      weights: [1, 1],
      behaviours: ["unreachable", "unreachable"],
      maxAttempts: 5,
    });
    const { job: j, outcomes } = job(1);
    await dispatch([j]);
    expect(calls).toHaveLength(2); // one attempt on each, then none is left
    expect(upstreams.map((u) => u.healthy)).toEqual([false, false]);
    expect(outcomes).toEqual([{ status: 503, error: NO_HEALTHY_ANALYZER }]);
    expect(counters).toMatchObject({ failed: 1, retried: 2 });
  });
});

describe("the retry budget", () => {
  test("with the budget spent a failed request is not retried: its messages fail and the denial is counted", async () => {
    const budget = new RetryBudget({ ratio: 0, minPerSecond: 0, now: () => 0 });
    for (let i = 1; i < budget.capacity; i++) budget.tryWithdraw(); // one retry left
    const { dispatch, counters, calls } = rig({ weights: [1], behaviours: ["5xx"], budget });
    const { job: j, outcomes } = job(3);
    await dispatch([j]);
    expect(calls).toHaveLength(2); // the first failure is retried, the second is not
    expect(counters).toMatchObject({ retriedRequests: 1, retried: 3, retriesDenied: 1, failed: 3 });
    expect(outcomes).toEqual(
      Array(3).fill({
        status: 502,
        error: "analyzer a1.test:9000 answered 500: boom (retry budget spent); gave up after 2 attempt(s)",
      }),
    );
  });

  test.each([
    [
      "a success that deposits a whole token pays for a retry",
      1,
      { retriedRequests: 1, retriesDenied: 0, delivered: 2 },
    ],
    ["without deposits the retry is denied", 0, { retriedRequests: 0, retriesDenied: 1, delivered: 1 }],
  ])("%s", async (_, ratio, want) => {
    const budget = new RetryBudget({ ratio, minPerSecond: 0, now: () => 0 });
    while (budget.tryWithdraw());
    const { dispatch, counters } = rig({ weights: [1], behaviours: [["ok", "5xx", "ok"]], budget });
    await dispatch([job(1).job]);
    await dispatch([job(1).job]);
    expect(counters).toMatchObject(want);
  });
});

describe("when no analyzer is healthy", () => {
  test("a waiting client's messages fail 503 at once and nothing is sent", async () => {
    const { dispatch, counters, calls, balancer, upstreams } = rig();
    for (const u of upstreams) balancer.setHealthy(u, false, "down");
    const { job: j, outcomes } = job(4);
    await dispatch([j]);
    expect(calls).toHaveLength(0);
    expect(outcomes).toEqual(Array(4).fill({ status: 503, error: NO_HEALTHY_ANALYZER }));
    expect(counters).toMatchObject({ failed: 4, delivered: 0, retried: 0 });
  });

  test("async messages wait for an analyzer to come back, and waiting uses up no attempts", async () => {
    // maxAttempts 3: a failure before the wait and one after it still leave a third attempt.
    const { dispatch, counters, calls, balancer, upstreams, lost } = rig({
      weights: [1],
      behaviours: [["unreachable", "5xx", "ok"]],
      maxAttempts: 3,
    });
    let finished = false;
    const done = dispatch([asyncJob(3)]).then(() => {
      finished = true;
    });
    await turnsOfTheLoop();
    expect(upstreams[0].healthy).toBe(false);
    expect({ finished, calls: calls.length, failed: counters.failed, lost: lost.length }).toEqual({
      finished: false,
      calls: 1,
      failed: 0,
      lost: 0,
    });
    balancer.setHealthy(upstreams[0], true, "back");
    await done;
    expect(calls).toHaveLength(3);
    expect(counters).toMatchObject({ delivered: 3, failed: 0, retried: 6 });
    expect(lost).toEqual([]);
  });

  test("async messages given up on after maxAttempts go to the ledger with the reason", async () => {
    const { dispatch, counters, lost, delivered } = rig({ weights: [1], behaviours: ["5xx"], maxAttempts: 2 });
    await dispatch([asyncJob(3)]);
    expect(lost).toEqual([[0, 3, "analyzer a1.test:9000 answered 500: boom; gave up after 2 attempt(s)"]]);
    expect(delivered).toEqual([]);
    expect(counters.failed).toBe(3);
  });

  test("the ledger hears of every async message delivered, once", async () => {
    const { dispatch, delivered } = rig({ weights: [1, 2, 3] });
    await dispatch([asyncJob(50), asyncJob(7)]);
    const count = delivered.reduce((n, [start, end]) => n + end - start, 0);
    expect(count).toBe(57);
  });

  test("a stored job's messages go where their draws say, and carry their ids", async () => {
    const draws = [0.1, 0.1, 0.9, 0.1, 0.5, 0.9];
    const ids: (string | null)[][] = [];
    const balancer = new Balancer(
      ["http://a1.test:9000", "http://a2.test:9000", "http://a3.test:9000"].map((u) => createUpstream(u, 1)),
    );
    for (const u of balancer.upstreams) balancer.setHealthy(u, true, "test");
    const sent = new Map<string, string[]>();
    const dispatch = createDispatcher({
      balancer,
      counters: createCounters(),
      maxAttempts: 1,
      forward: async (upstream, batch, options) => {
        ids.push(options?.ids ?? []);
        const logs = messagesIn(batch);
        sent.set(upstream.id, [...(sent.get(upstream.id) ?? []), ...logs.map(String)]);
        return { ok: true, analyzer: upstream.id, results: logs.map(() => "{}") };
      },
      ledger: {
        delivered() {},
        givenUp() {},
        messageId: (job, i) => `s-${job.stored?.row}-${i}`,
        draw: (_job, i) => draws[i],
      },
    });
    const logs = draws.map((_, i) => `m${i}`);
    await dispatch([{ logs, reply: null, stored: { row: 7, remaining: 6, bytes: 1 } }]);
    // Three equal weights: a draw below 1/3 is a1, from 1/3 to 2/3 a2, above a3.
    expect(Object.fromEntries(sent)).toEqual({
      "a1.test:9000": ["m0", "m1", "m3"],
      "a2.test:9000": ["m4"],
      "a3.test:9000": ["m2", "m5"],
    });
    expect(ids.flat().sort()).toEqual(draws.map((_, i) => `s-7-${i}`).sort());
  });
});

describe("what the balancer and observers are told", () => {
  test("each analyzer counts its requests, delivered and failed messages, with one in flight while it is asked", async () => {
    const { dispatch, calls, upstreams } = rig({
      weights: [1, 1, 1],
      behaviours: ["ok", "4xx", "ok"],
    });
    await dispatch([job(60).job]);
    expect(calls.every((c) => c.inflightDuring === 1)).toBe(true);
    const sent = (u: Upstream) => calls.filter((c) => c.upstream === u).reduce((n, c) => n + c.logs.length, 0);
    expect(upstreams.map((u) => [u.requests, u.delivered, u.failed, u.inflight])).toEqual([
      [1, sent(upstreams[0]), 0, 0],
      [1, 0, sent(upstreams[1]), 0],
      [1, sent(upstreams[2]), 0, 0],
    ]);
  });

  test("observe hears of every analyzer request once, with its analyzer and a duration in seconds", async () => {
    const { dispatch, calls, observed } = rig({ weights: [1, 1], behaviours: ["5xx"] });
    await dispatch([job(20).job]);
    const ids = (list: Upstream[]) => list.map((u) => u.id).sort();
    expect(ids(observed.map(([u]) => u))).toEqual(ids(calls.map((c) => c.upstream)));
    expect(observed).toHaveLength(3); // two in the first round, the retry
    expect(observed.every(([, seconds]) => seconds >= 0 && Number.isFinite(seconds))).toBe(true);
  });
});

describe("messages an analyzer refuses on its own, and minimal answers", () => {
  function oneAnalyzer(forward: (logs: Routable[], minimal: boolean) => ForwardResult) {
    const balancer = new Balancer([createUpstream("http://a1.test:9000", 1)]);
    for (const u of balancer.upstreams) balancer.setHealthy(u, true, "test");
    const counters = createCounters();
    const givenUp: [number, number, string][] = [];
    const delivered: [number, number][] = [];
    const minimal: boolean[] = [];
    const dispatch = createDispatcher({
      balancer,
      counters,
      maxAttempts: 3,
      forward: async (_upstream, logs, options) => {
        minimal.push(options?.minimal ?? false);
        return forward(messagesIn(logs), options?.minimal ?? false);
      },
      ledger: {
        delivered: (_job, start, end) => void delivered.push([start, end]),
        givenUp: (_job, start, end, reason) => void givenUp.push([start, end, reason]),
        messageId: () => undefined,
      },
    });
    return { dispatch, counters, givenUp, delivered, minimal, balancer };
  }
  const refusingTheSecond = (logs: Routable[]): ForwardResult => ({
    ok: true,
    analyzer: "a1",
    results: logs.map(() => "{}"),
    rejected: new Map([[1, "the line has no message"]]),
  });

  test("a refused message is settled with a 400 of its own, not retried; the others with their results", async () => {
    const { dispatch, counters, minimal, balancer } = oneAnalyzer(refusingTheSecond);
    const { job: j, outcomes } = job(3);
    await dispatch([j]);
    expect(outcomes).toEqual([
      { analyzer: "a1", result: "{}" },
      { status: 400, error: "message 2: the line has no message" },
      { analyzer: "a1", result: "{}" },
    ]);
    expect(counters).toMatchObject({ delivered: 2, failed: 1, retried: 0, invalidMessages: 1 });
    expect(minimal).toEqual([false]);
    expect(balancer.upstreams[0]!.healthy).toBe(true);
  });

  test("an async message refused becomes a dead letter with its reason; the rest are delivered", async () => {
    const { dispatch, givenUp, delivered, minimal, counters } = oneAnalyzer(() => ({
      ok: true,
      analyzer: "a1",
      rejected: new Map([[1, "the line has no message"]]),
    }));
    await dispatch([asyncJob(3)]);
    expect(counters).toMatchObject({ delivered: 2, failed: 1, invalidMessages: 1 });
    expect(minimal).toEqual([true]); // nobody reads an async message's analysis
    expect(givenUp).toEqual([[1, 2, "analyzer a1.test:9000 refused it: the line has no message"]]);
    expect(delivered).toEqual([
      [0, 1],
      [2, 3],
    ]);
  });

  test("minimal is asked only when no message of the request needs its analysis", async () => {
    const { dispatch, minimal } = oneAnalyzer((logs) => ({ ok: true, analyzer: "a1", results: logs.map(() => "{}") }));
    const notWanting = () => ({ ...job(2).job, minimal: true });
    await dispatch([notWanting()]);
    await dispatch([notWanting(), asyncJob(1)]);
    await dispatch([notWanting(), job(2).job]);
    expect(minimal).toEqual([true, true, false]);
  });
});

describe("batches too large for an analyzer", () => {
  /** `n` messages of `size` characters each, numbered so that every one is told apart. */
  const sized = (n: number, size: number, prefix: string) =>
    Array.from({ length: n }, (_, i) => `${prefix} ${i} `.padEnd(size, "x"));

  test("a batch over maxBatchBytes goes as several requests within it, each message settled once with its own result", async () => {
    const { dispatch, calls, counters } = rig({ weights: [1], maxBatchBytes: 10_000 });
    const jobs = [0, 1, 2].map((k) => ({ ...job(0), logs: sized(30, 1000, `job${k}`) }));
    const outcomes: Outcome[][] = jobs.map(() => []);
    await dispatch(jobs.map((j, k) => ({ logs: j.logs, reply: into(outcomes[k]) })));
    // 90 messages of ~1 KB: at most 9 per request of 10,000 bytes
    expect(calls.length).toBe(10);
    for (const c of calls) expect(c.logs.reduce((n, l) => n + l.length + 3, 0)).toBeLessThanOrEqual(10_000);
    expect(calls.flatMap((c) => c.logs).sort()).toEqual(jobs.flatMap((j) => j.logs).sort());
    for (const [k, j] of jobs.entries())
      expect(outcomes[k].map((o) => "result" in o && o.result)).toEqual(j.logs.map(resultFor));
    expect(counters).toMatchObject({ delivered: 90, failed: 0, retried: 0 });
  });

  test("a 413 halves the request until the halves fit: no attempt used up, the analyzer stays healthy", async () => {
    const { dispatch, calls, counters, upstreams } = rig({ weights: [1], maxAttempts: 1, takesUpTo: 5_000 });
    const { job: j, outcomes } = job(0);
    j.logs.push(...sized(40, 1000, "big"));
    await dispatch([j]);
    expect(outcomes.map((o) => "result" in o && o.result)).toEqual(j.logs.map(resultFor));
    const delivered = calls.filter((c) => c.logs.reduce((n, l) => n + l.length, 0) <= 5_000);
    expect(delivered.flatMap((c) => c.logs).sort()).toEqual([...j.logs].sort());
    expect(counters).toMatchObject({ delivered: 40, failed: 0, retried: 0 });
    expect(upstreams[0].healthy).toBe(true);
  });

  test("a message larger than the analyzer takes fails alone with 413, or becomes a dead letter when async", async () => {
    const { dispatch, counters, lost } = rig({ weights: [1], takesUpTo: 5_000 });
    const outcomes: Outcome[] = [];
    const logs = [...sized(3, 100, "small"), "y".repeat(6_000)];
    await dispatch([
      { logs, reply: into(outcomes) },
      { logs: ["z".repeat(7_000), "fine"], reply: null },
    ]);
    expect(outcomes.slice(0, 3).map((o) => "result" in o && o.result)).toEqual(logs.slice(0, 3).map(resultFor));
    expect(outcomes[3]).toEqual({
      status: 413,
      error: "a message is larger than analyzer a1.test:9000 takes: it answered 413: too large",
    });
    expect(lost).toEqual([[0, 1, "a message is larger than analyzer a1.test:9000 takes: it answered 413: too large"]]);
    expect(counters).toMatchObject({ delivered: 4, failed: 2, retried: 0 });
  });
});
