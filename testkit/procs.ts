// Real child processes for end-to-end tests: start an entrypoint on port 0, learn its URL from the
// "listening on" line, and make sure nothing outlives the test run, even when a test fails.

import type { Subprocess } from "bun";

export type Service = {
  url: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number>;
};

const ROOT = new URL("..", import.meta.url).pathname;
const running = new Set<Subprocess>();
process.on("exit", () => {
  for (const p of running) p.kill("SIGKILL");
});

export async function spawnService(entry: string, env: Record<string, string> = {}): Promise<Service> {
  const proc = Bun.spawn(["bun", entry], {
    cwd: ROOT,
    env: { ...process.env, HOST: "127.0.0.1", PORT: "0", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  running.add(proc);
  void proc.exited.then(() => running.delete(proc));
  let text = "";
  let onText = () => {};
  const pump = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      onText();
    }
  };
  void pump(proc.stdout);
  void pump(proc.stderr);
  const url = await new Promise<string>((resolve, reject) => {
    onText = () => {
      const m = /listening on (http:\/\/\S+)/.exec(text);
      if (m) resolve(m[1]);
    };
    void proc.exited.then((code) => reject(new Error(`${entry} exited with ${code} before listening:\n${text}`)));
  });
  return {
    url,
    proc,
    output: () => text,
    async stop(signal = "SIGTERM") {
      proc.kill(signal);
      return proc.exited;
    },
  };
}

export async function stopAll(): Promise<void> {
  const procs = [...running];
  for (const p of procs) p.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
}

export function startAnalyzer(id: string, env: Record<string, string> = {}): Promise<Service> {
  return spawnService("analyzer.ts", { ANALYZER_ID: id, ...env });
}

export type Cluster = { analyzers: Service[]; distributor: Service };

/** Analyzers a1..aN with the given weights, and a distributor in front of them. */
export async function startCluster(weights: number[], env: Record<string, string> = {}): Promise<Cluster> {
  const analyzers = await Promise.all(weights.map((_, i) => startAnalyzer(`a${i + 1}`)));
  const distributor = await spawnService("distributor.ts", {
    ANALYZERS: analyzers.map((a) => a.url).join(","),
    DISTRIBUTION_WEIGHTS: weights.join(","),
    HEALTH_INTERVAL_MS: "100",
    ...env,
  });
  return { analyzers, distributor };
}

export async function getJson<T = any>(url: string, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(url, { headers });
  return (await res.json()) as T;
}

export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

/** Polls `check` until it returns true; fails after `attempts` polls (a bound, not a speed claim). */
export async function eventually(check: () => boolean | Promise<boolean>, what: string, attempts = 200, everyMs = 50): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await Bun.sleep(everyMs);
  }
  throw new Error(`never happened: ${what}`);
}
