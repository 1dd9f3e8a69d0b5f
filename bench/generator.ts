// A load generator as the bench uses it: one closed-loop run of a fixed length against one URL,
// reduced to the few numbers every generator can report. The first of oha, wrk, hey on PATH is
// used, else this repo's load_tester.ts; each adapter lives in its own file with its parser.

import { spawnChild } from "../testkit/procs.ts";
import type { GeneratorName } from "./args.ts";
import { hey } from "./hey.ts";
import { loadTester } from "./load-tester.ts";
import { oha } from "./oha.ts";
import { wrk } from "./wrk.ts";

export type LoadSpec = {
  url: string;
  durationMs: number;
  connections: number;
  /** The request body, also written to `bodyFile` for generators that read it from a file. */
  body: string;
  bodyFile: string;
  contentType: string;
  /** Logs per request: 1 for {"log": ...}, more for {"logs": [...]} or NDJSON (load_tester builds its own). */
  packet: number;
  /** Send Prefer: respond-async. */
  async: boolean;
  /** Send Prefer: return=minimal: the answer holds how many were analyzed, not the analyses (as an agent needs). */
  minimal: boolean;
  /** A scratch directory for scripts. */
  dir: string;
};

/** What came back, whichever generator produced it. Times in milliseconds. */
export type LoadResult = {
  elapsedMs: number;
  /** HTTP responses received, whatever their status. */
  responses: number;
  ok: number;
  non2xx: number;
  /** Requests that got no response: connect/read/write errors and timeouts. */
  socketErrors: number;
  p50Ms: number | null;
  p99Ms: number | null;
  /** By status code where the generator tells them apart (wrk only says "non-2xx"). */
  statusCodes: Record<string, number>;
};

export type Generator = {
  name: GeneratorName;
  /** The command line for one run (may write a script into spec.dir). */
  command(spec: LoadSpec): Promise<string[]>;
  parse(stdout: string, spec: LoadSpec): LoadResult;
  available(): boolean;
  version(): string;
  /** Where `command` needs something other than the repo root. */
  cwd?: string;
  /** Sends bodies of its own making, {"log"} or {"logs"}, instead of `body` (load_tester): no other format. */
  ownBodies?: boolean;
};

export const ALL_GENERATORS: readonly Generator[] = [oha, wrk, hey, loadTester];

export const INSTALL_HINTS: Record<GeneratorName, string> = {
  oha: "cargo install oha (or a release binary from its project page)",
  wrk: "apt-get install -y wrk",
  hey: "apt-get install -y hey",
  load_tester: "it ships with this repo: load_tester.ts",
};

/** No usable load generator: one line saying what to install. */
export class GeneratorMissingError extends Error {
  override name = "GeneratorMissingError";
}

/** The forced one, or the first available in order of preference. */
export function chooseGenerator(
  forced: GeneratorName | undefined,
  available = (g: Generator) => g.available(),
): Generator {
  if (forced !== undefined) {
    const generator = ALL_GENERATORS.find((g) => g.name === forced)!;
    if (!available(generator))
      throw new GeneratorMissingError(`--generator ${forced}: not found (${INSTALL_HINTS[forced]})`);
    return generator;
  }
  const generator = ALL_GENERATORS.find(available);
  if (!generator)
    throw new GeneratorMissingError("no load generator: install oha, wrk or hey, or restore load_tester.ts");
  return generator;
}

// Generous: a run that overshoots its duration by this much is stuck, not slow.
const STUCK_AFTER_MS = 30_000;

export async function runLoad(generator: Generator, spec: LoadSpec): Promise<LoadResult> {
  const argv = await generator.command(spec);
  const child = spawnChild(generator.name, argv, { cwd: generator.cwd, group: true });
  const timer = setTimeout(() => child.kill(), spec.durationMs + STUCK_AFTER_MS);
  const code = await child.exited;
  clearTimeout(timer);
  try {
    return generator.parse(child.stdout(), spec);
  } catch (error) {
    throw new Error(
      `${generator.name} exited with ${code} and its output could not be read (${(error as Error).message}):\n${child.output().slice(-2000)}`,
    );
  }
}
