// Every child process the tests, the bench and the scripts start: this repo's entrypoints and outside
// programs (haproxy, nginx, wrk). A child's output is kept for waitFor() and output(); stop() asks
// (SIGTERM), then insists (SIGKILL); and nothing outlives the process that started it: whatever is
// still running gets SIGKILL on exit (installCleanup() adds Ctrl-C and SIGTERM).

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";

export type Env = Record<string, string | undefined>;

export type SpawnOptions = {
  /** Added to this process's environment. */
  env?: Env;
  /** Default: the repository root. */
  cwd?: string;
  /**
   * Its own process group: a signal reaches everything it started (nginx's workers), and a Ctrl-C
   * in the terminal reaches only us, who then stop it. Default: our group.
   */
  group?: boolean;
  /** "pipe" (default) keeps the output for output() and waitFor(); "inherit" shows it in our terminal instead. */
  stdio?: "pipe" | "inherit";
};

export const ROOT = new URL("..", import.meta.url).pathname;
/** How much of the interleaved output output() keeps; stdout() and stderr() keep all. */
const OUTPUT_KEEP = 1024 * 1024;
/** Longer than the distributor's default drain (SHUTDOWN_TIMEOUT_MS, 10 s) after SIGTERM. */
export const STOP_GRACE_MS = 15_000;
/** A bound against hangs, not a speed claim: twenty processes may start at once on two busy cores. */
const WAIT_MS = 30_000;
/** A port freed by kill -9 can take a moment to be free again. */
const RESTART_ATTEMPTS = 5;
const LISTENING = /listening on (https?:\/\/\S+)/;

const running = new Set<Child>();
process.on("exit", () => {
  for (const child of running) child.signal("SIGKILL");
});

export class Child {
  /** Resolves with the exit code once it has exited and all its output has been read. */
  readonly exited: Promise<number>;
  readonly #proc: Subprocess;
  readonly #group: boolean;
  readonly #piped: boolean;
  #both = "";
  #stdout = "";
  #stderr = "";
  #exitCode: number | null = null;
  readonly #onChange = new Set<() => void>();

  constructor(
    readonly name: string,
    readonly argv: readonly string[],
    readonly options: SpawnOptions = {},
  ) {
    this.#group = options.group ?? false;
    this.#piped = (options.stdio ?? "pipe") === "pipe";
    const stdio = this.#piped ? "pipe" : "inherit";
    this.#proc = Bun.spawn([...argv], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdin: "ignore",
      stdout: stdio,
      stderr: stdio,
      detached: this.#group,
    });
    running.add(this);
    const pumped = this.#piped
      ? Promise.all([
          this.#pump(this.#proc.stdout as ReadableStream<Uint8Array>, true),
          this.#pump(this.#proc.stderr as ReadableStream<Uint8Array>, false),
        ])
      : Promise.resolve();
    this.exited = this.#proc.exited.then(async (code) => {
      running.delete(this);
      await pumped;
      this.#exitCode = code;
      this.#changed();
      return code;
    });
  }

  get pid(): number {
    return this.#proc.pid;
  }

  /** null while it runs. */
  get exitCode(): number | null {
    return this.#exitCode;
  }

  /** What it printed so far, stdout and stderr interleaved (the last OUTPUT_KEEP characters). */
  output(): string {
    return this.#both;
  }

  /** Just stdout, whole: load generators print their report there. */
  stdout(): string {
    return this.#stdout;
  }

  /** Just stderr, whole. */
  stderr(): string {
    return this.#stderr;
  }

  /** The first match of `pattern` in its output; rejects with the output if it exits first. */
  waitFor(pattern: RegExp, timeoutMs = WAIT_MS): Promise<RegExpExecArray> {
    if (!this.#piped) throw new TypeError(`${this.name}: waitFor needs stdio "pipe", got "inherit"`);
    return new Promise((resolve, reject) => {
      const settle = (done: () => void) => {
        clearTimeout(timer);
        this.#onChange.delete(check);
        done();
      };
      const check = () => {
        const match = pattern.exec(this.#both);
        if (match) settle(() => resolve(match));
        else if (this.#exitCode !== null)
          settle(() =>
            reject(
              new Error(`${this.name} exited with ${this.#exitCode} before printing ${pattern}:\n${this.#both.trim()}`),
            ),
          );
      };
      const timer = setTimeout(
        () =>
          settle(() =>
            reject(new Error(`${this.name} did not print ${pattern} within ${timeoutMs} ms:\n${this.#both.trim()}`)),
          ),
        timeoutMs,
      );
      this.#onChange.add(check);
      check();
    });
  }

  /** `promise`, unless it exits first: then a rejection with its output, which says why. */
  whileRunning<T>(promise: Promise<T>): Promise<T> {
    const died = this.exited.then((code): never => {
      throw new Error(`${this.name} exited with ${code}:\n${this.#both.trim()}`);
    });
    return Promise.race([promise, died]);
  }

  /** Sends `signal` (to its whole group if it has one); a child already gone is not an error. */
  signal(signal: NodeJS.Signals): void {
    try {
      if (this.#group) process.kill(-this.#proc.pid, signal);
      else this.#proc.kill(signal);
    } catch {
      // already gone
    }
  }

  /** kill -9, now: no goodbye, in-flight requests break. */
  kill(): void {
    this.signal("SIGKILL");
  }

  /** Sends `signal` and waits for the exit code; SIGKILL if it is still running after `graceMs`. */
  async stop(signal: NodeJS.Signals = "SIGTERM", graceMs = STOP_GRACE_MS): Promise<number> {
    if (this.#exitCode === null) this.signal(signal);
    const timer = setTimeout(() => this.kill(), graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    // The leader is gone; anything left in its group (an nginx worker) goes too.
    if (this.#group) this.kill();
    return code;
  }

  #changed(): void {
    for (const check of [...this.#onChange]) check();
  }

  async #pump(stream: ReadableStream<Uint8Array>, isStdout: boolean): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      if (isStdout) this.#stdout += text;
      else this.#stderr += text;
      this.#both = (this.#both + text).slice(-OUTPUT_KEEP);
      this.#changed();
    }
  }
}

/** Starts `argv` (a program on PATH or a path) as a child process. */
export function spawnChild(name: string, argv: readonly string[], options: SpawnOptions = {}): Child {
  return new Child(name, argv, options);
}

/** One of this repo's entrypoints, serving: its URL is the one it printed in its "listening on" line. */
export class Service extends Child {
  #url: string | undefined;

  constructor(
    readonly entry: string,
    readonly env: Env,
    options: SpawnOptions & { name?: string } = {},
  ) {
    super(options.name ?? entry, [process.execPath, entry], {
      ...options,
      env: { HOST: "127.0.0.1", PORT: "0", ...env },
    });
  }

  get url(): string {
    if (this.#url === undefined) throw new Error(`${this.name} has not said where it listens yet`);
    return this.#url;
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  /** Resolves once it prints its "listening on" line. */
  async listening(timeoutMs?: number): Promise<this> {
    this.#url = (await this.waitFor(LISTENING, timeoutMs))[1];
    return this;
  }

  /**
   * The same entrypoint and environment (plus `env`) started again on the same port, once this one
   * has exited (stopped with SIGTERM if it still runs). Resolves when the new one listens.
   */
  async restart(env: Env = {}): Promise<Service> {
    if (this.exitCode === null) await this.stop();
    await this.exited;
    for (let attempt = 1; ; attempt++) {
      try {
        return await spawnService(
          this.entry,
          { ...this.env, PORT: String(this.port), ...env },
          { ...this.options, name: this.name },
        );
      } catch (error) {
        if (attempt === RESTART_ATTEMPTS) throw error;
        await Bun.sleep(100);
      }
    }
  }
}

/**
 * A distributor started here gets a spool folder of its own (they would share the default
 * data/spool, and a second one refuses to start), unless `env` names one or opts out. restart()
 * passes the same environment, so the restarted one finds what the first one stored.
 */
function spoolOf(entry: string, env: Env): Env {
  if (entry !== "distributor.ts" || "SPOOL_DIR" in env || env.SPOOL === "memory") return {};
  return { SPOOL_DIR: mkdtempSync(join(tmpdir(), "spool-")) };
}

/** Starts one of this repo's entrypoints (on 127.0.0.1, port 0 unless `env` says otherwise) and waits until it listens. */
export function spawnService(
  entry: string,
  env: Env = {},
  options: SpawnOptions & { name?: string } = {},
): Promise<Service> {
  return new Service(entry, { ...spoolOf(entry, env), ...env }, options).listening();
}

/**
 * Stops every child this process started and waits for them. At once with SIGKILL by default
 * (tests: nothing worth draining); with `graceMs`, SIGTERM first and SIGKILL for whatever is still
 * running after it.
 */
export async function stopAll(graceMs = 0): Promise<void> {
  const children = [...running];
  await Promise.all(children.map((child) => (graceMs > 0 ? child.stop("SIGTERM", graceMs) : child.stop("SIGKILL"))));
}

/** Stops every child however this process ends: exit (always), Ctrl-C, SIGTERM. Call once, from an entrypoint. */
export function installCleanup(log: (line: string) => void, graceMs = STOP_GRACE_MS): void {
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals, code: number) => {
    if (interrupted) return void stopAll();
    interrupted = true;
    log(`${signal}: stopping ${running.size} child processes`);
    void stopAll(graceMs).finally(() => process.exit(code));
  };
  process.on("SIGINT", () => onSignal("SIGINT", 130));
  process.on("SIGTERM", () => onSignal("SIGTERM", 143));
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
