import { expect, test } from "bun:test";
import { renderAnalyzerMetrics } from "./metrics.ts";

const counts = { processed: 7, requests: 3, simulatedFailures: 1, byLevel: { ERROR: 2, NONE: 5 }, duplicates: 3 };

test("every counter is a family with HELP and TYPE, labelled with the analyzer's id", () => {
  expect(renderAnalyzerMetrics("a1", counts, false, { size: 4, evicted: 2 })).toBe(
    [
      "# HELP analyzer_messages_processed_total Log lines analyzed.",
      "# TYPE analyzer_messages_processed_total counter",
      'analyzer_messages_processed_total{analyzer="a1"} 7',
      "# HELP analyzer_requests_total Requests to POST /analyze.",
      "# TYPE analyzer_requests_total counter",
      'analyzer_requests_total{analyzer="a1"} 3',
      "# HELP analyzer_simulated_failures_total Requests answered 500 on purpose (FAILURE_RATE).",
      "# TYPE analyzer_simulated_failures_total counter",
      'analyzer_simulated_failures_total{analyzer="a1"} 1',
      "# HELP analyzer_duplicates_total Messages not analyzed again: their id was analyzed before (a spool replay).",
      "# TYPE analyzer_duplicates_total counter",
      'analyzer_duplicates_total{analyzer="a1"} 3',
      "# HELP analyzer_messages_by_level_total Log lines analyzed, by the level found (NONE when none).",
      "# TYPE analyzer_messages_by_level_total counter",
      'analyzer_messages_by_level_total{analyzer="a1",level="ERROR"} 2',
      'analyzer_messages_by_level_total{analyzer="a1",level="NONE"} 5',
      "# HELP analyzer_templates Log templates kept (GET /templates), at most MAX_TEMPLATES.",
      "# TYPE analyzer_templates gauge",
      'analyzer_templates{analyzer="a1"} 4',
      "# HELP analyzer_templates_evicted_total Templates evicted, least recently seen first, to stay within MAX_TEMPLATES.",
      "# TYPE analyzer_templates_evicted_total counter",
      'analyzer_templates_evicted_total{analyzer="a1"} 2',
      "# HELP analyzer_up 0 while failure is simulated with POST /fault.",
      "# TYPE analyzer_up gauge",
      'analyzer_up{analyzer="a1"} 1',
      "",
    ].join("\n"),
  );
});

test.each([
  [false, 'analyzer_up{analyzer="a1"} 1'],
  [true, 'analyzer_up{analyzer="a1"} 0'],
])("down=%p reads as %s", (down, line) => {
  expect(renderAnalyzerMetrics("a1", counts, down).split("\n")).toContain(line);
});

test("before any message the by-level family has no samples, and the rest read 0", () => {
  const text = renderAnalyzerMetrics(
    "a1",
    { processed: 0, requests: 0, simulatedFailures: 0, byLevel: {}, duplicates: 0 },
    false,
  );
  expect(text).not.toContain("analyzer_messages_by_level_total{");
  expect(text).toContain('analyzer_messages_processed_total{analyzer="a1"} 0\n');
});

test("an id with quotes, backslashes or newlines cannot break out of its label", () => {
  const text = renderAnalyzerMetrics('a"b\\c\nd', counts, false);
  expect(text).toContain('analyzer_requests_total{analyzer="a\\"b\\\\c\\nd"} 3\n');
  // Every sample is still one line: name{labels} value.
  for (const line of text.split("\n").filter((l) => l !== "" && !l.startsWith("#"))) {
    expect(line).toMatch(/^[a-z_]+\{.*\} \d+$/);
  }
});
