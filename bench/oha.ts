// oha: --output-format json (times in seconds). oha's successRate counts any HTTP response as a
// success, 4xx and 5xx included, so ok/non-2xx come from its status code distribution instead.
// Requests still in flight at the deadline are cancelled and listed as "aborted due to deadline":
// that is the run ending, not an error.

import { outputOf } from "../testkit/procs.ts";
import type { Generator, LoadResult } from "./generator.ts";
import { preferHeader } from "./prefer.ts";

type OhaJson = {
  summary: { total: number };
  latencyPercentiles?: Record<string, number | null>;
  statusCodeDistribution?: Record<string, number>;
  errorDistribution?: Record<string, number>;
};

const DEADLINE = /aborted due to deadline/i;

export function parseOha(stdout: string): LoadResult {
  const j = JSON.parse(stdout.slice(stdout.indexOf("{"))) as OhaJson;
  if (typeof j.summary?.total !== "number") throw new Error("no summary.total");
  const statusCodes = { ...j.statusCodeDistribution };
  let ok = 0;
  let non2xx = 0;
  for (const [status, count] of Object.entries(statusCodes)) {
    if (status.startsWith("2")) ok += count;
    else non2xx += count;
  }
  let socketErrors = 0;
  for (const [message, count] of Object.entries(j.errorDistribution ?? {}))
    if (!DEADLINE.test(message)) socketErrors += count;
  const seconds = (value: number | null | undefined) =>
    typeof value === "number" && ok + non2xx > 0 ? value * 1000 : null;
  return {
    elapsedMs: j.summary.total * 1000,
    responses: ok + non2xx,
    ok,
    non2xx,
    socketErrors,
    p50Ms: seconds(j.latencyPercentiles?.p50),
    p99Ms: seconds(j.latencyPercentiles?.p99),
    statusCodes,
  };
}

export const oha: Generator = {
  name: "oha",
  available: () => Bun.which("oha") !== null,
  version: () => /oha (\S+)/.exec(outputOf(["oha", "--version"]))?.[1] ?? "unknown",
  async command(spec) {
    const argv = [
      "oha",
      "--no-tui",
      "--output-format",
      "json",
      "-z",
      `${spec.durationMs}ms`,
      "-c",
      String(spec.connections),
      "-t",
      "10s",
    ];
    argv.push("-m", "POST", "-T", spec.contentType);
    const prefer = preferHeader(spec);
    if (prefer !== undefined) argv.push("-H", `Prefer: ${prefer}`);
    // The tls scenario's certificate comes from a CA made for the run; wrk and hey do not verify either.
    if (spec.url.startsWith("https:")) argv.push("--insecure");
    return [...argv, "-D", spec.bodyFile, spec.url];
  },
  parse: (stdout) => parseOha(stdout),
};
