// This repo's load_tester.ts, the fallback when no oha, wrk or hey is installed: its --json report
// (times in milliseconds). It sends its own generated log lines, not the bench's body, in packets
// of the same size.

import { existsSync } from "node:fs";
import { ROOT } from "../testkit/procs.ts";
import type { Generator, LoadResult } from "./generator.ts";

const ENTRY = "load_tester.ts";

type LoadTesterJson = {
  summary: { totalMs: number; failures: number };
  latencyPercentiles: Record<string, number>;
  statusCodes: Record<string, number>;
};

export function parseLoadTester(stdout: string): LoadResult {
  const j = JSON.parse(stdout) as LoadTesterJson;
  if (typeof j.summary?.totalMs !== "number") throw new Error("no summary.totalMs");
  let ok = 0;
  let non2xx = 0;
  for (const [status, count] of Object.entries(j.statusCodes ?? {})) {
    if (status.startsWith("2")) ok += count;
    else non2xx += count;
  }
  return {
    elapsedMs: j.summary.totalMs,
    responses: ok + non2xx,
    ok,
    non2xx,
    // failures = non-2xx answers + requests that got no answer at all
    socketErrors: j.summary.failures - non2xx,
    p50Ms: j.latencyPercentiles?.p50 ?? null,
    p99Ms: j.latencyPercentiles?.p99 ?? null,
    statusCodes: { ...j.statusCodes },
  };
}

export const loadTester: Generator = {
  name: "load_tester",
  available: () => existsSync(`${ROOT}${ENTRY}`),
  version: () => `${ENTRY} (this repo, Bun ${Bun.version})`,
  cwd: ROOT,
  ownBodies: true,
  async command(spec) {
    const argv = [
      process.execPath,
      ENTRY,
      "--json",
      "-z",
      `${spec.durationMs}ms`,
      "-c",
      String(spec.connections),
      "-t",
      "10s",
    ];
    argv.push("--packet", String(spec.packet));
    if (spec.async) argv.push("--async");
    // As oha: the tls scenario's certificate comes from a CA made for the run.
    if (spec.url.startsWith("https:")) argv.push("--insecure");
    return [...argv, "--url", spec.url];
  },
  parse: (stdout) => parseLoadTester(stdout),
};
