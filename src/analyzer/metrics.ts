// GET /metrics on the analyzer, in Prometheus' text format (src/http/prometheus.ts).

import { labelValue } from "../http/prometheus.ts";

export type AnalyzerCounts = {
  processed: number;
  requests: number;
  simulatedFailures: number;
  byLevel: Record<string, number>;
  duplicates: number;
};

/** What the metrics tell of the template miner. */
export type TemplateCounts = { readonly size: number; readonly evicted: number };

export function renderAnalyzerMetrics(
  id: string,
  counts: AnalyzerCounts,
  down: boolean,
  templates: TemplateCounts = { size: 0, evicted: 0 },
): string {
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
    "# HELP analyzer_duplicates_total Messages not analyzed again: their id was analyzed before (a spool replay).",
    "# TYPE analyzer_duplicates_total counter",
    `analyzer_duplicates_total{${label}} ${counts.duplicates}`,
    "# HELP analyzer_messages_by_level_total Log lines analyzed, by the level found (NONE when none).",
    "# TYPE analyzer_messages_by_level_total counter",
    ...Object.entries(counts.byLevel).map(
      ([level, n]) => `analyzer_messages_by_level_total{${label},level="${labelValue(level)}"} ${n}`,
    ),
    "# HELP analyzer_templates Log templates kept (GET /templates), at most MAX_TEMPLATES.",
    "# TYPE analyzer_templates gauge",
    `analyzer_templates{${label}} ${templates.size}`,
    "# HELP analyzer_templates_evicted_total Templates evicted, least recently seen first, to stay within MAX_TEMPLATES.",
    "# TYPE analyzer_templates_evicted_total counter",
    `analyzer_templates_evicted_total{${label}} ${templates.evicted}`,
    "# HELP analyzer_up 0 while failure is simulated with POST /fault.",
    "# TYPE analyzer_up gauge",
    `analyzer_up{${label}} ${down ? 0 : 1}`,
  ];
  return `${out.join("\n")}\n`;
}
