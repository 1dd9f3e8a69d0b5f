// What the load generator is pointed at: the distributor, HAProxy or nginx, each in front of the same
// three analyzers with the same weights and the same health-check settings (FAIRNESS below).

import type { DistributorStats } from "../src/protocol/stats.ts";
import { type Child, spawnService } from "../testkit/procs.ts";
import type { Analyzer } from "./analyzers.ts";
import type { TargetName } from "./args.ts";

/** One place for the settings every target gets, so a difference in results is not a config one. */
export const FAIRNESS = {
  healthIntervalMs: 100,
  healthTimeoutMs: 400,
  /** Good probes in a row to bring an analyzer back, failed ones to take it out (distributor defaults). */
  rise: 1,
  fall: 2,
  requestTimeoutMs: 2_000,
  /** Tries per request, each on another analyzer when possible (the distributor's MAX_ATTEMPTS). */
  attempts: 3,
  /** nginx only (no active checks in nginx OSS): how long a failed analyzer is left alone. */
  failTimeoutMs: 1_000,
} as const;

export type Target = {
  name: TargetName;
  /** POST here. */
  analyzeUrl: string;
  /** The same over HTTPS, the target terminating TLS (the `tls` scenario); absent when not started with a certificate. */
  tlsAnalyzeUrl?: string;
  version: string;
  /** One line: how it is configured, for the report. */
  settings: string;
  /** The async scenario needs Prefer: respond-async, which only the distributor understands. */
  supportsAsync: boolean;
  /** The distributor's /stats: the async scenario waits on it until everything is delivered. */
  stats?(): Promise<DistributorStats>;
  /** Resolves once it answers and (as far as it shows) sees every analyzer healthy. */
  ready(): Promise<void>;
  stop(): Promise<void>;
  child: Child;
};

/** A certificate and its key, PEM files; `combined` is both in one file, as HAProxy's `crt` takes them; `ca` signed it. */
export type BenchCert = { cert: string; key: string; combined: string; ca: string };

/**
 * The distributor; `distributor-memory` keeps async messages in memory only (SPOOL=memory), for the
 * spool's cost. With `tls`, a second distributor process serves HTTPS with that certificate in
 * front of the same analyzers (Bun.serve takes one protocol per port), for the `tls` scenario.
 */
export async function startDistributor(
  analyzers: readonly Analyzer[],
  name: "distributor" | "distributor-memory" = "distributor",
  tls?: BenchCert,
): Promise<Target & { stats(): Promise<DistributorStats> }> {
  const env = {
    ...(name === "distributor-memory" ? { SPOOL: "memory" } : {}),
    ANALYZERS: analyzers.map((a) => a.url).join(","),
    DISTRIBUTION_WEIGHTS: analyzers.map((a) => a.weight).join(","),
    HEALTH_INTERVAL_MS: String(FAIRNESS.healthIntervalMs),
    HEALTH_TIMEOUT_MS: String(FAIRNESS.healthTimeoutMs),
    HEALTH_RISE: String(FAIRNESS.rise),
    HEALTH_FALL: String(FAIRNESS.fall),
    REQUEST_TIMEOUT_MS: String(FAIRNESS.requestTimeoutMs),
    MAX_ATTEMPTS: String(FAIRNESS.attempts),
  };
  const child = await spawnService("distributor.ts", env, { name, group: true });
  const tlsChild = tls
    ? await spawnService(
        "distributor.ts",
        { ...env, TLS_CERT_FILE: tls.cert, TLS_KEY_FILE: tls.key },
        { name: `${name}-tls`, group: true },
      )
    : undefined;
  const ca = tls && (await Bun.file(tls.ca).text()); // read once, not on every readiness poll
  const origin = child.url;
  const workers = /listening on .*; (\d+) workers/.exec(child.output())?.[1];
  const stats = async (): Promise<DistributorStats> => {
    const res = await fetch(`${origin}/stats`, { signal: AbortSignal.timeout(5_000) });
    return (await res.json()) as DistributorStats;
  };
  return {
    name,
    analyzeUrl: `${origin}/analyze`,
    ...(tlsChild && { tlsAnalyzeUrl: `${tlsChild.url}/analyze` }),
    version: `Bun ${Bun.version}`,
    settings: `one Bun process, ${workers} workers, ${name === "distributor" ? "async messages stored in the spool (SQLite, synchronous=NORMAL)" : "SPOOL=memory"}, health checks every ${FAIRNESS.healthIntervalMs} ms (timeout ${FAIRNESS.healthTimeoutMs} ms, rise ${FAIRNESS.rise}, fall ${FAIRNESS.fall}), passive mark-down, ${FAIRNESS.attempts} attempts`,
    supportsAsync: true,
    child,
    stats,
    async ready() {
      const healthy = waitUntil("the distributor sees every analyzer healthy with an empty queue", async () => {
        const s = await stats();
        return s.analyzers.every((a) => a.healthy) && s.queue.depth === 0 && s.activeWorkers === 0;
      });
      await child.whileRunning(healthy);
      if (tlsChild)
        await tlsChild.whileRunning(waitUntil(`${name}-tls answers`, () => answers(`${tlsChild.url}/health`, ca)));
    },
    stop: async () => void (await Promise.all([child.stop(), tlsChild?.stop()])),
  };
}

/** A port that was free a moment ago on 127.0.0.1, for programs that cannot be told to pick one. */
export function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

/** Polls `check` (errors count as "not yet") until true; throws naming `what` after `timeoutMs`. */
export async function waitUntil(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 15_000,
  everyMs = 25,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = "";
  while (performance.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      last = ` (last error: ${error instanceof Error ? error.message : String(error)})`;
    }
    await Bun.sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}${last}`);
}

/** GET url answers 200 (through a proxy: some analyzer's /health); an https url is verified against `ca` (PEM text). */
export async function answers(url: string, ca?: string): Promise<boolean> {
  const res = await fetch(url, { signal: AbortSignal.timeout(1_000), ...(ca && { tls: { ca } }) });
  await res.arrayBuffer();
  return res.status === 200;
}
