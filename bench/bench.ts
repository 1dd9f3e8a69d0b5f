// `bun run bench`: the distributor against HAProxy and nginx in front of the same analyzers, driven by
// the same load generator in alternating rounds. This file only wires the pieces in bench/; see
// USAGE in bench/args.ts (or --help) for the flags and docs/benchmarks.md for the method.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { installCleanup, stopAll } from "../testkit/procs.ts";
import { type BenchOptions, parseArgs, USAGE, UsageError } from "./args.ts";
import { GeneratorMissingError } from "./generator.ts";
import { startLab } from "./lab.ts";
import { describeMachine, formatMachine } from "./machine.ts";
import { FAILOVER } from "./measure.ts";
import { type BenchReport, writeReport } from "./report.ts";
import { runBench } from "./run.ts";
import { summarize } from "./summary.ts";
import { renderTable } from "./table.ts";

const log = (line: string) => console.log(line);
// Everything the bench starts is idle or disposable when it stops: no drain worth waiting long for.
const STOP_GRACE_MS = 3_000;

async function main(argv: readonly string[]): Promise<number> {
  let options: BenchOptions;
  try {
    const parsed = parseArgs(argv);
    if (parsed.kind === "help") {
      log(USAGE);
      return 0;
    }
    options = parsed.options;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`bench: ${error.message}\n\n${USAGE}`);
    return 2;
  }

  installCleanup((line) => log(`bench: ${line}`), STOP_GRACE_MS);
  const startedAt = new Date().toISOString();
  const dir = mkdtempSync(join(tmpdir(), "bench-"));
  // also on Ctrl-C, which exits from the signal handler without reaching the finally below
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  try {
    const machine = describeMachine();
    log(`machine:   ${formatMachine(machine)}`);
    const { lab, skipped } = await startLab(options, dir);
    const generator = { name: lab.generator.name, version: lab.generator.version() };
    log(`generator: ${generator.name} ${generator.version}, ${options.connections} connections, closed loop`);
    for (const target of lab.targets.values()) log(`target:    ${target.name}: ${target.version}; ${target.settings}`);
    for (const s of skipped) log(`skipped:   ${s.target}: ${s.reason} (install: ${s.install})`);
    const targets = options.targets.filter((t) => lab.targets.has(t));
    log(
      `plan:      ${options.rounds} round(s) × ${options.scenarios.join(",")} × ${targets.join(",")}, ${options.durationMs / 1000} s each${options.smoke ? " (smoke run: figures mean nothing)" : ""}`,
    );

    const measurements = await runBench(lab, options, log);
    const rows = summarize(measurements, options.scenarios, targets);
    const notes = [
      `median of ${options.rounds} round(s) of ${options.durationMs / 1000} s, ${options.connections} connections; errors and lost: totals over all rounds`,
      "errors: non-2xx answers + requests that got no answer; lost: acknowledged minus analyzed (≤: an upper bound, see bench/accounting.ts)",
      `failover: analyzer a${FAILOVER.victim + 1} gets kill -9 at ${FAILOVER.killAtFraction * 100}% of the run and restarts ${FAILOVER.downMs / 1000} s later`,
    ];
    log("");
    log(renderTable(rows).trimEnd());
    for (const note of notes) log(note);

    const report: BenchReport = {
      startedAt,
      finishedAt: new Date().toISOString(),
      command: ["bun", "run", "bench", ...argv].join(" "),
      machine,
      generator,
      settings: {
        scenarios: options.scenarios,
        targets: options.targets,
        durationMs: options.durationMs,
        rounds: options.rounds,
        connections: options.connections,
        warmupMs: options.warmupMs,
        smoke: options.smoke,
      },
      targets: [...lab.targets.values()].map((t) => ({ name: t.name, version: t.version, settings: t.settings })),
      skipped,
      notes,
      rows,
      measurements,
    };
    const file = await writeReport(options.outDir, report);
    const shown = relative(process.cwd(), file);
    log(`results:   ${shown.startsWith("..") ? file : shown} (and latest.json beside it)`);
    return 0;
  } catch (error) {
    if (!(error instanceof GeneratorMissingError)) throw error;
    console.error(`bench: ${error.message}`);
    return 1;
  } finally {
    await stopAll(STOP_GRACE_MS);
  }
}

if (import.meta.main) process.exit(await main(Bun.argv.slice(2)));
