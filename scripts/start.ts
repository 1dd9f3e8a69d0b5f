// `bun run start`: three analyzers and a distributor on localhost, no Docker needed.
// Prints each process's URL and PID (kill one to watch its share move), stops all on Ctrl-C.
// Control endpoints are on for this machine only (ADMIN_LOOPBACK=true), so that the README's
// experiments (POST /fault, PUT /admin/analyzers/<id>) work with plain curl.

import { type Child, type Env, spawnChild } from "../testkit/procs.ts";

const ANALYZER_COUNT = Number(process.env.ANALYZER_COUNT ?? 3);
const FIRST_ANALYZER_PORT = Number(process.env.ANALYZER_BASE_PORT ?? 5001);
const DISTRIBUTOR_PORT = process.env.PORT ?? "6000";
const WEIGHTS = process.env.DISTRIBUTION_WEIGHTS ?? Array(ANALYZER_COUNT).fill(1).join(",");
const ADMIN_LOOPBACK = process.env.ADMIN_LOOPBACK ?? "true";

const children: Child[] = [];
function start(name: string, entry: string, env: Env): Child {
  // Their output goes straight to this terminal; they share its Ctrl-C.
  const child = spawnChild(name, [process.execPath, entry], { env, stdio: "inherit" });
  children.push(child);
  console.log(`started ${name}: pid ${child.pid}`);
  return child;
}

const urls: string[] = [];
for (let i = 0; i < ANALYZER_COUNT; i++) {
  const port = FIRST_ANALYZER_PORT + i;
  urls.push(`http://127.0.0.1:${port}`);
  start(`analyzer a${i + 1} on http://127.0.0.1:${port}`, "analyzer.ts", {
    PORT: String(port),
    HOST: "127.0.0.1",
    ANALYZER_ID: `a${i + 1}`,
    ADMIN_LOOPBACK,
  });
}
// Analyzers that are not up yet are simply down at first; the health checks bring them in.
await Bun.sleep(300);
const distributor = start(`distributor on http://127.0.0.1:${DISTRIBUTOR_PORT}`, "distributor.ts", {
  PORT: DISTRIBUTOR_PORT,
  HOST: process.env.HOST ?? "127.0.0.1",
  ANALYZERS: urls.join(","),
  DISTRIBUTION_WEIGHTS: WEIGHTS,
  ADMIN_LOOPBACK,
});
console.log(`weights ${WEIGHTS}. Try: bun load_tester.ts   |   kill <analyzer pid>   |   Ctrl-C stops everything`);

let stopping = false;
async function stopAll(code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  // SIGTERM, distributor first; SIGKILL for any that outstays its drain.
  await Promise.all(children.toReversed().map((child) => child.stop()));
  process.exit(code);
}
// Analyzers may be killed on purpose; a distributor that dies (bad config, port taken) ends the run.
void distributor.exited.then((code) => {
  if (stopping) return;
  console.error(`distributor exited with ${code}; stopping the analyzers`);
  void stopAll(1);
});
process.on("SIGINT", () => void stopAll());
process.on("SIGTERM", () => void stopAll());
