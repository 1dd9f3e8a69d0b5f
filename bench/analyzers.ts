// The three analyzers every target shares: started once on free 127.0.0.1 ports with no simulated
// latency, read through their /stats, and killed (SIGKILL) and restarted on the same port for the
// failover scenario.

import { killChild, spawnChild, stopChild, waitForOutput, type Child } from "./procs.ts";
import type { AnalyzerStats } from "../src/protocol/stats.ts";

export const WEIGHTS = [1, 2, 3] as const;
const ROOT = new URL("..", import.meta.url).pathname;
const RESTART_ATTEMPTS = 5;
const LISTENING = /listening on (http:\/\/[\d.]+:(\d+))/;

/** From an analyzer's /stats: messages analyzed and /analyze requests received since it started. */
export type AnalyzerCounters = Pick<AnalyzerStats, "processed" | "requests">;

export type Analyzer = { id: string; url: string; port: number; weight: number; child: Child };

export class AnalyzerCluster {
  private constructor(readonly analyzers: Analyzer[]) {}

  static async start(): Promise<AnalyzerCluster> {
    const analyzers = await Promise.all(WEIGHTS.map((weight, i) => startAnalyzer(`a${i + 1}`, 0, weight)));
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
    killChild(this.analyzers[index]!.child);
  }

  /** Starts a killed analyzer again on its port, under its id; resolves once it listens. */
  async restart(index: number): Promise<void> {
    const old = this.analyzers[index]!;
    await old.child.exited;
    // The port was freed by the kernel on kill; a retry covers a slow release on a busy machine.
    for (let attempt = 1; ; attempt++) {
      try {
        this.analyzers[index] = await startAnalyzer(old.id, old.port, old.weight);
        return;
      } catch (error) {
        if (attempt === RESTART_ATTEMPTS) throw error;
        await Bun.sleep(100);
      }
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.analyzers.map((a) => stopChild(a.child)));
  }
}

async function startAnalyzer(id: string, port: number, weight: number): Promise<Analyzer> {
  const child = spawnChild(`analyzer ${id}`, [process.execPath, "analyzer.ts"], {
    cwd: ROOT,
    env: { PORT: String(port), HOST: "127.0.0.1", ANALYZER_ID: id, ANALYZER_LATENCY: "0", FAILURE_RATE: "0" },
  });
  const match = await waitForOutput(child, LISTENING);
  return { id, url: match[1]!, port: Number(match[2]), weight, child };
}
