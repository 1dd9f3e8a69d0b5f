// From every round's measurements to one row per scenario and target: the median over rounds of
// the rates and latencies, the sum over rounds of errors and lost messages, and the ratio of the
// median logs/s to HAProxy's in the same scenario.

import type { Scenario, TargetName } from "./args.ts";

export type Measurement = {
  round: number;
  scenario: Scenario;
  target: TargetName;
  /** false when the target cannot do the scenario (HAProxy and nginx know no async), or the generator cannot
   * send its body (load_tester and NDJSON): shown as n/a, the reason in `notes`. */
  supported: boolean;
  elapsedMs: number;
  requestsPerSec: number;
  logsPerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
  responses: number;
  ok: number;
  non2xx: number;
  socketErrors: number;
  /** Client-visible: non-2xx answers plus requests that got no answer. */
  errors: number;
  acknowledgedLogs: number;
  processedLogs: number;
  /** /analyze requests the analyzers received: processedLogs over this is the batch size they saw. */
  analyzerRequests: number;
  lost: number;
  /** true when a counter was read just before a kill, so `lost` is only an upper bound (failover). */
  lostIsUpperBound: boolean;
  unacknowledged: number;
  statusCodes: Record<string, number>;
  notes: string[];
};

export type Row = {
  scenario: Scenario;
  target: TargetName;
  supported: boolean;
  rounds: number;
  requestsPerSec: number | null;
  logsPerSec: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Totals over all rounds, not medians: one bad round must show. */
  errors: number | null;
  lost: number | null;
  lostIsUpperBound: boolean;
  ratioToHaproxy: number | null;
  /** HAProxy's scenario the ratio divides by: the same one, or `single` for async (which it lacks). */
  ratioBase: Scenario | null;
};

/** The middle value (mean of the two middle ones for an even count); null for none. */
export function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Rows in the given scenario and target order, for every pair that was measured. */
export function summarize(
  measurements: readonly Measurement[],
  scenarios: readonly Scenario[],
  targets: readonly TargetName[],
): Row[] {
  const rows: Row[] = [];
  for (const scenario of scenarios) {
    for (const target of targets) {
      const runs = measurements.filter((m) => m.scenario === scenario && m.target === target);
      if (runs.length === 0) continue;
      const supported = runs.every((m) => m.supported);
      const med = (pick: (m: Measurement) => number | null) =>
        supported ? median(runs.map(pick).filter((v): v is number => v !== null)) : null;
      const sum = (pick: (m: Measurement) => number) => (supported ? runs.reduce((s, m) => s + pick(m), 0) : null);
      rows.push({
        scenario,
        target,
        supported,
        rounds: runs.length,
        requestsPerSec: med((m) => m.requestsPerSec),
        logsPerSec: med((m) => m.logsPerSec),
        p50Ms: med((m) => m.p50Ms),
        p99Ms: med((m) => m.p99Ms),
        errors: sum((m) => m.errors),
        lost: sum((m) => m.lost),
        lostIsUpperBound: runs.some((m) => m.lostIsUpperBound),
        ratioToHaproxy: null,
        ratioBase: null,
      });
    }
  }
  for (const row of rows) {
    const base = ratioBase(rows, row.scenario);
    if (row.logsPerSec === null || !base?.logsPerSec) continue;
    row.ratioToHaproxy = row.logsPerSec / base.logsPerSec;
    row.ratioBase = base.scenario;
  }
  return rows;
}

function ratioBase(rows: readonly Row[], scenario: Scenario): Row | undefined {
  const haproxy = (s: Scenario) => rows.find((r) => r.target === "haproxy" && r.scenario === s && r.supported);
  // Async is the distributor's alone; what a client would otherwise get is HAProxy's sync single-log rate.
  return haproxy(scenario) ?? (scenario === "async" ? haproxy("single") : undefined);
}
