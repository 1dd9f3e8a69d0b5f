// The real log agents as child processes: syslog-ng and rsyslog run in the foreground from the
// folder scripts/agents.sh unpacked them into (never installed: they conflict in apt), with their
// module paths and LD_LIBRARY_PATH pointing there; Fluent Bit wherever FLUENT_BIT says, when there
// is one. Each reads the lines a test appends to a file in its own temp folder (syslog-ng's file()
// source, rsyslog's imfile, Fluent Bit's tail), one message per line, and ships them with the
// destination the test configures. stop() asks it to quit and removes the folder.

import { expect } from "bun:test";
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Rig } from "./faults.ts";
import { eventually } from "./http.ts";
import { type Child, outputOf, ROOT, spawnChild } from "./procs.ts";
import { fitsWeights } from "./shares.ts";

/** Where scripts/agents.sh unpacks the agents; AGENTS_DIR overrides it, for both. */
export const AGENTS_DIR = resolve(ROOT, process.env.AGENTS_DIR ?? ".cache/agents");
const FS_ROOT = join(AGENTS_DIR, "root");
const SYSLOG_NG = join(FS_ROOT, "usr/sbin/syslog-ng");
const RSYSLOGD = join(FS_ROOT, "usr/sbin/rsyslogd");
/** Debian's python3, and where scripts/agents.sh unpacked the Elasticsearch client for it. */
export const DEBIAN_PYTHON = "/usr/bin/python3";
export const PYTHON_PACKAGES = join(FS_ROOT, "usr/lib/python3/dist-packages");
/** A bound against hangs: a daemon starting on two busy cores. */
const START_MS = 30_000;
/** Both flush or give up on what they hold within a few seconds of SIGTERM. */
const STOP_GRACE_MS = 10_000;

/**
 * Why the agents cannot run here, naming the script that fetches them; undefined when they can.
 * Tests call requireAgents() instead of skipping: a missing agent is a failure, not a pass.
 */
export function agentsMissing(): string | undefined {
  const ready = join(AGENTS_DIR, "READY");
  const complete =
    existsSync(ready) && /^python3-elasticsearch /m.test(readFileSync(ready, "utf8")) && existsSync(SYSLOG_NG);
  if (complete && existsSync(RSYSLOGD)) return undefined;
  return `the real log agents (syslog-ng, rsyslog, the Python Elasticsearch client) are not in ${AGENTS_DIR}: run scripts/agents.sh first (it apt-get downloads them and unpacks them there; .ci/run does)`;
}

export function requireAgents(): void {
  const missing = agentsMissing();
  if (missing) throw new Error(missing);
}

/** The unpacked libraries: the multiarch folders (Debian packages still use /lib too) and syslog-ng's own. */
function libraryPath(): string {
  const dirs = [join(FS_ROOT, "usr/lib/syslog-ng")];
  for (const base of ["usr/lib", "lib"]) {
    const dir = join(FS_ROOT, base);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) if (/-linux-gnu/.test(name)) dirs.push(join(dir, name));
  }
  return [...dirs, process.env.LD_LIBRARY_PATH].filter(Boolean).join(":");
}

function multiarchDir(): string {
  const lib = join(FS_ROOT, "usr/lib");
  const triplet = readdirSync(lib).find((name) => existsSync(join(lib, name, "rsyslog")));
  if (!triplet) throw new Error(`no rsyslog modules under ${lib}: run scripts/agents.sh again`);
  return join(lib, triplet);
}

/** `agent` once `ready` resolves; stopped (its folder removed) when it rejects. */
async function started(agent: Agent, ready: Promise<unknown>): Promise<Agent> {
  try {
    await ready;
  } catch (error) {
    await agent.stop();
    throw error;
  }
  return agent;
}

/** One agent process and the input file it follows. */
export class Agent {
  constructor(
    readonly name: string,
    readonly child: Child,
    /** Its temp folder: config, input, state. */
    readonly dir: string,
    /** The file it follows; write() appends to it. */
    readonly input: string,
    /** Where it writes its own messages, when not to stderr. */
    readonly log?: string,
  ) {}

  /** Appends `lines` to its input, each ended by "\n" (it ships a line once it sees the end). */
  write(lines: readonly string[]): void {
    appendFileSync(this.input, lines.map((line) => `${line}\n`).join(""));
  }

  /** What it said: its output, and its log file if it has one. */
  output(): string {
    const log = this.log && existsSync(this.log) ? readFileSync(this.log, "utf8") : "";
    return this.child.output() + log;
  }

  /** SIGTERM (SIGKILL after a grace), then its folder goes. Safe to call twice. */
  async stop(): Promise<void> {
    await this.child.stop("SIGTERM", STOP_GRACE_MS);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function untilFileHas(file: string, pattern: RegExp, timeoutMs: number): Promise<void> {
  for (const end = Date.now() + timeoutMs; Date.now() < end; await Bun.sleep(50)) {
    if (existsSync(file) && pattern.test(readFileSync(file, "utf8"))) return;
  }
  throw new Error(`${file} did not show ${pattern} within ${timeoutMs} ms`);
}

function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A client app's input: `lines` as a JSON file of its own in `dir`; its path. */
export function linesFile(dir: string, lines: readonly string[]): string {
  const file = join(dir, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(lines));
  return file;
}

/** A Node.js app given as ES module source, in a child process with `args` after it. */
export function spawnNodeApp(name: string, source: string, args: readonly string[]): Child {
  return spawnChild(name, ["node", "--input-type=module", "-e", source, ...args]);
}

/** A quoted string for either config language (both take C-like escapes in double quotes). */
export function configString(value: string): string {
  return JSON.stringify(value);
}

export type SyslogNgOptions = {
  /** The destination driver, e.g. `http(url("…") method("POST"))` or `elasticsearch-http(…)`. */
  destination: string;
  /** Added to the global options { }, e.g. `log-msg-size(65536);`. */
  options?: string;
};

/**
 * syslog-ng 3.38 in the foreground, every line of its input file as one message: no-parse (the line
 * is $MSG as is) and empty-lines (an empty line is a message with an empty $MSG, not dropped).
 * The elasticsearch-http() SCL block is included, so `destination` may use it. Resolves once it
 * says it started.
 */
export async function startSyslogNg(options: SyslogNgOptions): Promise<Agent> {
  requireAgents();
  const dir = tempDir("syslog-ng-");
  const input = join(dir, "input.log");
  const config = join(dir, "syslog-ng.conf");
  writeFileSync(input, "");
  writeFileSync(
    config,
    `@version: 3.38
@define include-path ${configString(join(FS_ROOT, "usr/share/syslog-ng/include"))}
@include "scl/elasticsearch/elastic-http.conf"
options { stats-freq(0); log-msg-size(65536); ${options.options ?? ""} };
source s_input { file(${configString(input)} flags(no-parse, empty-lines) follow-freq(0.1) log-fetch-limit(1000)); };
destination d_out { ${options.destination}; };
log { source(s_input); destination(d_out); };
`,
  );
  const argv = [
    SYSLOG_NG,
    "-F",
    "-e",
    "--no-caps",
    `--module-path=${join(FS_ROOT, "usr/lib/syslog-ng/3.38")}`,
    `--cfgfile=${config}`,
    `--persist-file=${join(dir, "syslog-ng.persist")}`,
    `--pidfile=${join(dir, "syslog-ng.pid")}`,
    `--control=${join(dir, "syslog-ng.ctl")}`,
  ];
  const env = { LD_LIBRARY_PATH: libraryPath() };
  const check = outputOf(["env", `LD_LIBRARY_PATH=${env.LD_LIBRARY_PATH}`, ...argv, "--syntax-only"]);
  if (check.trim() !== "") {
    const text = readFileSync(config, "utf8");
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`syslog-ng refuses its config:\n${check}\n${text}`);
  }
  const child = spawnChild("syslog-ng", argv, { env });
  const agent = new Agent("syslog-ng", child, dir, input);
  return started(agent, child.waitFor(/syslog-ng starting up/, START_MS));
}

export type RsyslogOptions = {
  /** One action(), e.g. `action(type="omelasticsearch" server="127.0.0.1" …)`; given its temp folder, for files it writes. */
  action: string | ((dir: string) => string);
  /** Modules the action needs, e.g. ["omelasticsearch"]. */
  modules?: readonly string[];
  /** More top-level statements, e.g. the ruleset an action's retries go to; given its temp folder. */
  rulesets?: (dir: string) => string;
};

/**
 * rsyslog 8.2302 in the foreground, every line of its input file as one message (imfile: the line is
 * %msg%). maxMessageSize is raised to 64 KiB (the default 8 KiB would cut an 8 KB line). Resolves
 * once it runs: its own start message goes to its stderr.
 */
export async function startRsyslog(options: RsyslogOptions): Promise<Agent> {
  requireAgents();
  const dir = tempDir("rsyslog-");
  const input = join(dir, "input.log");
  const config = join(dir, "rsyslog.conf");
  const log = join(dir, "rsyslog.log");
  writeFileSync(input, "");
  writeFileSync(
    config,
    `global(workDirectory=${configString(dir)} maxMessageSize="64k" processInternalMessages="on")
module(load="imfile")
${(options.modules ?? []).map((name) => `module(load=${configString(name)})`).join("\n")}
input(type="imfile" file=${configString(input)} tag="test" ruleset="ship")
ruleset(name="ship") { ${typeof options.action === "string" ? options.action : options.action(dir)} }
${options.rulesets?.(dir) ?? ""}
# rsyslog's own messages (its start, errors): omfile cannot open a pipe or socket as /dev/stderr
syslog.* action(type="omfile" file=${configString(log)})
`,
  );
  const modules = join(multiarchDir(), "rsyslog");
  const argv = [RSYSLOGD, "-n", "-M", modules, "-f", config, "-i", join(dir, "rsyslogd.pid")];
  const env = { LD_LIBRARY_PATH: libraryPath() };
  const check = outputOf(["env", `LD_LIBRARY_PATH=${env.LD_LIBRARY_PATH}`, ...argv, "-N1"]);
  if (!/End of config validation run/.test(check) || /error/i.test(check)) {
    const text = readFileSync(config, "utf8");
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`rsyslog refuses its config:\n${check}\n${text}`);
  }
  const child = spawnChild("rsyslog", argv, { env });
  const agent = new Agent("rsyslog", child, dir, input, log);
  return started(agent, child.whileRunning(untilFileHas(log, /\] start$/m, START_MS)));
}

/**
 * A fluent-bit binary: FLUENT_BIT, else one on the PATH; undefined when there is none. Not on npm
 * nor in Debian's packages, so CI has none and its test is skipped there (docs/agents.md#fluent-bit
 * says how it was run).
 */
export const FLUENT_BIT = process.env.FLUENT_BIT || Bun.which("fluent-bit") || undefined;

export type FluentBitOptions = {
  /** The [OUTPUT] section's settings after Name and Match, one `Key value` per line. */
  output: string;
  /** The output plugin: http, es, loki, opentelemetry, … */
  plugin: string;
  /** More [SERVICE] settings, e.g. `scheduler.base 1`. */
  service?: string;
};

/**
 * Fluent Bit in the foreground, every line of its input file one record, {"log": line} (tail, read
 * from the start of the file, a flush every 0.2 s). Resolves once its pipeline runs.
 */
export async function startFluentBit(options: FluentBitOptions): Promise<Agent> {
  if (!FLUENT_BIT) throw new Error("no fluent-bit: set FLUENT_BIT to its binary");
  const dir = tempDir("fluent-bit-");
  const input = join(dir, "input.log");
  const config = join(dir, "fluent-bit.conf");
  writeFileSync(input, "");
  writeFileSync(
    config,
    `[SERVICE]
    Flush 0.2
    Grace 2
    Log_Level info
${indent(options.service ?? "")}
[INPUT]
    Name tail
    Path ${input}
    Read_from_Head On
    Refresh_Interval 1
    Buffer_Max_Size 64k

[OUTPUT]
    Name ${options.plugin}
    Match *
${indent(options.output)}
`,
  );
  const child = spawnChild("fluent-bit", [FLUENT_BIT, "-c", config]);
  const agent = new Agent("fluent-bit", child, dir, input);
  return started(agent, child.waitFor(/\[sp\] stream processor started/, START_MS));
}

const indent = (lines: string) =>
  lines
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => `    ${line}`)
    .join("\n");

/** An 8 KB line's filler: past rsyslog's default 8 KiB message limit, and a batch of them past 64 KiB. */
const BIG_LINE = 8 * 1024;

/**
 * `n` unique lines, each starting with `prefix` and its number: quotes, backslashes, UTF-8 of 2, 3
 * and 4 bytes, and (the 8th) an 8 KB line. No control characters: agents escape those each their
 * own way (rsyslog writes a tab as #011). The empty line is the test's to add: each agent treats it
 * differently.
 */
export function agentLines(prefix: string, n: number): string[] {
  const kinds = [
    (i: number) => `${prefix} ${i} said "hello" and 'bye'`,
    (i: number) => `${prefix} ${i} path C:\\logs\\app.log and \\" escaped`,
    (i: number) => `${prefix} ${i} ünïcödé ✓ 日本語 🚀`,
    (i: number) => `${prefix} ${i} GET /api?x=1&y=%20 200 {"json": [1, 2]}`,
  ];
  return Array.from({ length: n }, (_, i) =>
    i === 7 ? `${prefix} ${i} ${"8 KB line ".repeat(BIG_LINE / 10)}` : kinds[i % kinds.length](i),
  );
}

/** 50 ms polls: 60 s at most for an agent to ship what it was given. */
const AGENT_POLLS = 1200;

/**
 * Waits until `rig`'s analyzers hold `n` messages starting with `prefix` (and a space), then stops
 * the agent and lets the distributor settle: what arrives after that would be a duplicate.
 */
export async function shipped(rig: Rig, agent: Agent, prefix: string, n: number): Promise<void> {
  await agent.child.whileRunning(
    eventually(() => rig.messagesWith(prefix).flat().length >= n, `${n} "${prefix}" messages analyzed`, AGENT_POLLS),
  );
  await agent.stop();
  await rig.settled();
}

/**
 * The check every agent's steady test ends with: the analyzers (`perAnalyzer`, each one's messages)
 * hold exactly `sent`, each once, split by `weights` (chi-square); prints the report line.
 */
export function expectEachOnceByWeight(
  agent: string,
  perAnalyzer: readonly string[][],
  sent: readonly string[],
  weights: readonly number[],
): void {
  const delivered = perAnalyzer.flat();
  expect(delivered.length).toBe(sent.length); // no duplicates
  expect(delivered.toSorted()).toEqual(sent.toSorted()); // nothing lost, nothing changed
  const counts = perAnalyzer.map((m) => m.length);
  const fit = fitsWeights(counts, weights);
  // The figures the issue's closing note asks for, per agent.
  console.log(shareLine(agent, sent.length, delivered, counts, fit.pValue));
  expect(fit.ok, `counts ${counts} for weights ${weights}: p = ${fit.pValue}`).toBe(true);
}

/** One line for a report: lines sent, delivered, duplicated, the split and its chi-square p. */
export function shareLine(
  agent: string,
  sent: number,
  delivered: readonly string[],
  counts: readonly number[],
  p: number,
) {
  const duplicated = delivered.length - new Set(delivered).size;
  return `${agent}: ${sent} sent, ${delivered.length} delivered, ${duplicated} duplicated, split ${counts.join(":")}, chi-square p = ${p.toFixed(3)}`;
}
