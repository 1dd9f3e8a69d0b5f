// Runs the plan: a warm-up per target, then every step in order, printing one line per measurement.

import type { BenchOptions } from "./args.ts";
import { runLoad } from "./generator.ts";
import { type Lab, loadSpec, measure, unsupported, unsupportedReason } from "./measure.ts";
import { plan } from "./plan.ts";
import type { Measurement } from "./summary.ts";

export async function runBench(lab: Lab, options: BenchOptions, log: (line: string) => void): Promise<Measurement[]> {
  const targets = options.targets.filter((t) => lab.targets.has(t));
  if (options.warmupMs > 0) {
    for (const target of lab.targets.values()) {
      log(`warm-up: ${target.name}, ${options.warmupMs} ms of single-log requests (not recorded)`);
      await target.ready();
      await runLoad(lab.generator, loadSpec(lab, target, "single", options.warmupMs));
    }
  }
  const steps = plan(options.scenarios, targets, options.rounds);
  const width = String(steps.length).length;
  const measurements: Measurement[] = [];
  for (const [i, step] of steps.entries()) {
    const target = lab.targets.get(step.target)!;
    const reason = unsupportedReason(step.scenario, target, lab.generator);
    const m =
      reason === undefined
        ? await measure(lab, step.round, step.scenario, target)
        : unsupported(step.round, step.scenario, step.target, reason);
    measurements.push(m);
    const where = `[${String(i + 1).padStart(width)}/${steps.length}] round ${step.round} ${step.scenario} ${step.target}`;
    log(reason === undefined ? `${where}: ${describe(m)}` : `${where}: n/a (${reason})`);
  }
  return measurements;
}

function describe(m: Measurement): string {
  const ms = (v: number | null) => (v === null ? "-" : v.toFixed(2));
  const parts = [
    `${Math.round(m.requestsPerSec)} req/s`,
    `${Math.round(m.logsPerSec)} logs/s`,
    `p50 ${ms(m.p50Ms)} ms`,
    `p99 ${ms(m.p99Ms)} ms`,
    `${m.errors} errors (${m.non2xx} non-2xx, ${m.socketErrors} socket)`,
    `lost ${m.lost}`,
    `unacknowledged ${m.unacknowledged}`,
    `${(m.processedLogs / Math.max(1, m.analyzerRequests)).toFixed(1)} logs per analyzer request`,
  ];
  return [...parts, ...m.notes].join(", ");
}
