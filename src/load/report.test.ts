import { describe, expect, test } from "bun:test";
import { type AnalyzerStatsEntry, type DistributorStats, emptySpool, zeroCounters } from "../protocol/stats.ts";
import { createPaint } from "./colour.ts";
import { compareDistribution } from "./distribution.ts";
import { buildReport, type DistributionSection, exitCode, type RunSettings, renderText } from "./report.ts";
import type { RunResult } from "./runner.ts";

const plain = createPaint(false);

// 12 requests in 2 s: 9 answered 200, one 503, two never answered.
const RESULT: RunResult = {
  elapsedMs: 2_000,
  requests: 12,
  successes: 9,
  failures: 3,
  latencies: Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]),
  statusCodes: { "200": 9, "503": 1 },
  errors: [
    { kind: "connection", message: "ECONNREFUSED: Unable to connect.", count: 2 },
    { kind: "http", message: "503 queue is full", count: 1 },
  ],
};
const SETTINGS: RunSettings = {
  url: "http://localhost:6000/analyze",
  concurrency: 4,
  rate: null,
  packet: 5,
  async: false,
  seed: 7,
};
const SKIPPED: DistributionSection = {
  statsUrl: "http://localhost:6000/stats",
  skipped: "could not reach http://localhost:6000/stats: refused",
};

function analyzer(id: string, port: number, weight: number, healthy: boolean, delivered: number): AnalyzerStatsEntry {
  const effectiveWeight = healthy ? weight : 0;
  return {
    id,
    url: `http://127.0.0.1:${port}`,
    group: null,
    weight,
    effectiveWeight,
    healthy,
    share: 0,
    requests: 0,
    delivered,
    failed: 0,
    inflight: 0,
    healthChanges: 0,
    lastError: null,
  };
}

function snapshot(delivered: [number, number], healthy: [boolean, boolean] = [true, true]): DistributorStats {
  return {
    analyzers: [analyzer("a1", 5001, 1, healthy[0], delivered[0]), analyzer("a2", 5002, 3, healthy[1], delivered[1])],
    groups: [],
    ...zeroCounters(),
    queue: { depth: 0, capacity: 100 },
    spool: emptySpool(),
    workers: 4,
    activeWorkers: 0,
    uptimeSeconds: 0,
  };
}

function measured(after: DistributorStats, accepted: number): DistributionSection {
  return {
    statsUrl: "http://localhost:6000/stats",
    settled: true,
    ...compareDistribution(snapshot([0, 0]), after, accepted),
  };
}

describe("buildReport", () => {
  const report = buildReport(RESULT, SETTINGS, SKIPPED);

  test("the summary counts a 2xx as success and logs in packets", () => {
    expect(report.summary).toEqual({
      successRate: 0.75,
      totalMs: 2_000,
      slowestMs: 10,
      fastestMs: 1,
      averageMs: 5.5,
      requestsPerSec: 6,
      logsPerSec: 22.5,
      requests: 12,
      successes: 9,
      failures: 3,
      logsAccepted: 45,
      ...SETTINGS,
    });
  });

  test("percentiles are nearest-rank over the replies", () => {
    expect(report.latencyPercentiles).toEqual({
      p10: 1,
      p25: 3,
      p50: 5,
      p75: 8,
      p90: 9,
      p95: 10,
      p99: 10,
      "p99.9": 10,
    });
  });

  test("the histogram spans fastest to slowest in 11 buckets, to the microsecond", () => {
    expect(report.histogram.map((b) => b.upToMs)).toEqual([1, 1.9, 2.8, 3.7, 4.6, 5.5, 6.4, 7.3, 8.2, 9.1, 10]);
    expect(report.histogram.map((b) => b.count)).toEqual([1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  });

  test("a run with no replies has no latency figures, and JSON keeps them as null", () => {
    const empty = buildReport(
      { ...RESULT, latencies: new Float64Array(0), successes: 0, failures: 12, statusCodes: {} },
      SETTINGS,
      SKIPPED,
    );
    expect(empty.summary).toMatchObject({ slowestMs: null, fastestMs: null, averageMs: null, successRate: 0 });
    expect(empty.latencyPercentiles).toEqual({});
    expect(JSON.parse(JSON.stringify(empty)).summary.slowestMs).toBeNull();
  });

  test("the JSON keys are camelCase throughout", () => {
    const keys = JSON.stringify(buildReport(RESULT, SETTINGS, measured(snapshot([50, 150]), 200))).match(/"[^"]+":/g)!;
    for (const key of keys) expect(key).not.toMatch(/[_ -]/);
  });
});

describe("exitCode", () => {
  test.each([
    [{ requests: 12, failures: 3 }, 1],
    [{ requests: 12, failures: 0, successes: 12 }, 0],
    [{ requests: 0, failures: 0, successes: 0 }, 1],
  ])("%j exits %d", (counts, code) => {
    expect(exitCode(buildReport({ ...RESULT, ...counts }, SETTINGS, SKIPPED))).toBe(code as 0 | 1);
  });
});

describe("renderText", () => {
  const text = renderText(buildReport(RESULT, SETTINGS, SKIPPED), plain);

  test("follows oha's order: summary, histogram, percentiles, status codes, errors, then the distribution", () => {
    const order = [
      "Summary:",
      "Response time histogram:",
      "Response time distribution:",
      "Status code distribution:",
      "Error distribution:",
      "Distribution across analyzers",
    ];
    const positions = order.map((heading) => text.indexOf(heading));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
  });

  test.each([
    "  Success rate:  75.00%  (success = a 2xx response)",
    "  Total:         2.0000 s",
    "  Slowest:       10.000 ms",
    "  Fastest:       1.000 ms",
    "  Average:       5.500 ms",
    "  Requests/sec:  6.00",
    "  Logs/sec:      22.50",
    "  Requests:      12 (9 succeeded, 3 failed); closed loop, 4 concurrent",
    "  Logs:          45 accepted, 5 per request, sync",
    "   1.000 ms [1] |■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■■",
    "   1.900 ms [0] |",
    "   50.00% in 5.000 ms",
    "   99.90% in 10.000 ms",
    "  [200] 9 responses",
    "  [503] 1 responses",
    "  [2] connection error: ECONNREFUSED: Unable to connect.",
    "  [1] HTTP error: 503 queue is full",
    "  skipped: could not reach http://localhost:6000/stats: refused",
  ])("has the line %p", (line) => {
    expect(text.split("\n")).toContain(line);
  });

  test("without a TTY there are no escape codes", () => {
    expect(text).not.toContain("\x1b[");
  });

  test("an open-loop run says so", () => {
    expect(renderText(buildReport(RESULT, { ...SETTINGS, rate: 250 }, SKIPPED), plain)).toContain(
      "open loop at 250 req/s, up to 4 in flight",
    );
  });

  test("the distribution table shows shares, deviation and a consistent verdict", () => {
    const lines = renderText(buildReport(RESULT, SETTINGS, measured(snapshot([49, 151]), 200)), plain).split("\n");
    const table = lines.slice(lines.findIndex((l) => l.startsWith("Distribution across analyzers")));
    expect(table.slice(0, 6)).toEqual([
      "Distribution across analyzers (http://localhost:6000/stats, during this run):",
      "  analyzer  weight  healthy  received  expected  observed  deviation",
      "  a1             1  yes            49    25.00%    24.50%   -0.50 pp",
      "  a2             3  yes           151    75.00%    75.50%   +0.50 pp",
      "  total                           200",
      "  chi-square 0.03, 1 df, p = 0.870: consistent with weights (p ≥ 0.001)",
    ]);
  });

  test("a skewed split is reported as NOT consistent, with health changes and notes", () => {
    const text = renderText(buildReport(RESULT, SETTINGS, measured(snapshot([100, 100], [false, true]), 200)), plain);
    // Expected 50 and 150, got 100 and 100: chi-square = 50²/50 + 50²/150 = 66.67.
    expect(text).toContain("  a1             1  yes → no       100    25.00%    50.00%  +25.00 pp");
    expect(text).toContain("  chi-square 66.67, 1 df, p = 3.2e-16: NOT consistent with weights (p < 0.001)");
    expect(text).toContain(
      "  note: a1 was unhealthy at the end of the run; it gets nothing while unhealthy, so its share falls short",
    );
  });

  test("deliveries still arriving when the report was taken are flagged", () => {
    const section = { ...measured(snapshot([50, 150]), 200), settled: false };
    expect(renderText(buildReport(RESULT, SETTINGS, section), plain)).toContain(
      "  note: deliveries were still arriving when the report was taken",
    );
  });
});
