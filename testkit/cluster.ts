// This repo's programs as real child processes on port 0: analyzers a1..aN and a distributor in
// front of them, the arrangement most end-to-end tests and the fault scenarios start from.

import { type Env, type Service, spawnService } from "./procs.ts";

export type Cluster = { analyzers: Service[]; distributor: Service };

/** An analyzer on 127.0.0.1 with POST /fault on for this machine (ADMIN_LOOPBACK): the tests inject faults with it. */
export function startAnalyzer(id: string, env: Env = {}): Promise<Service> {
  return spawnService("analyzer.ts", { ANALYZER_ID: id, ADMIN_LOOPBACK: "true", ...env });
}

/** Analyzers a1..aN with the given weights (each with `analyzerEnv(id)` added), and a distributor in front of them. */
export async function startCluster(
  weights: number[],
  env: Env = {},
  analyzerEnv: (id: string) => Env = () => ({}),
): Promise<Cluster> {
  const analyzers = await Promise.all(weights.map((_, i) => startAnalyzer(`a${i + 1}`, analyzerEnv(`a${i + 1}`))));
  const distributor = await spawnService("distributor.ts", {
    ANALYZERS: analyzers.map((a) => a.url).join(","),
    DISTRIBUTION_WEIGHTS: weights.join(","),
    HEALTH_INTERVAL_MS: "100",
    ...env,
  });
  return { analyzers, distributor };
}
