// Latency bookkeeping for a load run: a growable Float64Array of milliseconds (no per-sample
// allocation), then exact nearest-rank percentiles and an oha-style histogram over the sorted
// samples.

export const PERCENTILES = [10, 25, 50, 75, 90, 95, 99, 99.9] as const;
export const HISTOGRAM_BUCKETS = 11;

const INITIAL_CAPACITY = 1024;

/** Collects latency samples in milliseconds. */
export class LatencyRecorder {
  #samples: Float64Array;
  #count = 0;

  /** @param expected how many samples to make room for up front (grows by doubling past it) */
  constructor(expected = INITIAL_CAPACITY) {
    if (!Number.isInteger(expected) || expected < 0) {
      throw new RangeError(`expected must be a non-negative integer, got ${expected}`);
    }
    this.#samples = new Float64Array(Math.max(expected, 1));
  }

  get count(): number {
    return this.#count;
  }

  record(ms: number): void {
    if (this.#count === this.#samples.length) {
      const grown = new Float64Array(this.#samples.length * 2);
      grown.set(this.#samples);
      this.#samples = grown;
    }
    this.#samples[this.#count++] = ms;
  }

  /** A sorted copy of the samples (typed-array sort is numeric, not lexicographic). */
  sorted(): Float64Array {
    return this.#samples.slice(0, this.#count).sort();
  }
}

export type LatencyStats = {
  fastest: number;
  slowest: number;
  average: number;
};

/** Fastest, slowest and mean of ascending samples; undefined when there are none. */
export function latencyStats(sorted: ArrayLike<number>): LatencyStats | undefined {
  if (sorted.length === 0) return undefined;
  let sum = 0;
  for (let i = 0; i < sorted.length; i++) sum += sorted[i]!;
  return { fastest: sorted[0]!, slowest: sorted[sorted.length - 1]!, average: sum / sorted.length };
}

/**
 * Nearest-rank percentile: the smallest sample such that at least p% of samples are <= it,
 * i.e. sorted[ceil(p/100 * n) - 1]. Always an observed value, never an interpolation.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  if (sorted.length === 0) throw new RangeError("percentile of no samples");
  // Shave a hair off before rounding up: 99.9 * 1000 / 100 is 999.0000000000001 in floating point.
  const rank = Math.ceil((p * sorted.length) / 100 - 1e-9);
  return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1]!;
}

/** {p10: ..., p99.9: ...}; keys as oha writes them. */
export function percentiles(sorted: ArrayLike<number>, ps: readonly number[] = PERCENTILES): Record<string, number> {
  const out: Record<string, number> = {};
  if (sorted.length === 0) return out;
  for (const p of ps) out[`p${p}`] = percentile(sorted, p);
  return out;
}

export type HistogramBucket = {
  /** Upper bound (inclusive) of the bucket in milliseconds. */
  upTo: number;
  count: number;
};

/**
 * `buckets` evenly spaced upper bounds from fastest to slowest, as oha draws it: the first bucket
 * holds exactly the fastest samples, bucket i holds samples in (bound[i-1], bound[i]].
 */
export function histogram(sorted: ArrayLike<number>, buckets: number = HISTOGRAM_BUCKETS): HistogramBucket[] {
  if (!Number.isInteger(buckets) || buckets < 2)
    throw new RangeError(`buckets must be an integer >= 2, got ${buckets}`);
  if (sorted.length === 0) return [];
  const min = sorted[0]!;
  const max = sorted[sorted.length - 1]!;
  // Every sample the same: one bucket, rather than dividing by a zero step.
  if (max === min) return [{ upTo: min, count: sorted.length }];
  const step = (max - min) / (buckets - 1);
  const out: HistogramBucket[] = Array.from({ length: buckets }, (_, i) => ({
    upTo: i === buckets - 1 ? max : min + step * i,
    count: 0,
  }));
  for (let i = 0; i < sorted.length; i++) {
    const index = Math.min(Math.ceil((sorted[i]! - min) / step), buckets - 1);
    out[index]!.count++;
  }
  return out;
}
