// Prometheus text exposition (format 0.0.4), written by hand: the counters already exist for
// /stats, so a scrape only formats them, and the hot path pays for nothing but two histogram
// observations (a bucket search over ~12 bounds and three additions). prom-client would add a
// dependency and a registry lookup per update for the same output.

/** Latency buckets in seconds: 0.5 ms to 10 s, roughly ×2.5 apart. */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A cumulative-on-render histogram: observe() touches one bucket. */
export class Histogram {
  readonly bounds: readonly number[];
  #counts: Float64Array;
  #sum = 0;
  #count = 0;

  constructor(bounds: readonly number[] = LATENCY_BUCKETS) {
    for (let i = 1; i < bounds.length; i++) {
      if (!(bounds[i] > bounds[i - 1])) throw new RangeError(`bucket bounds must increase, got ${bounds.join(", ")}`);
    }
    this.bounds = bounds;
    this.#counts = new Float64Array(bounds.length + 1); // the last one is +Inf
  }

  observe(value: number): void {
    let lo = 0;
    let hi = this.bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (value <= this.bounds[mid]) hi = mid;
      else lo = mid + 1;
    }
    this.#counts[lo]++;
    this.#sum += value;
    this.#count++;
  }

  get count(): number {
    return this.#count;
  }

  /** The exposition lines for this histogram, `labels` being e.g. `analyzer="a1"` or "". */
  lines(name: string, labels = ""): string[] {
    const sep = labels === "" ? "" : ",";
    const out: string[] = [];
    let cumulative = 0;
    for (let i = 0; i < this.bounds.length; i++) {
      cumulative += this.#counts[i];
      out.push(`${name}_bucket{${labels}${sep}le="${this.bounds[i]}"} ${cumulative}`);
    }
    cumulative += this.#counts[this.bounds.length];
    out.push(`${name}_bucket{${labels}${sep}le="+Inf"} ${cumulative}`);
    const braces = labels === "" ? "" : `{${labels}}`;
    out.push(`${name}_sum${braces} ${this.#sum}`, `${name}_count${braces} ${this.#count}`);
    return out;
  }
}

/** Label values are escaped as the format requires: backslash, double quote, newline. */
export function labelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

export type Family = {
  name: string;
  type: "counter" | "gauge";
  help: string;
  samples: [labels: string, value: number][];
};

export function family(name: string, type: Family["type"], help: string, samples: Family["samples"]): Family {
  return { name, type, help, samples };
}

/** The exposition lines of counter and gauge families: HELP, TYPE, then one line per sample. */
export function renderFamilies(families: readonly Family[]): string[] {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const [labels, value] of f.samples)
      out.push(labels === "" ? `${f.name} ${value}` : `${f.name}{${labels}} ${value}`);
  }
  return out;
}

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
