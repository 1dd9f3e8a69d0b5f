import { describe, expect, test } from "bun:test";
import { histogram, LatencyRecorder, latencyStats, percentile, percentiles } from "./latency.ts";

const oneToTen = Float64Array.from({ length: 10 }, (_, i) => i + 1);
const oneToThousand = Float64Array.from({ length: 1000 }, (_, i) => i + 1);

describe("LatencyRecorder", () => {
  test("keeps every sample past its initial capacity and sorts them numerically", () => {
    const recorder = new LatencyRecorder(2);
    for (const ms of [10, 9, 100, 1.5, 20]) recorder.record(ms);
    expect(recorder.count).toBe(5);
    expect(Array.from(recorder.sorted())).toEqual([1.5, 9, 10, 20, 100]);
  });

  test("an empty recorder sorts to nothing", () => {
    expect(new LatencyRecorder().sorted().length).toBe(0);
  });

  test.each([-1, 1.5, Number.NaN])("a capacity of %p is refused", (capacity) => {
    expect(() => new LatencyRecorder(capacity)).toThrow(`expected must be a non-negative integer, got ${capacity}`);
  });
});

describe("latencyStats", () => {
  test("fastest, slowest and average of 1..10 are 1, 10 and 5.5", () => {
    expect(latencyStats(oneToTen)).toEqual({ fastest: 1, slowest: 10, average: 5.5 });
  });

  test("there are no stats without samples", () => {
    expect(latencyStats([])).toBeUndefined();
  });
});

describe("percentile (nearest rank)", () => {
  test.each([
    [10, 1],
    [25, 3],
    [50, 5],
    [75, 8],
    [90, 9],
    [95, 10],
    [99, 10],
    [99.9, 10],
    [0, 1],
    [100, 10],
  ])("p%d of 1..10 is %d", (p, expected) => {
    expect(percentile(oneToTen, p)).toBe(expected);
  });

  test.each([
    [10, 100],
    [50, 500],
    [99, 990],
    [99.9, 999],
  ])("p%d of 1..1000 is %d, not one rank too high from floating-point error", (p, expected) => {
    expect(percentile(oneToThousand, p)).toBe(expected);
  });

  test("every percentile of a single sample is that sample", () => {
    expect(percentiles([4.2])).toEqual({
      p10: 4.2,
      p25: 4.2,
      p50: 4.2,
      p75: 4.2,
      p90: 4.2,
      p95: 4.2,
      p99: 4.2,
      "p99.9": 4.2,
    });
  });

  test("the oha set of percentiles is keyed like oha", () => {
    expect(percentiles(oneToTen)).toEqual({ p10: 1, p25: 3, p50: 5, p75: 8, p90: 9, p95: 10, p99: 10, "p99.9": 10 });
  });

  test.each([-1, 101, Number.NaN])("p%p is refused", (p) => {
    expect(() => percentile(oneToTen, p)).toThrow(`percentile must be within 0..100, got ${p}`);
  });

  test("no samples have no percentiles", () => {
    expect(percentiles([])).toEqual({});
    expect(() => percentile([], 50)).toThrow("percentile of no samples");
  });
});

describe("histogram", () => {
  test("0..10 in 11 buckets puts one sample in each", () => {
    const samples = Float64Array.from({ length: 11 }, (_, i) => i);
    expect(histogram(samples)).toEqual(Array.from(samples, (upTo) => ({ upTo, count: 1 })));
  });

  test("bucket i holds samples in (bound i-1, bound i], the first only the fastest", () => {
    // min 1, max 10, 4 buckets: bounds 1, 4, 7, 10.
    expect(histogram([1, 1, 2, 4, 5, 10, 10], 4)).toEqual([
      { upTo: 1, count: 2 },
      { upTo: 4, count: 2 },
      { upTo: 7, count: 1 },
      { upTo: 10, count: 2 },
    ]);
  });

  test("equal samples make one bucket instead of dividing by zero", () => {
    expect(histogram([3, 3, 3])).toEqual([{ upTo: 3, count: 3 }]);
  });

  test("counts add up to the number of samples", () => {
    const buckets = histogram(oneToThousand);
    expect(buckets).toHaveLength(11);
    expect(buckets.reduce((sum, b) => sum + b.count, 0)).toBe(1000);
    expect(buckets.at(-1)!.upTo).toBe(1000);
  });

  test("no samples make no buckets", () => {
    expect(histogram([])).toEqual([]);
  });

  test.each([1, 2.5])("%p buckets are refused", (buckets) => {
    expect(() => histogram(oneToTen, buckets)).toThrow(`buckets must be an integer >= 2, got ${buckets}`);
  });
});
