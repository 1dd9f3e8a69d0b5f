// GET /stats on the distributor: counters, per-analyzer state and the queue, as one JSON object of
// the type src/protocol/stats.ts defines. describeAnalyzers is the one description of an analyzer:
// /stats, /metrics and the admin API all show what it says.

import type { AnalyzerStatsEntry, DistributorStats } from "../protocol/stats.ts";
import type { Balancer } from "./balancer.ts";
import type { Channel } from "./channel.ts";
import type { Counters } from "./counters.ts";
import type { Intake } from "./intake.ts";
import type { Pool } from "./pool.ts";

export type StatsSources = {
  balancer: Balancer;
  counters: Counters;
  channel: Pick<Channel<unknown>, "size" | "capacity">;
  pool: Pick<Pool, "workers" | "active">;
  intake: Pick<Intake, "stats">;
  startedAt: number;
};

/** Every analyzer the balancer knows, in its order, as it stands now. Reads only. */
export function describeAnalyzers(balancer: Balancer): AnalyzerStatsEntry[] {
  const weights = balancer.upstreams.map((u) => balancer.effectiveWeight(u));
  const totalWeight = weights.reduce((sum, w) => sum + w, 0);
  return balancer.upstreams.map((u, i) => ({
    id: u.id,
    url: u.url,
    weight: u.weight,
    effectiveWeight: weights[i],
    healthy: u.healthy,
    // The share of new messages it gets now: its weight over the healthy analyzers' weights.
    share: totalWeight > 0 ? weights[i] / totalWeight : 0,
    requests: u.requests,
    delivered: u.delivered,
    failed: u.failed,
    inflight: u.inflight,
    healthChanges: u.healthChanges,
    lastError: u.lastError,
  }));
}

export function statsSnapshot({
  balancer,
  counters,
  channel,
  pool,
  intake,
  startedAt,
}: StatsSources): DistributorStats {
  return {
    analyzers: describeAnalyzers(balancer),
    ...counters,
    queue: { depth: channel.size, capacity: channel.capacity },
    spool: intake.stats(),
    workers: pool.workers,
    activeWorkers: pool.active,
    uptimeSeconds: Math.round((performance.now() - startedAt) / 1000),
  };
}
