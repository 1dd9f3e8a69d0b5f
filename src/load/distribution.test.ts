import { describe, expect, test } from "bun:test";
import { type AnalyzerStatsEntry, type DistributorStats, emptySpool, zeroCounters } from "../protocol/stats.ts";
import { compareDistribution, SIGNIFICANCE } from "./distribution.ts";

type Analyzer = Pick<AnalyzerStatsEntry, "id" | "weight" | "delivered"> & Partial<AnalyzerStatsEntry>;

function stats(...analyzers: Analyzer[]): DistributorStats {
  const full = analyzers.map((a) => ({
    url: `http://127.0.0.1/${a.id}`,
    group: null,
    effectiveWeight: a.weight,
    healthy: true,
    share: 0,
    requests: 0,
    failed: 0,
    inflight: 0,
    healthChanges: 0,
    lastError: null,
    ...a,
  }));
  const delivered = full.reduce((sum, a) => sum + a.delivered, 0);
  const counters = { ...zeroCounters(), received: delivered, delivered };
  return {
    analyzers: full,
    groups: [],
    ...counters,
    queue: { depth: 0, capacity: 100 },
    spool: emptySpool(),
    workers: 4,
    activeWorkers: 0,
    uptimeSeconds: 0,
  };
}

const START = stats({ id: "a1", weight: 1, delivered: 10 }, { id: "a2", weight: 3, delivered: 30 });

describe("compareDistribution", () => {
  test("counts during the run are the deltas of each analyzer's delivered counter", () => {
    const report = compareDistribution(
      START,
      stats({ id: "a1", weight: 1, delivered: 60 }, { id: "a2", weight: 3, delivered: 180 }),
      200,
    );
    expect(report.total).toBe(200);
    expect(report.analyzers.map((a) => [a.id, a.received, a.expectedShare, a.observedShare, a.deviation])).toEqual([
      ["a1", 50, 0.25, 0.25, 0],
      ["a2", 150, 0.75, 0.75, 0],
    ]);
    expect(report.chiSquare).toEqual({ statistic: 0, degreesOfFreedom: 1, pValue: 1 });
    expect(report.verdict).toBe("consistent");
    expect(report.notes).toEqual([]);
  });

  test("ordinary sampling noise is consistent with the weights", () => {
    // 1:3 over 1000 messages expects 250/750; 265/735 is χ² = 1.2, p ≈ 0.27.
    const report = compareDistribution(
      START,
      stats({ id: "a1", weight: 1, delivered: 275 }, { id: "a2", weight: 3, delivered: 765 }),
      1000,
    );
    expect(report.chiSquare!.statistic).toBeCloseTo(1.2, 10);
    expect(report.chiSquare!.pValue).toBeCloseTo(0.2733, 3);
    expect(report.verdict).toBe("consistent");
  });

  test("an even split where 1:3 was asked for is NOT consistent", () => {
    const report = compareDistribution(
      START,
      stats({ id: "a1", weight: 1, delivered: 510 }, { id: "a2", weight: 3, delivered: 530 }),
      1000,
    );
    expect(report.chiSquare!.pValue).toBeLessThan(SIGNIFICANCE);
    expect(report.verdict).toBe("inconsistent");
    expect(report.analyzers[0]!.deviation).toBeCloseTo(0.25, 12);
  });

  test("an analyzer unhealthy at the end keeps its weight and is called out", () => {
    const report = compareDistribution(
      START,
      stats({ id: "a1", weight: 1, delivered: 15, healthy: false }, { id: "a2", weight: 3, delivered: 225 }),
      200,
    );
    expect(report.analyzers[0]).toMatchObject({ healthyBefore: true, healthyAfter: false, expectedShare: 0.25 });
    expect(report.notes).toEqual([
      "a1 was unhealthy at the end of the run; it gets nothing while unhealthy, so its share falls short",
    ]);
  });

  test("an analyzer unhealthy throughout is expected to get nothing, so the rest are still tested fairly", () => {
    const before = stats(
      { id: "a1", weight: 1, delivered: 0 },
      { id: "a2", weight: 3, delivered: 0, healthy: false },
      { id: "a3", weight: 1, delivered: 0 },
    );
    const after = stats(
      { id: "a1", weight: 1, delivered: 100 },
      { id: "a2", weight: 3, delivered: 0, healthy: false },
      { id: "a3", weight: 1, delivered: 100 },
    );
    const report = compareDistribution(before, after, 200);
    expect(report.analyzers.map((a) => a.expectedShare)).toEqual([0.5, 0, 0.5]);
    expect(report.chiSquare!.degreesOfFreedom).toBe(1);
    expect(report.verdict).toBe("consistent");
    expect(report.notes).toEqual([
      "a2 was unhealthy at the start and the end of the run, so it is expected to get nothing",
    ]);
  });

  test("missing and extra deliveries are noted", () => {
    const after = stats({ id: "a1", weight: 1, delivered: 60 }, { id: "a2", weight: 3, delivered: 180 });
    expect(compareDistribution(START, after, 250).notes).toEqual([
      "50 of the 250 messages accepted were not seen delivered to an analyzer",
    ]);
    expect(compareDistribution(START, after, 150).notes).toEqual([
      "analyzers received 50 more messages than this run sent: other traffic during the run",
    ]);
  });

  test("with nothing delivered there is no verdict", () => {
    const report = compareDistribution(START, START, 0);
    expect(report).toMatchObject({ total: 0, chiSquare: undefined, verdict: "no messages" });
    expect(report.notes).toEqual(["no messages were delivered during the run, so there is nothing to test"]);
  });

  test("analyzers that come and go are matched by id and noted", () => {
    const after = stats({ id: "a2", weight: 3, delivered: 90 }, { id: "a9", weight: 1, delivered: 20 });
    const report = compareDistribution(START, after, 80);
    expect(report.analyzers.map((a) => [a.id, a.received])).toEqual([
      ["a2", 60],
      ["a9", 20],
    ]);
    expect(report.notes).toEqual([
      "a1 disappeared from /stats during the run and is left out",
      "a9 appeared in /stats during the run",
    ]);
  });
});
