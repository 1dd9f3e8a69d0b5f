// Command-line flags for `bun run bench`. Parsed by hand so every mistake gets one line naming the
// flag and the value received. Durations read as the load tester's do (src/load/duration.ts).

import { parseDuration } from "../src/load/duration.ts";

export const SCENARIOS = ["single", "packet", "ndjson", "async", "failover", "tls"] as const;
export const TARGETS = ["distributor", "haproxy", "nginx", "haproxy-2t", "nginx-2w", "distributor-memory"] as const;
export const GENERATORS = ["oha", "wrk", "hey", "load_tester"] as const;

export type Scenario = (typeof SCENARIOS)[number];
export type TargetName = (typeof TARGETS)[number];
export type GeneratorName = (typeof GENERATORS)[number];

export type BenchOptions = {
  scenarios: Scenario[];
  targets: TargetName[];
  durationMs: number;
  rounds: number;
  connections: number;
  /** Unrecorded load on each target before round 1, so every JIT and pool starts warm. */
  warmupMs: number;
  smoke: boolean;
  /** Forces a load generator; undefined picks the first on PATH (oha, wrk, hey, load_tester). */
  generator: GeneratorName | undefined;
  /** Where <timestamp>.json and latest.json go. */
  outDir: string;
};

export type ParsedArgs = { kind: "help" } | { kind: "run"; options: BenchOptions };

export const DEFAULT_DURATION = "5s";
export const DEFAULT_ROUNDS = 3;
export const DEFAULT_CONNECTIONS = 64;
export const DEFAULT_WARMUP = "1s";
export const DEFAULT_TARGETS: readonly TargetName[] = ["distributor", "haproxy", "nginx"];
export const DEFAULT_OUT_DIR = new URL("./results", import.meta.url).pathname;
// --smoke: just enough load to show every piece works; no figure from it means anything.
const SMOKE = { durationMs: 1_000, rounds: 1, connections: 8, warmupMs: 0 };

export const USAGE = `Usage: bun run bench [flags]

Starts 3 analyzers (weights 1,2,3, no simulated latency), the distributor and, when installed,
HAProxy and nginx in front of the same analyzers, drives each with the same load generator in
alternating rounds and prints the median of each over the rounds.

Flags:
  --scenarios <list>    any of ${SCENARIOS.join(",")} (default: all)
  --targets <list>      any of ${TARGETS.join(",")}
                        (default ${DEFAULT_TARGETS.join(",")}; -2t/-2w: 2 threads/workers;
                        distributor-memory: SPOOL=memory, async messages not stored)
  --duration <D>        length of one measurement, e.g. 5s, 500ms (default ${DEFAULT_DURATION})
  --rounds <N>          rounds over every scenario and target (default ${DEFAULT_ROUNDS})
  --connections <N>     concurrent connections of the load generator (default ${DEFAULT_CONNECTIONS})
  --warmup <D>          unrecorded load per target before round 1 (default ${DEFAULT_WARMUP}; 0 for none)
  --generator <name>    force one of ${GENERATORS.join(",")} (default: first found)
  --out <dir>           where results go (default bench/results)
  --smoke               a tiny run (1 round of 1s, 8 connections, no warm-up): checks the wiring
  -h, --help            show this help`;

/** A mistake on the command line: the message is one line, shown above the usage text. */
export class UsageError extends Error {
  override name = "UsageError";
}

const VALUE_FLAGS = new Set([
  "--scenarios",
  "--targets",
  "--duration",
  "--rounds",
  "--connections",
  "--warmup",
  "--generator",
  "--out",
]);
const SWITCHES = new Set(["--smoke", "-h", "--help"]);

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const values = new Map<string, string>();
  const switches = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const flag = arg.startsWith("--") && eq !== -1 ? arg.slice(0, eq) : arg;
    if (SWITCHES.has(flag)) {
      if (flag !== arg) throw new UsageError(`${flag} takes no value, got "${arg.slice(eq + 1)}"`);
      switches.add(flag === "-h" ? "--help" : flag);
      continue;
    }
    if (!VALUE_FLAGS.has(flag))
      throw new UsageError(arg.startsWith("-") ? `unknown flag "${flag}"` : `unexpected argument "${arg}"`);
    const value = flag !== arg ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    if (values.has(flag)) throw new UsageError(`${flag} given twice ("${values.get(flag)}" and "${value}")`);
    values.set(flag, value);
  }
  if (switches.has("--help")) return { kind: "help" };

  const smoke = switches.has("--smoke");
  const get = (flag: string) => values.get(flag);
  const generator = get("--generator");
  return {
    kind: "run",
    options: {
      scenarios: list("--scenarios", get("--scenarios"), SCENARIOS, SCENARIOS),
      targets: list("--targets", get("--targets"), TARGETS, DEFAULT_TARGETS),
      durationMs:
        get("--duration") === undefined && smoke
          ? SMOKE.durationMs
          : duration("--duration", get("--duration") ?? DEFAULT_DURATION),
      rounds:
        get("--rounds") === undefined && smoke
          ? SMOKE.rounds
          : positiveInteger("--rounds", get("--rounds") ?? String(DEFAULT_ROUNDS)),
      connections:
        get("--connections") === undefined && smoke
          ? SMOKE.connections
          : positiveInteger("--connections", get("--connections") ?? String(DEFAULT_CONNECTIONS)),
      warmupMs: get("--warmup") === undefined && smoke ? SMOKE.warmupMs : warmup(get("--warmup") ?? DEFAULT_WARMUP),
      smoke,
      generator: generator === undefined ? undefined : oneOf("--generator", generator, GENERATORS),
      outDir: get("--out") ?? DEFAULT_OUT_DIR,
    },
  };
}

function duration(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new UsageError(`${flag} must be a duration like 500ms, 5s or 1m, got "${text}"`);
  return ms;
}

function warmup(text: string): number {
  return text.trim() === "0" ? 0 : duration("--warmup", text);
}

function positiveInteger(flag: string, text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(`${flag} must be a positive integer, got "${text}"`);
  }
  return value;
}

function oneOf<T extends string>(flag: string, text: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(text))
    throw new UsageError(`${flag} must be one of ${allowed.join(", ")}, got "${text}"`);
  return text as T;
}

function list<T extends string>(
  flag: string,
  text: string | undefined,
  allowed: readonly T[],
  fallback: readonly T[],
): T[] {
  if (text === undefined) return [...fallback];
  const items = text
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (items.length === 0) throw new UsageError(`${flag} needs at least one of ${allowed.join(", ")}, got "${text}"`);
  // Keep the canonical order (and drop repeats) so tables read the same whatever the spelling.
  const chosen = new Set(items.map((item) => oneOf(flag, item, allowed)));
  return allowed.filter((a) => chosen.has(a));
}
