import { describe, expect, test } from "bun:test";
import { chiSquare, expectedCounts, logGamma, upperRegularizedGamma } from "./chisquare.ts";

describe("chiSquare", () => {
  // Critical values from standard tables: P(X >= x) for the chi-square distribution with df degrees.
  test.each([
    [1, 3.841, 0.05],
    [2, 5.991, 0.05],
    [5, 11.07, 0.05],
    [10, 23.209, 0.01],
    [63, 82.529, 0.05],
  ])("upper tail with %i degrees of freedom at %d is %d", (df, x, p) => {
    expect(upperRegularizedGamma(df / 2, x / 2)).toBeCloseTo(p, 3);
  });

  test("logGamma matches factorials", () => {
    expect(logGamma(1)).toBeCloseTo(0, 12);
    expect(logGamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(logGamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
  });

  test("counts that match the expectation exactly have p = 1", () => {
    const r = chiSquare([100, 200, 300], [100, 200, 300]);
    expect(r.statistic).toBe(0);
    expect(r.degreesOfFreedom).toBe(2);
    expect(r.pValue).toBeCloseTo(1, 12);
  });

  test("a grossly skewed sample is rejected", () => {
    const r = chiSquare([300, 200, 100], expectedCounts([1, 2, 3], 600));
    expect(r.pValue).toBeLessThan(1e-10);
  });

  test("a count where none was expected has p = 0", () => {
    expect(chiSquare([1, 9], [0, 10]).pValue).toBe(0);
  });

  test("categories expected to be empty do not count as degrees of freedom", () => {
    expect(chiSquare([0, 50, 50], [0, 50, 50]).degreesOfFreedom).toBe(1);
  });

  test("mismatched lengths and negative counts are rejected", () => {
    expect(() => chiSquare([1], [1, 2])).toThrow(RangeError);
    expect(() => chiSquare([-1, 2], [1, 2])).toThrow(/non-negative/);
  });
});
