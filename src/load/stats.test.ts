import { afterAll, describe, expect, test } from "bun:test";
import { type AnalyzerStatsEntry, type DistributorStats, emptySpool, zeroCounters } from "../protocol/stats.ts";
import { createStatsFetcher, statsUrl, totalDelivered, waitForDelivery } from "./stats.ts";

function analyzer(id: string, port: number, weight: number, delivered: number): AnalyzerStatsEntry {
  const share = weight / 4;
  return {
    id,
    url: `http://127.0.0.1:${port}`,
    group: null,
    weight,
    effectiveWeight: weight,
    healthy: true,
    share,
    requests: delivered,
    delivered,
    failed: 0,
    inflight: 0,
    healthChanges: 1,
    lastError: null,
  };
}

function snapshot(delivered: [number, number], depth = 0): DistributorStats {
  return {
    analyzers: [analyzer("a1", 5001, 1, delivered[0]), analyzer("a2", 5002, 3, delivered[1])],
    groups: [],
    ...zeroCounters(),
    received: delivered[0] + delivered[1] + depth,
    delivered: delivered[0] + delivered[1],
    queue: { depth, capacity: 1000 },
    spool: emptySpool(),
    workers: 4,
    activeWorkers: 0,
    uptimeSeconds: 1,
  };
}

describe("statsUrl", () => {
  test.each([
    ["http://localhost:6000/analyze", "http://localhost:6000/stats"],
    ["http://127.0.0.1:6000/analyze?x=1", "http://127.0.0.1:6000/stats"],
    ["https://logs.example/api/v1/analyze", "https://logs.example/stats"],
  ])("%s has its stats at %s", (analyze, stats) => {
    expect(statsUrl(analyze)).toBe(stats);
  });
});

describe("createStatsFetcher", () => {
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(request) {
      const path = new URL(request.url).pathname;
      if (path === "/stats") return Response.json(snapshot([1, 2]));
      if (path === "/broken") return new Response("oops", { status: 500 });
      if (path === "/html") return new Response("<html>", { headers: { "content-type": "text/html" } });
      return Response.json({ analyzers: [{ id: "a1" }] });
    },
  });
  const base = `http://127.0.0.1:${server.port}`;
  afterAll(() => server.stop(true));

  test("reads and validates the distributor's stats", async () => {
    expect(await createStatsFetcher(`${base}/stats`)()).toEqual(snapshot([1, 2]));
  });

  test.each([
    ["/broken", "answered 500"],
    ["/html", "did not answer JSON"],
    ["/shape", "answered an unexpected shape: analyzers.0.url:"],
  ])("%s fails with one line saying it %s", async (path, message) => {
    await expect(createStatsFetcher(`${base}${path}`)()).rejects.toThrow(`${base}${path} ${message}`);
  });

  test("an unreachable distributor fails with one line naming the URL", async () => {
    await expect(createStatsFetcher("http://127.0.0.1:1/stats")()).rejects.toThrow(
      "could not reach http://127.0.0.1:1/stats: ",
    );
  });
});

describe("waitForDelivery", () => {
  function polling(snapshots: DistributorStats[]) {
    let t = 0;
    let polls = 0;
    return {
      get polls() {
        return polls;
      },
      fetchStats: async () => snapshots[Math.min(polls++, snapshots.length - 1)]!,
      now: () => t,
      sleep: async (ms: number) => {
        t += ms;
      },
    };
  }
  const before = snapshot([10, 30]);

  test("returns at once when every accepted message is already delivered", async () => {
    const p = polling([snapshot([60, 180])]);
    expect(await waitForDelivery({ ...p, before, expected: 200 })).toEqual({
      stats: snapshot([60, 180]),
      settled: true,
      waitedMs: 0,
    });
    expect(p.polls).toBe(1);
  });

  test("waits while queued messages are still being delivered", async () => {
    const p = polling([snapshot([20, 40], 140), snapshot([40, 120], 40), snapshot([60, 180])]);
    const result = await waitForDelivery({ ...p, before, expected: 200, intervalMs: 100 });
    expect(result).toEqual({ stats: snapshot([60, 180]), settled: true, waitedMs: 200 });
  });

  test("stops once the queue is empty and deliveries stopped growing, even if some never arrive", async () => {
    const p = polling([snapshot([50, 150], 5), snapshot([55, 160]), snapshot([55, 160])]);
    const result = await waitForDelivery({ ...p, before, expected: 200, intervalMs: 100 });
    expect(result).toMatchObject({ settled: true, waitedMs: 200 });
    expect(totalDelivered(result.stats)).toBe(215);
  });

  test("gives up after the timeout with the last snapshot", async () => {
    const growing = Array.from({ length: 200 }, (_, i) => snapshot([10 + i, 30], 100));
    const result = await waitForDelivery({
      ...polling(growing),
      before,
      expected: 200,
      intervalMs: 100,
      timeoutMs: 1_000,
    });
    expect(result).toMatchObject({ settled: false, waitedMs: 1_000 });
    expect(result.stats.analyzers[0]!.delivered).toBe(20);
  });
});
