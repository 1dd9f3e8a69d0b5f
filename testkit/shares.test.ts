import { describe, expect, test } from "bun:test";
import { seededRandom } from "../src/math/random.ts";
import { fitsWeights, sigmasFrom, withinSigmas } from "./shares.ts";

/** `n` independent picks by `weights`, counted per index. */
function draw(weights: number[], n: number, seed: number): number[] {
  const random = seededRandom(seed);
  const sum = weights.reduce((a, b) => a + b, 0);
  const counts = weights.map(() => 0);
  for (let i = 0; i < n; i++) {
    let r = random() * sum;
    let k = 0;
    while (r >= weights[k]) r -= weights[k++];
    counts[k]++;
  }
  return counts;
}

describe("sigmasFrom", () => {
  test("is the signed distance from total × p in binomial standard deviations", () => {
    // 10,000 draws at p = 0.5: σ = 50.
    expect(sigmasFrom(5_100, 10_000, 0.5)).toBeCloseTo(2, 12);
    expect(sigmasFrom(4_750, 10_000, 0.5)).toBeCloseTo(-5, 12);
  });

  test("a share of 0 or 1 has no spread: on the dot is 0, anything else infinitely far", () => {
    expect(sigmasFrom(0, 600, 0)).toBe(0);
    expect(sigmasFrom(1, 600, 0)).toBe(Infinity);
    expect(sigmasFrom(600, 600, 1)).toBe(0);
    expect(sigmasFrom(599, 600, 1)).toBe(-Infinity);
  });

  test("refuses a share outside 0..1", () => {
    expect(() => sigmasFrom(1, 10, 1.5)).toThrow("p must be a share from 0 to 1, got 1.5");
  });
});

describe.each([
  [[1, 2, 3], 1],
  [[1, 2, 3], 2],
  [[5, 1], 3],
  [[1, 1, 1, 1], 4],
])("picks by weights %p (seed %i)", (weights, seed) => {
  const fair = draw(weights, 60_000, seed);

  test("a fair split passes both checks", () => {
    expect(withinSigmas(fair, weights).ok).toBe(true);
    expect(fitsWeights(fair, weights).ok).toBe(true);
  });

  test("the same picks checked against other weights fail both", () => {
    const other = weights.toReversed();
    if (other.join() === weights.join()) other[0] *= 1.1; // 10% more for one of equal weights
    expect(withinSigmas(fair, other).ok).toBe(false);
    expect(fitsWeights(fair, other).ok).toBe(false);
  });
});

describe("withinSigmas", () => {
  test("one analyzer 6σ off is caught, 4σ off is not", () => {
    // 60,000 draws at 1:1:1: each expects 20,000 with σ = √(60,000 · 1/3 · 2/3) = 115.47.
    const sigma = Math.sqrt(60_000 * (1 / 3) * (2 / 3));
    const counts = (k: number) => [20_000 + Math.round(k * sigma), 20_000 - Math.round(k * sigma), 20_000];
    expect(withinSigmas(counts(6), [1, 1, 1])).toMatchObject({ ok: false, expected: [20_000, 20_000, 20_000] });
    expect(withinSigmas(counts(4), [1, 1, 1]).ok).toBe(true);
    expect(withinSigmas(counts(6), [1, 1, 1]).worst).toBeCloseTo(6, 2);
  });

  test("an analyzer with weight 0 must get nothing", () => {
    expect(withinSigmas([0, 300, 300], [0, 1, 1]).ok).toBe(true);
    expect(withinSigmas([1, 300, 299], [0, 1, 1]).ok).toBe(false);
  });

  test("refuses counts and weights that do not line up", () => {
    expect(() => withinSigmas([1, 2], [1, 2, 3])).toThrow(RangeError);
    expect(() => withinSigmas([1, 2], [0, 0])).toThrow("weights must have a positive sum");
  });
});
