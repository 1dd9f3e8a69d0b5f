// The three analyzers every target shares: started once on free 127.0.0.1 ports with no simulated
// latency, read through their /stats, and killed (SIGKILL) and restarted on the same port for the
// failover scenario.

import type { AnalyzerStats } from "../src/protocol/stats.ts";
import { type Service, spawnService } from "../testkit/procs.ts";

export const WEIGHTS = [1, 2, 3] as const;

/** From an analyzer's /stats: messages analyzed and /analyze requests received since it started. */
export type AnalyzerCounters = Pick<AnalyzerStats, "processed" | "requests">;

export type Analyzer = { id: string; url: string; port: number; weight: number; child: Service };

export class AnalyzerCluster {
  private constructor(readonly analyzers: Analyzer[]) {}

  static async start(): Promise<AnalyzerCluster> {
    const analyzers = await Promise.all(WEIGHTS.map((weight, i) => startAnalyzer(`a${i + 1}`, weight)));
    return new AnalyzerCluster(analyzers);
  }

  /** Every analyzer's counters, in order. */
  counters(): Promise<AnalyzerCounters[]> {
    return Promise.all(this.analyzers.map((_, i) => this.countersOf(i)));
  }

  async countersOf(index: number): Promise<AnalyzerCounters> {
    const res = await fetch(`${this.analyzers[index]!.url}/stats`, { signal: AbortSignal.timeout(5_000) });
    const { processed, requests } = (await res.json()) as AnalyzerStats;
    return { processed, requests };
  }

  /** kill -9: no goodbye, in-flight requests break. */
  kill(index: number): void {
    this.analyzers[index]!.child.kill();
  }

  /** Starts a killed analyzer again on its port, under its id; resolves once it listens. */
  async restart(index: number): Promise<void> {
    const old = this.analyzers[index]!;
    this.analyzers[index] = { ...old, child: await old.child.restart() };
  }

  async stop(): Promise<void> {
    await Promise.all(this.analyzers.map((a) => a.child.stop()));
  }
}

async function startAnalyzer(id: string, weight: number): Promise<Analyzer> {
  const child = await spawnService(
    "analyzer.ts",
    { ANALYZER_ID: id, ANALYZER_LATENCY: "0", FAILURE_RATE: "0" },
    { name: `analyzer ${id}`, group: true },
  );
  return { id, url: child.url, port: child.port, weight, child };
}
