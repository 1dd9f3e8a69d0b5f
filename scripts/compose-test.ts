// `bun run test:compose`: the compose topology for real. Brings up 3 analyzers (weights 1,2,3) and
// the distributor with docker-compose, sends packets of logs through the distributor's published
// port and checks, from /stats `delivered`, each analyzer's share of messages (within 5σ of its
// weight); then `docker stop`s one analyzer under traffic (no client errors, survivors share by
// weight), `docker start`s it (it gets traffic again) and scales to 4 (the new one gets traffic);
// then `docker kill`s the distributor under async load and `docker start`s it on its spool volume:
// every message answered 202 must be in an analyzer's audit file (compose.test.yaml's AUDIT_FILE).
// Tears everything down at the end, also on failure or Ctrl-C.
//
// Needs a Docker-compatible engine and docker-compose (here: bash /work/shared/tools/container-engine.sh).
// Env: COMPOSE_FILES (default "compose.yaml,compose.test.yaml"; "compose.yaml" alone builds the
// real image), COMPOSE_BUILD=0 (use the images as they are: `up --no-build`), COMPOSE (default
// docker-compose, else "docker compose"), DISTRIBUTOR_HOST_PORT (default 6000; a free port if taken).

import { existsSync } from "node:fs";
import { createServer } from "node:net";
import type { AnalyzerStatsEntry, DistributorStats } from "../src/protocol/stats.ts";
import { CheckFailed, check, checkDelivered, waitFor } from "../testkit/checks.ts";
import { SIGMAS, sigmasFrom } from "../testkit/shares.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const PROJECT = "wld-compose-test";
const WEIGHTS = [1, 2, 3];
const PACKETS = 50;
const PACKET_SIZE = 100; // 5000 messages per measurement
const CONCURRENCY = 4;
const FILES = (process.env.COMPOSE_FILES ?? "compose.yaml,compose.test.yaml")
  .split(",")
  .flatMap((f) => ["-f", f.trim()]);
const BUILD = process.env.COMPOSE_BUILD === "0" ? "--no-build" : "--build";
const PODMAN_SOCKET = "/run/podman/podman.sock";

type Container = { id: string; name: string; ip: string; running: boolean };

// ---- the engine ----

const env: Record<string, string | undefined> = { ...process.env, DISTRIBUTION_WEIGHTS: WEIGHTS.join(",") };
if (!env.DOCKER_HOST && existsSync(PODMAN_SOCKET)) env.DOCKER_HOST = `unix://${PODMAN_SOCKET}`;
const composeCommand =
  process.env.COMPOSE?.split(" ") ?? (Bun.which("docker-compose") ? ["docker-compose"] : ["docker", "compose"]);

async function run(argv: string[], options: { echo?: boolean } = {}): Promise<string> {
  if (options.echo) console.log(`$ ${argv.join(" ")}`);
  const proc = Bun.spawn(argv, { cwd: ROOT, env, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0) throw new Error(`${argv.join(" ")} exited with ${code}:\n${err.trim() || out.trim()}`);
  return out;
}

const compose = (args: string[], options?: { echo?: boolean }) =>
  run([...composeCommand, "-p", PROJECT, ...FILES, ...args], options);

async function analyzerContainers(): Promise<Container[]> {
  const ids = (
    await run([
      "docker",
      "ps",
      "-aq",
      "--filter",
      `label=com.docker.compose.project=${PROJECT}`,
      "--filter",
      "label=com.docker.compose.service=analyzer",
    ])
  )
    .split("\n")
    .filter(Boolean);
  if (ids.length === 0) return [];
  const inspected = JSON.parse(await run(["docker", "inspect", ...ids])) as {
    Id: string;
    Name: string;
    State: { Running: boolean };
    NetworkSettings: { Networks: Record<string, { IPAddress: string }> };
  }[];
  return inspected.map((c) => ({
    id: c.Id.slice(0, 12),
    name: c.Name.replace(/^\//, ""),
    ip: Object.values(c.NetworkSettings.Networks ?? {})[0]?.IPAddress ?? "",
    running: c.State.Running,
  }));
}

async function freePort(preferred: number): Promise<number> {
  const tryListen = (port: number) =>
    new Promise<number | null>((resolve) => {
      const server = createServer();
      server.once("error", () => resolve(null));
      server.listen(port, "0.0.0.0", () => {
        const got = (server.address() as { port: number }).port;
        server.close(() => resolve(got));
      });
    });
  return (await tryListen(preferred)) ?? (await tryListen(0))!;
}

// ---- the distributor ----

let base = "";
const stats = async (): Promise<DistributorStats> => (await fetch(`${base}/stats`)).json() as Promise<DistributorStats>;
const ipOf = (url: string) => new URL(url).hostname;

type Traffic = { messages: number; requests: number; errors: string[] };

const line = (i: number) =>
  `2026-11-24T12:00:${String(i % 60).padStart(2, "0")}Z ${["INFO", "WARN", "ERROR"][i % 3]} request ${i} from 10.1.${i % 256}.7`;

/** Sends packets from CONCURRENCY loops until `packets` are sent or `until()` says stop. */
async function sendPackets(packets: number, until?: () => boolean): Promise<Traffic> {
  const t: Traffic = { messages: 0, requests: 0, errors: [] };
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (until ? !until() : next < packets) {
        const p = next++;
        const logs = Array.from({ length: PACKET_SIZE }, (_, i) => line(p * PACKET_SIZE + i));
        t.requests++;
        try {
          const res = await fetch(`${base}/analyze`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ logs }),
          });
          const text = await res.text();
          if (res.status === 200) t.messages += logs.length;
          else t.errors.push(`${res.status} ${text.slice(0, 200)}`);
        } catch (error) {
          t.errors.push(String(error));
        }
      }
    }),
  );
  return t;
}

/** Sends PACKETS packets and checks each healthy analyzer's share of them against its weight. */
async function measure(label: string): Promise<Map<string, number>> {
  const before = await stats();
  const traffic = await sendPackets(PACKETS);
  const after = await stats();
  const was = new Map(before.analyzers.map((a) => [a.url, a.delivered]));
  const rows = after.analyzers.map((a) => ({ ...a, got: a.delivered - (was.get(a.url) ?? 0) }));
  const total = rows.reduce((s, r) => s + r.got, 0);
  const weightSum = rows.reduce((s, r) => s + (r.healthy ? r.weight : 0), 0);
  console.log(
    `  ${label}: ${traffic.messages} messages in ${traffic.requests} packets, ${traffic.errors.length} client errors`,
  );
  console.log(`    ${"analyzer".padEnd(24)} ${"id".padEnd(20)} weight  healthy  delivered   share  expected   |dev|/σ`);
  const shares = new Map<string, number>();
  let worst = 0;
  for (const r of rows) {
    const p = r.healthy && weightSum > 0 ? r.weight / weightSum : 0;
    const dev = Math.abs(sigmasFrom(r.got, total, p));
    worst = Math.max(worst, dev);
    shares.set(r.url, r.got);
    console.log(
      `    ${r.url.padEnd(24)} ${r.id.slice(0, 20).padEnd(20)} ${String(r.weight).padStart(6)}  ${String(r.healthy).padEnd(7)}  ${String(r.got).padStart(9)}  ${(r.got / total).toFixed(3).padStart(6)}  ${p.toFixed(3).padStart(8)}  ${dev.toFixed(2).padStart(7)}`,
    );
  }
  checkDelivered(traffic, total);
  check(
    worst <= SIGMAS,
    `every analyzer's share is within ${SIGMAS}σ of weight/sum of healthy weights (worst ${worst.toFixed(2)}σ)`,
  );
  return shares;
}

function sortedByAddress(analyzers: AnalyzerStatsEntry[]): AnalyzerStatsEntry[] {
  const n = (url: string) =>
    ipOf(url)
      .split(".")
      .reduce((s, o) => s * 256 + Number(o), 0);
  return [...analyzers].sort((a, b) => n(a.url) - n(b.url));
}

async function logsOf(service: string): Promise<string> {
  return compose(["logs", "--no-color", service]).catch((e: Error) => e.message);
}

// ---- the scenario ----

async function scenario(): Promise<void> {
  await run(["docker", "version", "--format", "{{.Server.Version}}"]).catch((error: Error) => {
    throw new Error(
      `no container engine answers (DOCKER_HOST=${env.DOCKER_HOST ?? "unset"}): ${error.message.split("\n").at(-1)}\n` +
        "here: bash /work/shared/tools/container-engine.sh && export DOCKER_HOST=unix:///run/podman/podman.sock",
    );
  });
  const port = await freePort(Number(process.env.DISTRIBUTOR_HOST_PORT ?? 6000));
  env.DISTRIBUTOR_HOST_PORT = String(port);
  base = `http://localhost:${port}`;
  console.log(
    `compose: ${composeCommand.join(" ")} -p ${PROJECT} ${FILES.join(" ")}; distributor on ${base}; DISTRIBUTION_WEIGHTS=${WEIGHTS.join(",")}`,
  );
  if (port !== Number(process.env.DISTRIBUTOR_HOST_PORT ?? 6000))
    console.log(
      `  (port ${process.env.DISTRIBUTOR_HOST_PORT ?? 6000} is taken on this host: published on ${port} instead)`,
    );
  await compose(["down", "--volumes", "--remove-orphans"]);

  console.log("\n1. up with 3 analyzers");
  const started = performance.now();
  await compose(["up", "-d", BUILD, "--scale", "analyzer=3"], { echo: true });
  await waitFor(
    "the distributor answers with 3 healthy analyzers",
    async () => (await stats()).analyzers.filter((a) => a.healthy).length === 3,
  );
  console.log(`  up and serving after ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const containers = await analyzerContainers();
  const first = await stats();
  const ordered = sortedByAddress(first.analyzers);
  for (const a of ordered) {
    const c = containers.find((c) => c.ip === ipOf(a.url));
    console.log(`  ${a.url} weight ${a.weight} = container ${c?.name ?? "?"} (analyzer id ${a.id})`);
  }
  check(
    JSON.stringify(ordered.map((a) => a.weight)) === JSON.stringify(WEIGHTS),
    `weights ${WEIGHTS.join(",")} went to the analyzers in address order`,
  );
  await measure("3 analyzers");

  console.log("\n2. docker stop the analyzer with weight 2, under traffic");
  const victimStats = ordered[1];
  const victim = containers.find((c) => c.ip === ipOf(victimStats.url))!;
  const failedBefore = (await stats()).failed;
  let stopping = true;
  const during = sendPackets(0, () => !stopping);
  await Bun.sleep(300);
  await run(["docker", "stop", victim.name], { echo: true });
  await waitFor(
    `${victimStats.url} is marked down or leaves`,
    async () => !(await stats()).analyzers.some((a) => a.url === victimStats.url && a.healthy),
    20_000,
  );
  // Keep traffic up across a few discovery rounds, so the DNS change is applied under load too.
  await Bun.sleep(5000);
  stopping = false;
  const t = await during;
  const afterStop = await stats();
  const listed = afterStop.analyzers.find((a) => a.url === victimStats.url);
  console.log(
    `  during the stop: ${t.messages} messages in ${t.requests} packets, ${t.errors.length} client errors, ${afterStop.retried} retried in all, ${afterStop.failed - failedBefore} failed`,
  );
  console.log(
    `  ${victimStats.url} is ${listed ? `still listed, healthy=${listed.healthy} (${listed.lastError})` : "gone from /stats (DNS dropped it)"}`,
  );
  check(t.errors.length === 0 && afterStop.failed === failedBefore, "no client errors while the analyzer went down");
  await measure("2 survivors");

  console.log("\n3. docker start it again");
  await run(["docker", "start", victim.name], { echo: true });
  const restarted = (await analyzerContainers()).find((c) => c.name === victim.name)!;
  console.log(
    `  ${victim.name} is back at ${restarted.ip}${restarted.ip === victim.ip ? " (same address)" : ` (was ${victim.ip})`}`,
  );
  await waitFor(
    `it rejoins`,
    async () => (await stats()).analyzers.some((a) => ipOf(a.url) === restarted.ip && a.healthy),
    30_000,
  );
  const back = await measure("3 analyzers again");
  check(
    (back.get([...back.keys()].find((url) => ipOf(url) === restarted.ip)!) ?? 0) > 0,
    `${victim.name} gets traffic again`,
  );

  console.log("\n4. scale to 4 analyzers");
  const knownIps = new Set((await analyzerContainers()).map((c) => c.ip));
  await compose(["up", "-d", "--no-recreate", "--scale", "analyzer=4"], { echo: true });
  await waitFor("4 healthy analyzers", async () => (await stats()).analyzers.filter((a) => a.healthy).length === 4);
  const four = await measure("4 analyzers");
  const added = [...four.keys()].find((url) => !knownIps.has(ipOf(url)))!;
  check((four.get(added) ?? 0) > 0, `the new analyzer ${added} gets traffic`);
  const warning = (await logsOf("distributor")).split("\n").filter((l) => l.includes("discovery: warning"));
  console.log(`  distributor said: ${warning.at(-1)?.replace(/^.*?\| /, "") ?? "(no warning)"}`);
  check(warning.length > 0, "the distributor warned that 4 analyzers meet 3 weights");
  await killDistributor();
  console.log("\n  distributor log (discovery and health changes):");
  for (const l of (await logsOf("distributor")).split("\n").filter((l) => /discovery:|is (up|down)|listening/.test(l)))
    console.log(`    ${l.replace(/^.*?\| /, "")}`);
}

/** Runs a short script with the image's Bun inside a container (the analyzers publish no port). */
const inside = (container: string, script: string) => run(["docker", "exec", container, "bun", "-e", script]);

async function killDistributor(): Promise<void> {
  console.log("\n5. docker kill the distributor under async load, docker start it on its spool volume");
  const analyzers = (await analyzerContainers()).filter((c) => c.running);
  // Slow analyzers, so that the distributor has stored messages waiting when it is killed.
  const fault = (latency: number) =>
    Promise.all(
      analyzers.map((c) =>
        // From inside: the analyzers take POST /fault from loopback only (ADMIN_LOOPBACK in compose.yaml).
        inside(
          c.name,
          `const r=await fetch("http://127.0.0.1:5000/fault",{method:"POST",body:'{"latency":${latency}}'});if(!r.ok)throw new Error(await r.text())`,
        ),
      ),
    );
  await fault(0.05);
  const distributor = (
    await run([
      "docker",
      "ps",
      "-q",
      "--filter",
      `label=com.docker.compose.project=${PROJECT}`,
      "--filter",
      "label=com.docker.compose.service=distributor",
    ])
  ).trim();
  const accepted: string[] = [];
  let refused = 0;
  let next = 0;
  let killed = false;
  const sender = async () => {
    while (next < 600) {
      const p = next++;
      if (p === 200 && !killed) {
        killed = true;
        await run(["docker", "kill", distributor], { echo: true });
        await run(["docker", "start", distributor], { echo: true });
        await waitFor("the distributor answers again", async () => (await fetch(`${base}/health`)).ok);
        console.log(
          `  back: ${(await logsOf("distributor"))
            .split("\n")
            .filter((l) => l.includes("spool:"))
            .at(-1)
            ?.replace(/^.*?\| /, "")}`,
        );
      }
      const ids = Array.from({ length: 20 }, (_, i) => `kill-test msg=${p * 20 + i}`);
      try {
        const res = await fetch(`${base}/analyze`, {
          method: "POST",
          headers: { "content-type": "application/json", prefer: "respond-async" },
          body: JSON.stringify({ logs: ids }),
        });
        await res.text();
        if (res.status === 202) accepted.push(...ids);
        else refused++;
      } catch {
        refused++; // cut off by the kill: not accepted, not owed
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, sender));
  await waitFor("the spool is empty", async () => (await stats()).spool.messages === 0, 120_000);
  await fault(0);
  const audited = new Map<string, number>();
  for (const c of analyzers)
    for (const l of (await run(["docker", "exec", c.name, "cat", "/tmp/audit.jsonl"])).split("\n"))
      if (l.includes("kill-test")) {
        const m = JSON.parse(l) as string;
        audited.set(m, (audited.get(m) ?? 0) + 1);
      }
  const lost = accepted.filter((m) => !audited.has(m)).length;
  const duplicates = [...audited.values()].reduce((n, k) => n + k - 1, 0);
  const s = await stats();
  console.log(
    `  ${accepted.length} messages answered 202, ${refused} requests cut off or refused; recovered ${s.spool.recovered} from the spool; analyzed: ${audited.size} distinct, ${duplicates} twice`,
  );
  check(s.spool.recovered > 0, "the restarted distributor found stored messages on its volume");
  check(lost === 0, `none of the 202-acknowledged messages is lost (${lost} missing)`);
}

let exitCode = 0;
let tornDown = false;
async function teardown(): Promise<void> {
  if (tornDown) return;
  tornDown = true;
  console.log("\nteardown");
  await compose(["down", "--volumes", "--remove-orphans", "--timeout", "5"], { echo: true }).catch((e: Error) =>
    console.error(`  teardown failed: ${e.message}`),
  );
}
process.on("SIGINT", () => void teardown().then(() => process.exit(130)));
process.on("SIGTERM", () => void teardown().then(() => process.exit(143)));

try {
  await scenario();
  console.log("\ncompose test passed");
} catch (error) {
  exitCode = 1;
  console.error(`\ncompose test FAILED: ${error instanceof Error ? error.message : String(error)}`);
  if (!(error instanceof CheckFailed) && error instanceof Error && error.stack) console.error(error.stack);
  if (base)
    for (const service of ["distributor", "analyzer"])
      console.error(`\n--- ${service} logs ---\n${(await logsOf(service)).split("\n").slice(-40).join("\n")}`);
} finally {
  await teardown();
}
process.exit(exitCode);
