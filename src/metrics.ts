// Prometheus text exposition (format 0.0.4), written by hand: the counters already exist for
// /stats, so a scrape only formats them, and the hot path pays for nothing but two histogram
// observations (a bucket search over ~12 bounds and three additions). prom-client would add a
// dependency and a registry lookup per update for the same output.

import type { Balancer } from "./balancer.ts";
import type { StatsSources } from "./stats.ts";

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

/** Latency histograms the distributor keeps for /metrics. */
export type Latencies = {
  /** Client requests to POST /analyze, from arrival to answer. */
  client: Histogram;
  /** Requests to each analyzer, by analyzer URL (stable across id changes). */
  upstream: Map<string, Histogram>;
};

export function createLatencies(): Latencies {
  return { client: new Histogram(), upstream: new Map() };
}

export function upstreamHistogram(latencies: Latencies, url: string): Histogram {
  let h = latencies.upstream.get(url);
  if (!h) latencies.upstream.set(url, (h = new Histogram()));
  return h;
}

/** Label values are escaped as the format requires: backslash, double quote, newline. */
export function labelValue(value: string): string {
  return value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

type Family = { name: string; type: "counter" | "gauge"; help: string; samples: [labels: string, value: number][] };

function family(name: string, type: Family["type"], help: string, samples: Family["samples"]): Family {
  return { name, type, help, samples };
}

export function renderDistributorMetrics(sources: StatsSources & { latencies: Latencies }): string {
  const { balancer, counters, channel, pool, latencies } = sources;
  const perAnalyzer = (pick: (u: Balancer["upstreams"][number]) => number): Family["samples"] =>
    balancer.upstreams.map((u) => [`analyzer="${labelValue(u.id)}",url="${labelValue(u.url)}"`, pick(u)]);
  const families: Family[] = [
    family("distributor_messages_received_total", "counter", "Messages accepted into the queue.", [["", counters.received]]),
    family("distributor_messages_delivered_total", "counter", "Messages an analyzer analyzed, by analyzer.", perAnalyzer((u) => u.delivered)),
    family("distributor_upstream_requests_total", "counter", "Requests sent to an analyzer, each with a batch of messages.", perAnalyzer((u) => u.requests)),
    family("distributor_messages_failed_attempts_total", "counter", "Messages in requests to an analyzer that failed, by analyzer.", perAnalyzer((u) => u.failed)),
    family("distributor_messages_retried_total", "counter", "Delivery attempts repeated on another analyzer.", [["", counters.retried]]),
    family("distributor_messages_rejected_total", "counter", "Messages refused with 503 before acceptance (queue full, no healthy analyzer).", [["", counters.rejected]]),
    family("distributor_messages_failed_total", "counter", "Accepted messages given up on (client saw 502/503/504).", [["", counters.failed]]),
    family("distributor_retries_denied_total", "counter", "Failed analyzer requests not retried because the retry budget was spent.", [["", counters.retriesDenied]]),
    family("distributor_requests_invalid_total", "counter", "Requests refused as malformed.", [["", counters.invalid]]),
    family("distributor_analyzer_health_changes_total", "counter", "Times an analyzer went down or came back.", perAnalyzer((u) => u.healthChanges)),
    family("distributor_analyzer_up", "gauge", "1 when the analyzer is healthy and gets traffic.", perAnalyzer((u) => (u.healthy ? 1 : 0))),
    family("distributor_analyzer_weight", "gauge", "Configured weight.", perAnalyzer((u) => u.weight)),
    family("distributor_analyzer_effective_weight", "gauge", "Weight picks use now (0 when down; lower while slow start ramps).", perAnalyzer((u) => (u.healthy ? balancer.effectiveWeight(u) : 0))),
    family("distributor_analyzer_inflight_requests", "gauge", "Requests to the analyzer in flight.", perAnalyzer((u) => u.inflight)),
    family("distributor_queue_depth", "gauge", "Messages waiting in the queue.", [["", channel.size]]),
    family("distributor_queue_capacity", "gauge", "QUEUE_CAPACITY.", [["", channel.capacity]]),
    family("distributor_workers", "gauge", "WORKERS.", [["", pool.workers]]),
    family("distributor_workers_busy", "gauge", "Workers handling a batch now.", [["", pool.active]]),
  ];
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const [labels, value] of f.samples) out.push(labels === "" ? `${f.name} ${value}` : `${f.name}{${labels}} ${value}`);
  }
  out.push("# HELP distributor_request_duration_seconds Client requests to POST /analyze, arrival to answer.", "# TYPE distributor_request_duration_seconds histogram");
  out.push(...latencies.client.lines("distributor_request_duration_seconds"));
  out.push("# HELP distributor_upstream_request_duration_seconds Requests to analyzers (one per batch), by analyzer.", "# TYPE distributor_upstream_request_duration_seconds histogram");
  for (const u of balancer.upstreams) {
    const h = latencies.upstream.get(u.url);
    if (h) out.push(...h.lines("distributor_upstream_request_duration_seconds", `analyzer="${labelValue(u.id)}",url="${labelValue(u.url)}"`));
  }
  return out.join("\n") + "\n";
}

export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

export type AnalyzerCounts = { processed: number; requests: number; simulatedFailures: number; byLevel: Record<string, number> };

export function renderAnalyzerMetrics(id: string, counts: AnalyzerCounts, down: boolean): string {
  const label = `analyzer="${labelValue(id)}"`;
  const out = [
    "# HELP analyzer_messages_processed_total Log lines analyzed.",
    "# TYPE analyzer_messages_processed_total counter",
    `analyzer_messages_processed_total{${label}} ${counts.processed}`,
    "# HELP analyzer_requests_total Requests to POST /analyze.",
    "# TYPE analyzer_requests_total counter",
    `analyzer_requests_total{${label}} ${counts.requests}`,
    "# HELP analyzer_simulated_failures_total Requests answered 500 on purpose (FAILURE_RATE).",
    "# TYPE analyzer_simulated_failures_total counter",
    `analyzer_simulated_failures_total{${label}} ${counts.simulatedFailures}`,
    "# HELP analyzer_messages_by_level_total Log lines analyzed, by the level found (NONE when none).",
    "# TYPE analyzer_messages_by_level_total counter",
    ...Object.entries(counts.byLevel).map(([level, n]) => `analyzer_messages_by_level_total{${label},level="${labelValue(level)}"} ${n}`),
    "# HELP analyzer_up 0 while failure is simulated with POST /fault.",
    "# TYPE analyzer_up gauge",
    `analyzer_up{${label}} ${down ? 0 : 1}`,
  ];
  return out.join("\n") + "\n";
}
