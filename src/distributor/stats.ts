// GET /stats on the distributor: counters, per-analyzer state and the queue, as one JSON object of
// the type src/protocol/stats.ts defines. describeAnalyzers is the one description of an analyzer
// (describeGroups of a group, summed from it): /stats, /metrics and the admin API all show what they say.

import type { AnalyzerStatsEntry, DistributorStats, GroupStatsEntry } from "../protocol/stats.ts";
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
    group: u.group,
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

/** Every ANALYZER_GROUPS group, in its order, from its instances' descriptions. Reads only. */
export function describeGroups(
  balancer: Balancer,
  analyzers: readonly AnalyzerStatsEntry[] = describeAnalyzers(balancer),
): GroupStatsEntry[] {
  return [...balancer.groups].map(([name, weight]) => {
    const members = analyzers.filter((a) => a.group === name);
    return {
      name,
      weight,
      instances: members.length,
      healthy: members.filter((a) => a.healthy).length,
      share: members.reduce((sum, a) => sum + a.share, 0),
      delivered: members.reduce((sum, a) => sum + a.delivered, 0),
    };
  });
}

export function statsSnapshot({
  balancer,
  counters,
  channel,
  pool,
  intake,
  startedAt,
}: StatsSources): DistributorStats {
  const analyzers = describeAnalyzers(balancer);
  return {
    analyzers,
    groups: describeGroups(balancer, analyzers),
    ...counters,
    queue: { depth: channel.size, capacity: channel.capacity },
    spool: intake.stats(),
    workers: pool.workers,
    activeWorkers: pool.active,
    uptimeSeconds: Math.round((performance.now() - startedAt) / 1000),
  };
}
