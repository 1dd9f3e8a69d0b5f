// Every process the bench starts, and the guarantee that none outlives it: each child runs in its own
// process group (nginx's workers go with their master), and the whole group gets SIGKILL on exit,
// on Ctrl-C, on SIGTERM and on an uncaught error.

import type { Subprocess } from "bun";

export type Child = {
  name: string;
  pid: number;
  exited: Promise<number>;
  /** What it printed so far, stdout and stderr interleaved (the last OUTPUT_KEEP characters). */
  output(): string;
  /** Just stdout, whole: generators print their report there. */
  stdout(): string;
};

export type SpawnOptions = { env?: Record<string, string | undefined>; cwd?: string };

const OUTPUT_KEEP = 64 * 1024;
const STOP_GRACE_MS = 3_000;
const running = new Map<number, Subprocess>();

export function spawnChild(name: string, argv: string[], options: SpawnOptions = {}): Child {
  const proc = Bun.spawn(argv, {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    detached: true,
  });
  running.set(proc.pid, proc);
  let both = "";
  let out = "";
  const pump = async (stream: ReadableStream<Uint8Array>, isStdout: boolean) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      if (isStdout) out += text;
      both = (both + text).slice(-OUTPUT_KEEP);
    }
  };
  const pumped = Promise.all([pump(proc.stdout, true), pump(proc.stderr, false)]);
  const exited = proc.exited.then(async (code) => {
    running.delete(proc.pid);
    await pumped;
    return code;
  });
  return { name, pid: proc.pid, exited, output: () => both, stdout: () => out };
}

/** Resolves with the first match of `pattern` in the child's output; rejects if it exits first. */
export async function waitForOutput(child: Child, pattern: RegExp, timeoutMs = 15_000): Promise<RegExpExecArray> {
  const deadline = performance.now() + timeoutMs;
  let exited = false;
  void child.exited.then(() => (exited = true));
  while (performance.now() < deadline) {
    const match = pattern.exec(child.output());
    if (match) return match;
    if (exited) throw new Error(`${child.name} exited before printing ${pattern}:\n${child.output().trim()}`);
    await Bun.sleep(20);
  }
  throw new Error(`${child.name} did not print ${pattern} within ${timeoutMs} ms:\n${child.output().trim()}`);
}

/** SIGKILL to the child's whole process group, now. */
export function killChild(child: Child): void {
  killGroup(child.pid, "SIGKILL");
}

/** SIGTERM to the group, then SIGKILL if it has not exited after a grace period. */
export async function stopChild(child: Child, graceMs = STOP_GRACE_MS): Promise<void> {
  if (!running.has(child.pid)) return;
  killGroup(child.pid, "SIGTERM");
  const timer = setTimeout(() => killGroup(child.pid, "SIGKILL"), graceMs);
  await child.exited;
  clearTimeout(timer);
  // The leader is gone; anything left in its group (an nginx worker) goes too.
  killGroup(child.pid, "SIGKILL");
}

export async function stopAll(): Promise<void> {
  const pids = [...running.keys()];
  for (const pid of pids) killGroup(pid, "SIGTERM");
  await Promise.race([Promise.all([...running.values()].map((p) => p.exited)), Bun.sleep(STOP_GRACE_MS)]);
  killAllNow(pids);
}

function killAllNow(pids: number[] = [...running.keys()]): void {
  for (const pid of pids) killGroup(pid, "SIGKILL");
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** stdout and stderr of a short command run to completion; "" if it cannot be run at all. */
export function outputOf(argv: string[]): string {
  try {
    const proc = Bun.spawnSync(argv, { stdin: "ignore" });
    return proc.stdout.toString() + proc.stderr.toString();
  } catch {
    return "";
  }
}

/** Installs the handlers that kill every child however the bench ends. Call once, from the entry. */
export function installCleanup(log: (line: string) => void): void {
  process.on("exit", () => killAllNow());
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals, code: number) => {
    if (interrupted) return killAllNow();
    interrupted = true;
    log(`bench: ${signal}: stopping ${running.size} child processes`);
    void stopAll().finally(() => process.exit(code));
  };
  process.on("SIGINT", () => onSignal("SIGINT", 130));
  process.on("SIGTERM", () => onSignal("SIGTERM", 143));
}
