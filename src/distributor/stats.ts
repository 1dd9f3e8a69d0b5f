// GET /stats on the distributor: counters, per-analyzer state and the queue, as one JSON object.

import type { Balancer } from "./balancer.ts";
import type { Channel } from "./channel.ts";
import type { Counters } from "./counters.ts";
import type { Pool } from "./pool.ts";

export type StatsSources = { balancer: Balancer; counters: Counters; channel: Pick<Channel<unknown>, "size" | "capacity">; pool: Pool; startedAt: number };

export function statsSnapshot({ balancer, counters, channel, pool, startedAt }: StatsSources) {
  const weights = balancer.upstreams.map((u) => (u.healthy ? balancer.effectiveWeight(u) : 0));
  const totalWeight = weights.reduce((sum, w) => sum + w, 0);
  return {
    analyzers: balancer.upstreams.map((u, i) => ({
      id: u.id,
      url: u.url,
      weight: u.weight,
      healthy: u.healthy,
      // The share of new messages it gets now: its weight over the healthy analyzers' weights.
      share: totalWeight > 0 ? weights[i] / totalWeight : 0,
      requests: u.requests,
      delivered: u.delivered,
      failed: u.failed,
      inflight: u.inflight,
      healthChanges: u.healthChanges,
      lastError: u.lastError,
    })),
    ...counters,
    queue: { depth: channel.size, capacity: channel.capacity },
    workers: pool.workers,
    activeWorkers: pool.active,
    uptimeSeconds: Math.round((performance.now() - startedAt) / 1000),
  };
}
