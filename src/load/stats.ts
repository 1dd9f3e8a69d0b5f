// The distributor's GET /stats, read before and after a run for the distribution report, and
// checked against the schema the distributor's answer is typed with (src/protocol/stats.ts).

import { DistributorStats } from "../protocol/stats.ts";
import type { FetchTls } from "./tls.ts";

/** Reads the stats once; throws a one-line Error saying what went wrong. */
export type FetchStats = () => Promise<DistributorStats>;

const STATS_TIMEOUT_MS = 2_000;

/** /stats on the same origin as the analyze URL. */
export function statsUrl(analyzeUrl: string): string {
  return new URL("/stats", analyzeUrl).href;
}

export function createStatsFetcher(url: string, timeoutMs = STATS_TIMEOUT_MS, tls?: FetchTls): FetchStats {
  return async function fetchStats() {
    let response: Response;
    try {
      response = await fetch(url, { tls, signal: AbortSignal.timeout(timeoutMs) });
    } catch (error) {
      throw new Error(`could not reach ${url}: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (!response.ok) {
      await response.arrayBuffer();
      throw new Error(`${url} answered ${response.status}`);
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      throw new Error(`${url} did not answer JSON`);
    }
    const parsed = DistributorStats.safeParse(body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`${url} answered an unexpected shape: ${issue.path.join(".") || "(root)"}: ${issue.message}`);
    }
    return parsed.data;
  };
}

/** Messages delivered to all analyzers, per the per-analyzer counters the report compares. */
export function totalDelivered(stats: DistributorStats): number {
  return stats.analyzers.reduce((sum, a) => sum + a.delivered, 0);
}

export type SettleOptions = {
  fetchStats: FetchStats;
  before: DistributorStats;
  /** Messages this run got accepted; once that many more are delivered there is nothing to wait for. */
  expected: number;
  timeoutMs?: number;
  intervalMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<unknown>;
};

export type Settled = { stats: DistributorStats; settled: boolean; waitedMs: number };

const SETTLE_TIMEOUT_MS = 10_000;
const SETTLE_INTERVAL_MS = 100;

/**
 * Polls /stats until the run's messages are delivered, so queued (async) deliveries are counted:
 * done when `expected` more messages were delivered than before, or when the queue is empty and
 * the delivered count stopped growing between two polls (some messages failed or were dropped).
 * Gives up after `timeoutMs` and returns the last snapshot with settled: false.
 */
export async function waitForDelivery(options: SettleOptions): Promise<Settled> {
  const { fetchStats, before, expected } = options;
  const timeoutMs = options.timeoutMs ?? SETTLE_TIMEOUT_MS;
  const intervalMs = options.intervalMs ?? SETTLE_INTERVAL_MS;
  const now = options.now ?? (() => performance.now());
  const sleep = options.sleep ?? Bun.sleep;
  const start = now();
  const target = totalDelivered(before) + expected;
  let previous: number | undefined;
  for (;;) {
    const stats = await fetchStats();
    const delivered = totalDelivered(stats);
    const waitedMs = now() - start;
    if (delivered >= target || (stats.queue.depth === 0 && delivered === previous))
      return { stats, settled: true, waitedMs };
    if (waitedMs >= timeoutMs) return { stats, settled: false, waitedMs };
    previous = delivered;
    await sleep(intervalMs);
  }
}
