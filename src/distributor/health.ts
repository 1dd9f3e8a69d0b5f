// Active health checks: every `intervalMs`, probe each analyzer's GET /health in parallel, with a
// timeout. An analyzer goes down after `fall` failed probes in a row and comes back after `rise`
// good ones (HAProxy's rise/fall), so a single lost probe does not thrash the pick table. The very
// first round decides at once, so a distributor that starts next to running analyzers serves
// immediately. Passive failures (see dispatch.ts) mark an analyzer down between rounds; it then
// needs `rise` good probes to return.

import { type AnalyzerTls, tlsFor } from "./analyzertls.ts";
import type { Balancer } from "./balancer.ts";
import type { Upstream } from "./upstream.ts";

export type HealthCheckOptions = {
  balancer: Balancer;
  intervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
  /** For https analyzers: the same CA and client certificate as forwarding uses. */
  /** A function when it can change (AnalyzerTlsSource): read for every probe. */
  tls?: AnalyzerTls | (() => AnalyzerTls);
  /**
   * Says why an analyzer fails its first probe: it starts down, so the balancer sees no change to
   * report, and a refused certificate would otherwise show only in /stats.
   */
  log?: (line: string) => void;
};

export type HealthChecker = {
  /** Runs one round of probes now. */
  probeAll(): Promise<void>;
  stop(): void;
};

type Streak = { ok: number; failed: number; checked: boolean };

export function startHealthChecks(options: HealthCheckOptions): HealthChecker {
  const { balancer, intervalMs, timeoutMs, rise, fall } = options;
  const tlsOption = options.tls ?? {};
  const currentTls = typeof tlsOption === "function" ? tlsOption : () => tlsOption;
  // Keyed weakly: analyzers that discovery removes take their streaks with them.
  const streaks = new WeakMap<Upstream, Streak>();
  const streakOf = (u: Upstream): Streak => {
    let streak = streaks.get(u);
    if (!streak) {
      streak = { ok: 0, failed: 0, checked: false };
      streaks.set(u, streak);
    }
    return streak;
  };
  // A passive mark-down resets the good streak, so the analyzer must earn `rise` probes again.
  balancer.onChange(({ upstream, healthy }) => {
    if (!healthy) streakOf(upstream).ok = 0;
  });

  async function probe(upstream: Upstream): Promise<void> {
    const streak = streakOf(upstream);
    const result = await check(upstream, timeoutMs, currentTls());
    const first = !streak.checked;
    streak.checked = true;
    if (result.ok) {
      if (result.id !== undefined) balancer.learnId(upstream, result.id);
      streak.ok++;
      streak.failed = 0;
      if (!upstream.healthy && (first || streak.ok >= rise)) balancer.setHealthy(upstream, true, "health check passed");
    } else {
      streak.failed++;
      streak.ok = 0;
      if (first && !upstream.healthy)
        options.log?.(`analyzer ${upstream.id} (${upstream.url}) is down from its first check: ${result.failure}`);
      if (first || streak.failed >= fall || !upstream.healthy) balancer.setHealthy(upstream, false, result.failure);
    }
  }

  async function probeAll(): Promise<void> {
    await Promise.all(balancer.upstreams.map(probe));
  }

  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Rounds never overlap: the next one is scheduled after this one ends, `intervalMs` after it began.
  async function loop(): Promise<void> {
    const started = performance.now();
    await probeAll();
    if (stopped) return;
    timer = setTimeout(loop, Math.max(0, intervalMs - (performance.now() - started)));
  }
  timer = setTimeout(loop, intervalMs);

  return {
    probeAll,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** A probe's answer: healthy, with the analyzer's id when its answer gives one, or why not. */
type ProbeResult = { ok: true; id: string | undefined } | { ok: false; failure: string };

async function check(upstream: Upstream, timeoutMs: number, tls: AnalyzerTls): Promise<ProbeResult> {
  try {
    const res = await fetch(upstream.healthUrl, {
      signal: AbortSignal.timeout(timeoutMs),
      // Bun's fetch verifies against `ca` and the serverName (a discovered analyzer's DNS name).
      tls: upstream.healthUrl.startsWith("https:") ? tlsFor(upstream, tls) : undefined,
    });
    const body = (await res.json().catch(() => null)) as { id?: unknown } | null;
    if (!res.ok) return { ok: false, failure: `health check answered ${res.status}` };
    return { ok: true, id: body && typeof body.id === "string" && body.id !== "" ? body.id : undefined };
  } catch (error) {
    return { ok: false, failure: `health check failed: ${describeFetchError(error, timeoutMs)}` };
  }
}

export function describeFetchError(error: unknown, timeoutMs: number): string {
  if (error instanceof DOMException && (error.name === "TimeoutError" || error.name === "AbortError")) {
    return `no answer within ${timeoutMs} ms`;
  }
  const e = error as { code?: string; message?: string };
  return e.code ? `${e.code}${e.message ? ` (${e.message})` : ""}` : String(e.message ?? error);
}
