// GET /metrics on the distributor: the /stats counters and two latency histograms, in Prometheus'
// text format (src/http/prometheus.ts).

import { type Family, family, Histogram, labelValue, renderFamilies } from "../http/prometheus.ts";
import type { AnalyzerStatsEntry } from "../protocol/stats.ts";
import { describeAnalyzers, type StatsSources } from "./stats.ts";

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
  if (!h) {
    h = new Histogram();
    latencies.upstream.set(url, h);
  }
  return h;
}

export function renderDistributorMetrics(sources: StatsSources & { latencies: Latencies }): string {
  const { balancer, counters, channel, pool, latencies } = sources;
  const spool = sources.intake.stats();
  const analyzers = describeAnalyzers(balancer);
  const labels = analyzers.map((a) => `analyzer="${labelValue(a.id)}",url="${labelValue(a.url)}"`);
  const perAnalyzer = (pick: (a: AnalyzerStatsEntry) => number): Family["samples"] =>
    analyzers.map((a, i) => [labels[i], pick(a)]);
  const families: Family[] = [
    family("distributor_messages_received_total", "counter", "Messages accepted into the queue.", [
      ["", counters.received],
    ]),
    family(
      "distributor_messages_delivered_total",
      "counter",
      "Messages an analyzer analyzed, by analyzer.",
      perAnalyzer((a) => a.delivered),
    ),
    family(
      "distributor_upstream_requests_total",
      "counter",
      "Requests sent to an analyzer, each with a batch of messages.",
      perAnalyzer((a) => a.requests),
    ),
    family(
      "distributor_messages_failed_attempts_total",
      "counter",
      "Messages in requests to an analyzer that failed, by analyzer.",
      perAnalyzer((a) => a.failed),
    ),
    family("distributor_messages_retried_total", "counter", "Delivery attempts repeated on another analyzer.", [
      ["", counters.retried],
    ]),
    family(
      "distributor_messages_rejected_total",
      "counter",
      "Messages refused with 503 before acceptance (queue full, no healthy analyzer).",
      [["", counters.rejected]],
    ),
    family("distributor_messages_failed_total", "counter", "Accepted messages given up on (client saw 502/503/504).", [
      ["", counters.failed],
    ]),
    family(
      "distributor_retries_denied_total",
      "counter",
      "Failed analyzer requests not retried because the retry budget was spent.",
      [["", counters.retriesDenied]],
    ),
    family("distributor_requests_invalid_total", "counter", "Requests refused as malformed.", [["", counters.invalid]]),
    family(
      "distributor_messages_invalid_total",
      "counter",
      "Messages refused on their own as bad data, the rest of their request taken.",
      [["", counters.invalidMessages]],
    ),
    family("distributor_spool_messages", "gauge", "Async messages stored in the spool and not analyzed yet.", [
      ["", spool.messages],
    ]),
    family(
      "distributor_spool_bytes",
      "gauge",
      "Bytes of stored messages and dead letters (SPOOL_MAX_BYTES bounds it).",
      [["", spool.bytes]],
    ),
    family("distributor_dead_letters", "gauge", "Async messages no analyzer took, kept (GET /admin/dead-letters).", [
      ["", spool.deadLetters],
    ]),
    family(
      "distributor_spool_recovered_total",
      "counter",
      "Messages found in the spool at start and delivered since.",
      [["", spool.recovered]],
    ),
    family(
      "distributor_analyzer_health_changes_total",
      "counter",
      "Times an analyzer went down or came back.",
      perAnalyzer((a) => a.healthChanges),
    ),
    family(
      "distributor_analyzer_up",
      "gauge",
      "1 when the analyzer is healthy and gets traffic.",
      perAnalyzer((a) => (a.healthy ? 1 : 0)),
    ),
    family(
      "distributor_analyzer_weight",
      "gauge",
      "Configured weight.",
      perAnalyzer((a) => a.weight),
    ),
    family(
      "distributor_analyzer_effective_weight",
      "gauge",
      "Weight picks use now (0 when down; lower while slow start ramps).",
      perAnalyzer((a) => a.effectiveWeight),
    ),
    family(
      "distributor_analyzer_inflight_requests",
      "gauge",
      "Requests to the analyzer in flight.",
      perAnalyzer((a) => a.inflight),
    ),
    family("distributor_queue_depth", "gauge", "Messages waiting in the queue.", [["", channel.size]]),
    family("distributor_queue_capacity", "gauge", "QUEUE_CAPACITY.", [["", channel.capacity]]),
    family("distributor_workers", "gauge", "WORKERS.", [["", pool.workers]]),
    family("distributor_workers_busy", "gauge", "Workers handling a batch now.", [["", pool.active]]),
  ];
  const out = renderFamilies(families);
  out.push(
    "# HELP distributor_request_duration_seconds Client requests to POST /analyze, arrival to answer.",
    "# TYPE distributor_request_duration_seconds histogram",
  );
  out.push(...latencies.client.lines("distributor_request_duration_seconds"));
  out.push(
    "# HELP distributor_upstream_request_duration_seconds Requests to analyzers (one per batch), by analyzer.",
    "# TYPE distributor_upstream_request_duration_seconds histogram",
  );
  analyzers.forEach((a, i) => {
    const h = latencies.upstream.get(a.url);
    if (h) out.push(...h.lines("distributor_upstream_request_duration_seconds", labels[i]));
  });
  return `${out.join("\n")}\n`;
}
