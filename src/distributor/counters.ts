// Message counters for the whole distributor (per-analyzer ones live on each Upstream).

export type Counters = {
  /** Messages accepted into the queue. */
  received: number;
  /** Messages an analyzer analyzed. */
  delivered: number;
  /** Delivery attempts repeated on another analyzer after one failed. */
  retried: number;
  /** Messages refused with 503 before they were accepted: queue full, or no healthy analyzer. */
  rejected: number;
  /** Accepted messages given up on: every attempt failed, or no analyzer was left for a waiting
   * client (it saw 502/503/504). received = delivered + failed + messages still on their way. */
  failed: number;
  /** Failed analyzer requests whose messages were retried (what the retry budget counts). */
  retriedRequests: number;
  /** Failed analyzer requests not retried because the retry budget was spent. */
  retriesDenied: number;
  /** Requests refused as malformed (4xx). */
  invalid: number;
};

export function createCounters(): Counters {
  return { received: 0, delivered: 0, retried: 0, rejected: 0, failed: 0, retriedRequests: 0, retriesDenied: 0, invalid: 0 };
}
