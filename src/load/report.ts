// The end-of-run report, as one data object: --json prints it as is, and the text rendering
// below follows oha's layout (summary, histogram, percentiles, status codes, errors) and adds
// how the messages were spread across analyzers. All times are milliseconds.

import type { Paint } from "./colour.ts";
import type { DistributionReport } from "./distribution.ts";
import type { ErrorCount } from "./errors.ts";
import { histogram, latencyStats, percentiles } from "./latency.ts";
import type { RunResult } from "./runner.ts";

export type RunSettings = {
  url: string;
  concurrency: number;
  /** Open-loop requests per second; null for a closed loop. */
  rate: number | null;
  packet: number;
  async: boolean;
  seed: number;
};

export type DistributionSection =
  | ({ statsUrl: string; skipped?: undefined; settled: boolean } & DistributionReport)
  | { statsUrl: string; skipped: string };

export type Report = {
  summary: {
    /** Share of requests that got a 2xx response, 0..1. */
    successRate: number;
    totalMs: number;
    slowestMs: number | null;
    fastestMs: number | null;
    averageMs: number | null;
    requestsPerSec: number;
    /** Logs in 2xx-answered requests per second. */
    logsPerSec: number;
    requests: number;
    successes: number;
    failures: number;
    /** Logs in requests that got a 2xx: analyzed (sync) or queued (async). */
    logsAccepted: number;
  } & RunSettings;
  latencyPercentiles: Record<string, number>;
  histogram: { upToMs: number; count: number }[];
  statusCodes: Record<string, number>;
  errors: ErrorCount[];
  distribution: DistributionSection;
};

export function buildReport(result: RunResult, settings: RunSettings, distribution: DistributionSection): Report {
  const stats = latencyStats(result.latencies);
  const seconds = result.elapsedMs / 1000;
  const logsAccepted = result.successes * settings.packet;
  const percentileMs: Record<string, number> = {};
  for (const [name, value] of Object.entries(percentiles(result.latencies))) percentileMs[name] = micros(value);
  return {
    summary: {
      successRate: result.requests === 0 ? 0 : result.successes / result.requests,
      totalMs: micros(result.elapsedMs),
      slowestMs: stats ? micros(stats.slowest) : null,
      fastestMs: stats ? micros(stats.fastest) : null,
      averageMs: stats ? micros(stats.average) : null,
      requestsPerSec: seconds > 0 ? round(result.requests / seconds, 2) : 0,
      logsPerSec: seconds > 0 ? round(logsAccepted / seconds, 2) : 0,
      requests: result.requests,
      successes: result.successes,
      failures: result.failures,
      logsAccepted,
      ...settings,
    },
    latencyPercentiles: percentileMs,
    histogram: histogram(result.latencies).map(({ upTo, count }) => ({ upToMs: micros(upTo), count })),
    statusCodes: result.statusCodes,
    errors: result.errors,
    distribution,
  };
}

// The clock is good to about a microsecond; more digits in the JSON would only be noise.
function micros(ms: number): number {
  return round(ms, 3);
}

function round(value: number, decimals: number): number {
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

/** 0 when every request got a 2xx; 1 when any did not (or none was sent). */
export function exitCode(report: Report): 0 | 1 {
  return report.summary.requests > 0 && report.summary.failures === 0 ? 0 : 1;
}

const HISTOGRAM_WIDTH = 40;

export function renderText(report: Report, paint: Paint): string {
  const { summary: s } = report;
  const out: string[] = [];
  const ms = (value: number | null) => (value === null ? "-" : `${value.toFixed(3)} ms`);
  const rate = s.successRate === 1 ? paint.green : s.successRate === 0 ? paint.red : paint.yellow;
  const mode =
    s.rate === null
      ? `closed loop, ${s.concurrency} concurrent`
      : `open loop at ${s.rate} req/s, up to ${s.concurrency} in flight`;

  out.push(paint.bold("Summary:"));
  out.push(`  Success rate:  ${rate(`${(s.successRate * 100).toFixed(2)}%`)}  (success = a 2xx response)`);
  out.push(`  Total:         ${(s.totalMs / 1000).toFixed(4)} s`);
  out.push(`  Slowest:       ${ms(s.slowestMs)}`);
  out.push(`  Fastest:       ${ms(s.fastestMs)}`);
  out.push(`  Average:       ${ms(s.averageMs)}`);
  out.push(`  Requests/sec:  ${s.requestsPerSec.toFixed(2)}`);
  out.push(`  Logs/sec:      ${s.logsPerSec.toFixed(2)}`);
  out.push("");
  out.push(`  Requests:      ${s.requests} (${s.successes} succeeded, ${s.failures} failed); ${mode}`);
  out.push(
    `  Logs:          ${s.logsAccepted} accepted, ${s.packet} per request, ${s.async ? "async (Prefer: respond-async)" : "sync"}`,
  );
  out.push(`  Target:        ${s.url}  (seed ${s.seed}; --seed ${s.seed} replays the same logs)`);

  if (report.histogram.length > 0) {
    out.push("", paint.bold("Response time histogram:"));
    const most = Math.max(...report.histogram.map((b) => b.count));
    const labels = report.histogram.map((b) => ms(b.upToMs));
    const counts = report.histogram.map((b) => `[${b.count}]`);
    const labelWidth = Math.max(...labels.map((l) => l.length));
    const countWidth = Math.max(...counts.map((c) => c.length));
    report.histogram.forEach((b, i) => {
      const bar = "■".repeat(Math.round((b.count / most) * HISTOGRAM_WIDTH));
      out.push(`  ${labels[i]!.padStart(labelWidth)} ${counts[i]!.padEnd(countWidth)} |${paint.cyan(bar)}`);
    });

    out.push("", paint.bold("Response time distribution:"));
    for (const [name, value] of Object.entries(report.latencyPercentiles)) {
      out.push(`  ${`${Number(name.slice(1)).toFixed(2)}%`.padStart(7)} in ${ms(value)}`);
    }
  }

  out.push("", paint.bold("Status code distribution:"));
  const statuses = Object.entries(report.statusCodes);
  if (statuses.length === 0) out.push("  (no responses)");
  for (const [status, count] of statuses) {
    const colour = status.startsWith("2") ? paint.green : status.startsWith("5") ? paint.red : paint.yellow;
    out.push(`  ${colour(`[${status}]`)} ${count} responses`);
  }

  if (report.errors.length > 0) {
    out.push("", paint.bold("Error distribution:"));
    for (const e of report.errors) out.push(`  [${e.count}] ${ERROR_LABELS[e.kind]}: ${e.message}`);
  }

  out.push("", ...renderDistribution(report.distribution, paint));
  return `${out.join("\n")}\n`;
}

const ERROR_LABELS: Record<ErrorCount["kind"], string> = {
  connection: "connection error",
  timeout: "timeout",
  http: "HTTP error",
  other: "error",
};

function renderDistribution(d: DistributionSection, paint: Paint): string[] {
  const title = paint.bold(`Distribution across analyzers (${d.statsUrl}, during this run):`);
  if (d.skipped !== undefined) return [title, `  skipped: ${d.skipped}`];

  const percent = (share: number) => `${(share * 100).toFixed(2)}%`;
  const rows = [
    ["analyzer", "weight", "healthy", "received", "expected", "observed", "deviation"],
    ...d.analyzers.map((a) => [
      a.id,
      String(a.weight),
      a.healthyBefore === a.healthyAfter ? (a.healthyAfter ? "yes" : "no") : a.healthyAfter ? "no → yes" : "yes → no",
      String(a.received),
      percent(a.expectedShare),
      percent(a.observedShare),
      `${a.deviation >= 0 ? "+" : ""}${(a.deviation * 100).toFixed(2)} pp`,
    ]),
    ["total", "", "", String(d.total), "", "", ""],
  ];
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  // Names read left-aligned, numbers right-aligned.
  const lines = rows.map((row) =>
    `  ${row.map((cell, c) => (c === 0 || c === 2 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join("  ")}`.trimEnd(),
  );

  const out = [title, ...lines];
  if (d.chiSquare) {
    const { statistic, degreesOfFreedom, pValue } = d.chiSquare;
    const verdict =
      d.verdict === "consistent"
        ? paint.green(`consistent with weights (p ≥ ${d.significance})`)
        : paint.red(`NOT consistent with weights (p < ${d.significance})`);
    out.push(`  chi-square ${statistic.toFixed(2)}, ${degreesOfFreedom} df, p = ${formatP(pValue)}: ${verdict}`);
  }
  if (!d.settled) out.push(`  ${paint.yellow("note")}: deliveries were still arriving when the report was taken`);
  for (const note of d.notes) out.push(`  ${paint.yellow("note")}: ${note}`);
  return out;
}

function formatP(p: number): string {
  return p >= 0.001 || p === 0 ? p.toFixed(3) : p.toExponential(1);
}
