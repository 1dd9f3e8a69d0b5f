// One measurement: one scenario against one target for one round, with the analyzers' counters read
// around it. `ndjson` sends the packet's logs as NDJSON, the way log agents ship them. `async` waits for the distributor to deliver everything it accepted; `failover` kills
// an analyzer (kill -9) part-way through and starts it again on its port a second later.

import { countedDuring, reconcile } from "./accounting.ts";
import type { AnalyzerCluster, AnalyzerCounters } from "./analyzers.ts";
import type { Scenario, TargetName } from "./args.ts";
import { type BodyKind, bodyKind, type RequestBody } from "./bodies.ts";
import { type Generator, type LoadResult, type LoadSpec, runLoad } from "./generator.ts";
import type { Measurement } from "./summary.ts";
import { FAIRNESS, type Target, waitUntil } from "./targets.ts";

export type Lab = {
  analyzers: AnalyzerCluster;
  targets: ReadonlyMap<TargetName, Target>;
  generator: Generator;
  /** Each body, and the file it is also written to. */
  bodies: ReadonlyMap<BodyKind, RequestBody & { file: string }>;
  dir: string;
  durationMs: number;
  connections: number;
};

/** Failover: a3 (weight 3, half the traffic) dies this far into the run and comes back a second later. */
export const FAILOVER = { victim: 2, killAtFraction: 0.4, downMs: 1_000 } as const;
// Requests a proxy still had in flight to an analyzer when the generator stopped finish within this.
const SETTLE_MS = 100;
// Delivering what the queue holds once the load stops is part of the async measurement, within reason.
const CATCH_UP_TIMEOUT_MS = 60_000;

export function loadSpec(
  lab: Pick<Lab, "bodies" | "durationMs" | "connections" | "dir">,
  target: Pick<Target, "analyzeUrl" | "tlsAnalyzeUrl">,
  scenario: Scenario,
  durationMs = lab.durationMs,
): LoadSpec {
  const { body, file, contentType, logs } = lab.bodies.get(bodyKind(scenario))!;
  return {
    url: scenario === "tls" ? target.tlsAnalyzeUrl! : target.analyzeUrl,
    durationMs,
    connections: lab.connections,
    body,
    bodyFile: file,
    contentType,
    packet: logs,
    async: scenario === "async",
    // Agents read only the status: the answer of every target then says how many, not the analyses.
    minimal: scenario === "ndjson",
    dir: lab.dir,
  };
}

/** Why `target` with `generator` cannot run `scenario`, or undefined when it can. */
export function unsupportedReason(
  scenario: Scenario,
  target: Pick<Target, "name" | "supportsAsync" | "tlsAnalyzeUrl">,
  generator: Pick<Generator, "name" | "ownBodies">,
): string | undefined {
  if (scenario === "async" && !target.supportsAsync) return `${target.name} cannot do async`;
  if (scenario === "tls" && !target.tlsAnalyzeUrl) return `${target.name} has no TLS listener`;
  if (bodyKind(scenario) === "ndjson" && generator.ownBodies)
    return `${generator.name} sends only its own {"log"}/{"logs"} bodies, not NDJSON`;
  return undefined;
}

export function unsupported(round: number, scenario: Scenario, target: TargetName, reason: string): Measurement {
  return {
    round,
    scenario,
    target,
    supported: false,
    elapsedMs: 0,
    requestsPerSec: 0,
    logsPerSec: 0,
    p50Ms: null,
    p99Ms: null,
    responses: 0,
    ok: 0,
    non2xx: 0,
    socketErrors: 0,
    errors: 0,
    acknowledgedLogs: 0,
    processedLogs: 0,
    analyzerRequests: 0,
    lost: 0,
    lostIsUpperBound: false,
    unacknowledged: 0,
    statusCodes: {},
    notes: [reason],
  };
}

export async function measure(lab: Lab, round: number, scenario: Scenario, target: Target): Promise<Measurement> {
  await target.ready();
  const spec = loadSpec(lab, target, scenario);
  const before = await lab.analyzers.counters();
  const notes: string[] = [];
  const { result, kill, deliveredPerSec } =
    scenario === "failover"
      ? await loadWithFailover(lab, spec, before, notes)
      : scenario === "async"
        ? await loadAsync(lab, target, spec, notes)
        : { result: await runLoad(lab.generator, spec) };

  // Let the target finish what it still holds (the distributor keeps delivering messages of requests
  // the generator gave up on) so that this run's tail is not counted in the next one.
  if (scenario === "failover") await everyTargetRecovered(lab);
  else await target.ready();
  await Bun.sleep(SETTLE_MS);
  const after = await lab.analyzers.counters();

  const seconds = result.elapsedMs / 1000;
  const acknowledgedLogs = result.ok * spec.packet;
  const during = (counter: keyof AnalyzerCounters) =>
    countedDuring(
      before.map((c) => c[counter]),
      after.map((c) => c[counter]),
      kill && { index: kill.index, atKill: kill.atKill[counter] },
    );
  const processedLogs = during("processed");
  return {
    round,
    scenario,
    target: target.name,
    supported: true,
    elapsedMs: result.elapsedMs,
    requestsPerSec: seconds > 0 ? result.responses / seconds : 0,
    logsPerSec: deliveredPerSec ?? (seconds > 0 ? acknowledgedLogs / seconds : 0),
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    responses: result.responses,
    ok: result.ok,
    non2xx: result.non2xx,
    socketErrors: result.socketErrors,
    errors: result.non2xx + result.socketErrors,
    acknowledgedLogs,
    processedLogs,
    analyzerRequests: during("requests"),
    ...reconcile(acknowledgedLogs, processedLogs),
    lostIsUpperBound: kill !== undefined,
    statusCodes: result.statusCodes,
    notes,
  };
}

type Load = { result: LoadResult; kill?: { index: number; atKill: AnalyzerCounters }; deliveredPerSec?: number };

/** The load, with the victim killed part-way through and started again a second later. */
async function loadWithFailover(
  lab: Lab,
  spec: LoadSpec,
  before: readonly AnalyzerCounters[],
  notes: string[],
): Promise<Load> {
  const run = runLoad(lab.generator, spec);
  run.catch(() => {}); // awaited below; this only keeps an early failure from counting as unhandled
  await Bun.sleep(lab.durationMs * FAILOVER.killAtFraction);
  const asked = performance.now();
  const atKill = await lab.analyzers.countersOf(FAILOVER.victim);
  lab.analyzers.kill(FAILOVER.victim); // same tick as the read: nothing else runs in between here
  const killedAt = performance.now();
  // The victim answered somewhere inside this; what it analyzed after answering is missed.
  notes.push(`counter read to kill ≤ ${(killedAt - asked).toFixed(1)} ms`);
  await Bun.sleep(FAILOVER.downMs);
  await lab.analyzers.restart(FAILOVER.victim);
  const id = lab.analyzers.analyzers[FAILOVER.victim]!.id;
  notes.push(
    `${id} killed having analyzed ${atKill.processed - before[FAILOVER.victim]!.processed} in this run, listening again after ${Math.round(performance.now() - killedAt)} ms`,
  );
  return { result: await run, kill: { index: FAILOVER.victim, atKill } };
}

/** The load with Prefer: respond-async; logs/s is what the distributor delivered until its queue was empty again. */
async function loadAsync(lab: Lab, target: Target, spec: LoadSpec, notes: string[]): Promise<Load> {
  if (!target.stats) throw new Error(`the async scenario needs ${target.name}'s /stats`);
  const stats = target.stats;
  const start = await stats();
  const t0 = performance.now();
  const result = await runLoad(lab.generator, spec);
  let end = start;
  // Everything accepted is either delivered or given up on, and nothing is queued or in flight.
  await waitUntil(
    "the distributor has delivered every accepted message",
    async () => {
      end = await stats();
      return end.queue.depth === 0 && end.activeWorkers === 0 && end.received === end.delivered + end.failed;
    },
    CATCH_UP_TIMEOUT_MS,
  );
  const seconds = (performance.now() - t0) / 1000;
  const delivered = end.delivered - start.delivered;
  notes.push(
    `delivered ${delivered} in ${seconds.toFixed(2)} s (load ${(result.elapsedMs / 1000).toFixed(2)} s, then catching up)`,
  );
  if (end.failed > start.failed) notes.push(`${end.failed - start.failed} accepted messages failed`);
  return { result, deliveredPerSec: delivered / seconds };
}

/** After a failover every target must have the analyzer back before the next measurement starts. */
async function everyTargetRecovered(lab: Lab): Promise<void> {
  await Promise.all([...lab.targets.values()].map((t) => t.ready()));
  // nginx shows nothing: give it its fail_timeout, after which it tries the analyzer again.
  if ([...lab.targets.keys()].some((name) => name.startsWith("nginx"))) await Bun.sleep(FAIRNESS.failTimeoutMs);
}
