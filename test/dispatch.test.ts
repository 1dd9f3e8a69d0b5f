import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { createAnalyzer } from "../src/analyzer/app.ts";
import { Balancer } from "../src/distributor/balancer.ts";
import { createCounters } from "../src/distributor/counters.ts";
import { createDispatcher, type Job, type Outcome } from "../src/distributor/dispatch.ts";
import { createForward } from "../src/distributor/forward.ts";
import { RetryBudget } from "../src/distributor/retrybudget.ts";
import { createUpstream, type Upstream } from "../src/distributor/upstream.ts";
import { seededRandom } from "../src/math/random.ts";
import type { Analysis } from "../src/protocol/analysis.ts";

setDefaultTimeout(60_000); // see test/setup.ts

// The dispatcher (src/distributor/dispatch.ts) against real analyzers in this process, on
// ephemeral ports, with faults set per test.
const analyzers = ["a1", "a2", "a3"].map((id) => {
  const analyzer = createAnalyzer({
    id,
    latencySeconds: 0,
    failureRate: 0,
    maxBodyBytes: 1 << 20,
    maxTemplates: 100,
    auditFile: undefined,
    adminToken: undefined,
    adminLoopback: false,
    dedupeWindow: 1000,
  });
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: analyzer.app.fetch });
  return { ...analyzer, server };
});
afterAll(() => {
  for (const a of analyzers) a.server.stop(true);
});

function setup(
  options: { maxAttempts?: number; budget?: RetryBudget; maxEjectionPercent?: number; extra?: Upstream[] } = {},
) {
  for (const a of analyzers) Object.assign(a.fault, { down: false, failureRate: 0 });
  const upstreams = [...analyzers.map((a) => createUpstream(a.server.url.origin, 1)), ...(options.extra ?? [])];
  const balancer = new Balancer(upstreams, { random: seededRandom(5), maxEjectionPercent: options.maxEjectionPercent });
  for (const u of upstreams) balancer.setHealthy(u, true, "test");
  const counters = createCounters();
  const dispatch = createDispatcher({
    balancer,
    counters,
    forward: createForward(1000),
    maxAttempts: options.maxAttempts ?? 3,
    budget: options.budget,
    ledger: { delivered() {}, givenUp() {}, messageId: () => undefined },
  });
  return { upstreams, balancer, counters, dispatch };
}

/** n messages as one packet job whose outcomes land in `outcomes`, each settled exactly once. */
function messages(n: number): { batch: Job[]; outcomes: Outcome[] } {
  const outcomes: Outcome[] = [];
  const reply = {
    settle(start: number, end: number, o: Outcome) {
      for (let i = start; i < end; i++) {
        if (outcomes[i] !== undefined) throw new Error(`message ${i} settled twice`);
        outcomes[i] = o;
      }
    },
  };
  return { batch: [{ logs: Array.from({ length: n }, (_, i) => `INFO line ${i}`), reply }], outcomes };
}

test("a packet is split into one request per analyzer and every message gets its own analysis, in place", async () => {
  const { dispatch, counters } = setup();
  const { batch, outcomes } = messages(30);
  const before = analyzers.map((a) => a.counts.requests);
  await dispatch(batch);
  expect(outcomes.every((o) => "analyzer" in o && (JSON.parse(o.result!) as Analysis).template === "line <*>")).toBe(
    true,
  );
  // each outcome is the analysis of the line at its own position
  for (const [i, o] of outcomes.entries()) {
    expect("analyzer" in o && (JSON.parse(o.result!) as { length: number }).length).toBe(`INFO line ${i}`.length);
  }
  expect(analyzers.map((a, i) => a.counts.requests - before[i])).toEqual([1, 1, 1]);
  expect(counters.delivered).toBe(30);
});

test("a 5xx marks the analyzer down and its messages are retried on another one", async () => {
  const { dispatch, counters, upstreams } = setup();
  analyzers[0].fault.failureRate = 1;
  const { batch, outcomes } = messages(30);
  await dispatch(batch);
  expect(outcomes.every((o) => "analyzer" in o && o.analyzer !== "a1")).toBe(true);
  expect(upstreams[0].healthy).toBe(false);
  expect(counters.retried).toBeGreaterThan(0);
  expect(counters.failed).toBe(0);
});

test("5xx ejections stop at MAX_EJECTION_PERCENT; retries still avoid the analyzer that failed", async () => {
  const { dispatch, upstreams, counters } = setup({ maxEjectionPercent: 34, maxAttempts: 5 });
  analyzers[0].fault.failureRate = 1;
  analyzers[1].fault.failureRate = 1;
  const { batch, outcomes } = messages(60);
  await dispatch(batch);
  expect(upstreams.filter((u) => !u.healthy)).toHaveLength(1); // 1 of 3 is 33%: a second is not ejected
  expect(outcomes.filter((o) => "analyzer" in o).every((o) => "analyzer" in o && o.analyzer === "a3")).toBe(true);
  expect(counters.delivered + counters.failed).toBe(60);
});

test("an unreachable analyzer is marked down whatever the ejection cap", async () => {
  const dead = createUpstream("http://127.0.0.1:1", 1);
  const { dispatch, counters } = setup({ maxEjectionPercent: 0, extra: [dead] });
  const { batch, outcomes } = messages(40);
  await dispatch(batch);
  expect(dead.healthy).toBe(false);
  expect(outcomes.every((o) => "analyzer" in o)).toBe(true);
  expect(counters.failed).toBe(0);
});

test("after maxAttempts failures a message fails with 502 and the reason", async () => {
  const { dispatch, counters } = setup({ maxAttempts: 2, maxEjectionPercent: 0 });
  for (const a of analyzers) a.fault.failureRate = 1;
  const { batch, outcomes } = messages(3);
  await dispatch(batch);
  for (const o of outcomes) {
    expect(o).toMatchObject({ status: 502 });
    expect("error" in o && o.error).toMatch(/answered 500.*gave up after 2 attempt/);
  }
  expect(counters.failed).toBe(3);
});

test("with the retry budget spent, a failed request is not retried and says why", async () => {
  const budget = new RetryBudget({ ratio: 0, minPerSecond: 0, now: () => 0 });
  while (budget.tryWithdraw());
  const { dispatch, counters } = setup({ budget, maxEjectionPercent: 0 });
  for (const a of analyzers) a.fault.failureRate = 1;
  const { batch, outcomes } = messages(1);
  await dispatch(batch);
  expect("error" in outcomes[0] && outcomes[0].error).toContain("retry budget spent");
  expect(counters.retried).toBe(0);
  expect(counters.retriesDenied).toBe(1);
});

test("async messages wait for an analyzer instead of failing when none is healthy", async () => {
  const { dispatch, balancer, upstreams, counters } = setup();
  for (const u of upstreams) balancer.setHealthy(u, false, "down");
  const batch: Job[] = [{ logs: ["WARN queued"], reply: null }];
  const done = dispatch(batch);
  await Bun.sleep(20);
  expect(counters.delivered).toBe(0);
  balancer.setHealthy(upstreams[2], true, "back");
  await done;
  expect(counters.delivered).toBe(1);
});
