// Message counters for the whole distributor (per-analyzer ones live on each Upstream). Their
// meanings are documented where /stats is defined (src/protocol/stats.ts), as they are sent as is.

import type { DistributorCounters } from "../protocol/stats.ts";

export type Counters = DistributorCounters;

export function createCounters(): Counters {
  return {
    received: 0,
    delivered: 0,
    retried: 0,
    rejected: 0,
    failed: 0,
    retriedRequests: 0,
    retriesDenied: 0,
    invalid: 0,
  };
}
