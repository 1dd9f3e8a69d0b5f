// Did the messages split by weight? The two checks every test, the fault suite and the compose
// test use, so that they all mean the same by "fair":
// - per analyzer: the count within SIGMAS binomial standard deviations of total × weight / sum
//   (a fair split lands outside ±5σ about once in 1.7 million per analyzer);
// - all analyzers at once: Pearson's chi-square goodness of fit, p above SIGNIFICANCE.
// Both are exact for independent picks; the distributor's alias table picks independently.

import { chiSquare, expectedCounts } from "../src/math/chisquare.ts";

export const SIGMAS = 5;
export const SIGNIFICANCE = 1e-4;

/**
 * How far `count` of `total` draws lies from the expected total × p, in binomial standard
 * deviations √(total·p·(1−p)); negative below. Where p is 0 or 1 there is no spread: 0 on the dot,
 * ±Infinity off it.
 */
export function sigmasFrom(count: number, total: number, p: number): number {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`p must be a share from 0 to 1, got ${p}`);
  const off = count - total * p;
  const sd = Math.sqrt(total * p * (1 - p));
  if (sd === 0) return Math.abs(off) < 1e-9 ? 0 : Math.sign(off) * Infinity;
  return off / sd;
}

export type SigmaCheck = {
  /** total × weight / sum, per analyzer. */
  expected: number[];
  /** sigmasFrom() per analyzer. */
  sigmas: number[];
  /** The largest |sigmas|. */
  worst: number;
  /** Every analyzer within ±SIGMAS. */
  ok: boolean;
};

/** Each count against its weight's share of the total (a weight of 0: an analyzer expected to get nothing). */
export function withinSigmas(counts: readonly number[], weights: readonly number[], sigmas = SIGMAS): SigmaCheck {
  if (counts.length !== weights.length) throw new RangeError(`${counts.length} counts for ${weights.length} weights`);
  const total = counts.reduce((a, b) => a + b, 0);
  const sum = weights.reduce((a, b) => a + b, 0);
  if (!(sum > 0)) throw new RangeError(`weights must have a positive sum, got ${weights.join(",")}`);
  const offs = counts.map((count, i) => sigmasFrom(count, total, weights[i] / sum));
  const worst = Math.max(0, ...offs.map(Math.abs));
  return { expected: weights.map((w) => (total * w) / sum), sigmas: offs, worst, ok: worst <= sigmas };
}

export type FitCheck = { statistic: number; pValue: number; ok: boolean };

/** All counts at once against the weights: chi-square goodness of fit, ok when p > `significance`. */
export function fitsWeights(
  counts: readonly number[],
  weights: readonly number[],
  significance = SIGNIFICANCE,
): FitCheck {
  const total = counts.reduce((a, b) => a + b, 0);
  const { statistic, pValue } = chiSquare(counts, expectedCounts(weights, total));
  return { statistic, pValue, ok: pValue > significance };
}
