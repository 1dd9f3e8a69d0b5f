// Message counters for the whole distributor (per-analyzer ones live on each Upstream). Their
// meanings are documented where /stats is defined (src/protocol/stats.ts), as they are sent as is.

import { type DistributorCounters, zeroCounters } from "../protocol/stats.ts";

export type Counters = DistributorCounters;

export function createCounters(): Counters {
  return zeroCounters();
}
