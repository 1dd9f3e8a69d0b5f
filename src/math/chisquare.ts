// Pearson's chi-square goodness-of-fit test: did `observed` counts come from the distribution
// `expected` describes? Used by the alias-table tests and by the load tester's distribution report.
// The p-value is the upper tail of the chi-square distribution, Q(df/2, x/2), computed with the
// regularized incomplete gamma function (series below a+1, Lentz continued fraction above).

export type ChiSquareResult = {
  statistic: number;
  degreesOfFreedom: number;
  /** Probability of a statistic at least this large if the counts follow the expected shares. */
  pValue: number;
};

/**
 * @param observed counts per category
 * @param expected expected counts per category (same length, same total as observed); categories
 *   expected to get nothing must observe nothing, and are left out of the degrees of freedom.
 */
export function chiSquare(observed: readonly number[], expected: readonly number[]): ChiSquareResult {
  if (observed.length !== expected.length) {
    throw new RangeError(`observed has ${observed.length} categories, expected has ${expected.length}`);
  }
  let statistic = 0;
  let categories = 0;
  for (let i = 0; i < observed.length; i++) {
    const o = observed[i];
    const e = expected[i];
    if (!(e >= 0) || !(o >= 0))
      throw new RangeError(`counts must be non-negative, got observed ${o}, expected ${e} at ${i}`);
    if (e === 0) {
      // A count where none was expected is infinitely unlikely, not a division by zero.
      if (o > 0) return { statistic: Infinity, degreesOfFreedom: Math.max(categories, 1), pValue: 0 };
      continue;
    }
    statistic += (o - e) ** 2 / e;
    categories++;
  }
  const degreesOfFreedom = categories - 1;
  if (degreesOfFreedom < 1) return { statistic, degreesOfFreedom: 0, pValue: 1 };
  return { statistic, degreesOfFreedom, pValue: upperRegularizedGamma(degreesOfFreedom / 2, statistic / 2) };
}

/** Expected counts for `total` draws from shares proportional to `weights`. */
export function expectedCounts(weights: readonly number[], total: number): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  if (!(sum > 0)) throw new RangeError(`weights must have a positive sum, got ${sum}`);
  return weights.map((w) => (w / sum) * total);
}

/** Q(a, x) = Γ(a, x) / Γ(a). */
export function upperRegularizedGamma(a: number, x: number): number {
  if (x <= 0) return 1;
  if (x === Infinity) return 0;
  return x < a + 1 ? 1 - lowerSeries(a, x) : upperContinuedFraction(a, x);
}

const EPSILON = 1e-15;
const MAX_ITERATIONS = 10_000;

function lowerSeries(a: number, x: number): number {
  let term = 1 / a;
  let sum = term;
  for (let n = 1; n < MAX_ITERATIONS; n++) {
    term *= x / (a + n);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * EPSILON) break;
  }
  return sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
}

function upperContinuedFraction(a: number, x: number): number {
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < MAX_ITERATIONS; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < EPSILON) break;
  }
  return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
}

// Lanczos approximation (g = 7, n = 9); accurate to ~15 digits for a > 0.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

export function logGamma(z: number): number {
  if (z < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * z)) - logGamma(1 - z);
  z -= 1;
  let x = LANCZOS[0];
  for (let i = 1; i < LANCZOS.length; i++) x += LANCZOS[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(x);
}
