// `bun run test:k8s`: the Kubernetes manifests for real, as far as one machine allows. Renders
// deploy/k8s/overlays/local with `kubectl kustomize` and plays it with `podman kube play` on a
// network of its own: 2 distributors in front of analyzer-main (2 pods, weight 3) and
// analyzer-canary (1 pod, weight 1), found by ANALYZER_GROUPS through the network's DNS aliases.
//   1. traffic split 70/30 over the two distributors: the summed shares by chi-square;
//   2. kill -9 an analyzer pod under traffic: 0 client errors; its group's share to its sibling;
//      start it again: it gets its share back;
//   3. one more canary pod: it gets half the canary's share, and the groups still split 3:1;
//   4. kill -9 a distributor pod under async load and start it again on its volume: every accepted
//      message analyzed (0 lost), which the spool (SPOOL_DIR on the claim) makes possible.
// Tears everything down at the end, also on failure or Ctrl-C.
//
// What podman kube play (4.3) does not do, and so what this stands in for (docs/scale-out.md):
// - Services: skipped. A headless Service becomes `--network NET:alias=<name>` on its Deployment's
//   pods (every pod answers to the name, as a headless Service's DNS does); the distributor Service
//   becomes a host port per distributor pod on 127.0.0.1 (added here, not in the manifests).
// - StatefulSets: not played. Each ordinal is played as the controller would create it: a Pod
//   distributor-<i> with the template and a PersistentVolumeClaim data-distributor-<i>.
// - Probes: readiness is ignored; liveness runs `curl` inside the container (not in the image) on
//   numeric ports only, so both are removed here and verified on paper. preStop is ignored.
// - containerPorts: 4.3 publishes each on the host, so replicas would collide: removed here.
// - Scaling: no controller; "scale up" plays one more pod from the same Deployment template.
//
// Needs podman (here: bash /work/shared/tools/container-engine.sh) and kubectl. Env: K8S_IMAGE
// (default: build localhost/weighted-log-distributor:k8s-test from this tree, its production
// node_modules installed on the host, since containers here cannot reach the npm registry).

import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seededRandom } from "../src/math/random.ts";
import type { AnalyzerStats, DistributorStats } from "../src/protocol/stats.ts";
import { CheckFailed, check, checkDelivered, waitFor } from "../testkit/checks.ts";
import { containerEnv, type K8sObject, named, render, type Yaml } from "../testkit/k8s.ts";
import { fitsWeights, SIGMAS, withinSigmas } from "../testkit/shares.ts";

const ROOT = join(import.meta.dir, "..");
const NETWORK = "wld-k8s-test";
const IMAGE = process.env.K8S_IMAGE ?? "localhost/weighted-log-distributor:k8s-test";
const SPLIT = [0.7, 0.3]; // of the packets, to distributor-0 and distributor-1
const PACKETS = 200;
const PACKET_SIZE = 100; // 20,000 messages per measurement
const CONCURRENCY = 4;

const work = mkdtempSync(join(tmpdir(), "wld-k8s-test-"));
const played: string[] = []; // files given to `podman kube play`, for --down
const volumes: string[] = [];

async function run(argv: string[], options: { echo?: boolean; allowFail?: boolean } = {}): Promise<string> {
  if (options.echo) console.log(`$ ${argv.join(" ")}`);
  const proc = Bun.spawn(argv, { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  if (code !== 0 && !options.allowFail)
    throw new Error(`${argv.join(" ")} exited with ${code}:\n${err.trim() || out.trim()}`);
  return out;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

// ---- the image ----

async function buildImage(): Promise<void> {
  if (process.env.K8S_IMAGE) return;
  // The Dockerfile's app stage, with its one network step (bun install) done on the host.
  const context = join(work, "image");
  await run(["mkdir", "-p", context]);
  for (const f of ["package.json", "bun.lock", "bunfig.toml", "tsconfig.json", "distributor.ts", "analyzer.ts"])
    await Bun.write(join(context, f), Bun.file(join(ROOT, f)));
  await run(["cp", "-r", join(ROOT, "src"), join(context, "src")]);
  await run(["bun", "install", "--frozen-lockfile", "--production", "--cwd", context]);
  await Bun.write(
    join(context, "Containerfile"),
    'FROM docker.io/oven/bun:1\nWORKDIR /home/bun/app\nCOPY . .\nUSER bun\nENTRYPOINT ["bun"]\nCMD ["run", "distributor.ts"]\n',
  );
  await run(["podman", "build", "-q", "-t", IMAGE, "-f", join(context, "Containerfile"), context], { echo: true });
}

// ---- playing the manifests ----

/** The pod template as podman 4.3 can play it: no probes, no containerPorts (see the header). */
function forPodman(template: Yaml): Yaml {
  const spec = structuredClone(template.spec);
  for (const c of spec.containers) {
    delete c.readinessProbe;
    delete c.livenessProbe;
    delete c.ports;
  }
  return spec;
}

async function play(name: string, objects: Yaml[], network: string): Promise<string> {
  const file = join(work, `${name}.yaml`);
  await Bun.write(file, objects.map((o) => JSON.stringify(o)).join("\n---\n"));
  played.push(file);
  await run(["podman", "kube", "play", "--network", network, file], { echo: true });
  return file;
}

const configMaps = (objects: K8sObject[]) => objects.filter((o) => o.kind === "ConfigMap");

/** A Deployment's pods, answering to its headless Service's name. `suffix` plays one more pod ("scale up"). */
async function playAnalyzers(objects: K8sObject[], group: string, replicas?: number, suffix = ""): Promise<void> {
  const deployment = structuredClone(named(objects, "Deployment", group));
  deployment.metadata.name = `${group}${suffix}`;
  if (replicas !== undefined) deployment.spec.replicas = replicas;
  deployment.spec.template.spec = forPodman(deployment.spec.template);
  await play(deployment.metadata.name, [...configMaps(objects), deployment], `${NETWORK}:alias=${group}`);
}

/**
 * StatefulSet ordinal `i`, as its controller would create it: a claim from the template (played on
 * its own, once: it outlives the pod) and a Pod using it. Returns the Pod's file, to replace the pod.
 */
async function playDistributor(objects: K8sObject[], i: number, hostPort: number): Promise<string> {
  const sts = named(objects, "StatefulSet", "distributor");
  const pod = `distributor-${i}`;
  const claims = sts.spec.volumeClaimTemplates.map((t: Yaml) => ({
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: `${t.metadata.name}-${pod}` },
    spec: t.spec,
  }));
  const spec = forPodman(sts.spec.template);
  spec.hostname = pod;
  spec.volumes = [
    ...(spec.volumes ?? []),
    ...sts.spec.volumeClaimTemplates.map((t: Yaml) => ({
      name: t.metadata.name,
      persistentVolumeClaim: { claimName: `${t.metadata.name}-${pod}` },
    })),
  ];
  // Test only: the host reaches each replica on its own loopback port, in place of the Service.
  spec.containers[0].ports = [{ containerPort: 6000, hostPort, hostIP: "127.0.0.1" }];
  for (const c of claims) volumes.push(c.metadata.name);
  await play(`${pod}-claims`, claims, NETWORK);
  const podObject = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: pod, labels: sts.spec.template.metadata.labels },
    spec,
  };
  return play(pod, [...configMaps(objects), podObject], NETWORK);
}

// ---- traffic and measurements ----

let distributors: string[] = []; // base URLs, one per replica

const stats = async (base: string) => (await fetch(`${base}/stats`)).json() as Promise<DistributorStats>;
const line = (i: number) =>
  `2026-11-30T12:00:${String(i % 60).padStart(2, "0")}Z ${["INFO", "WARN", "ERROR"][i % 3]} request ${i} from 10.1.${i % 256}.7`;

type Traffic = { messages: number; requests: number; errors: string[]; perDistributor: number[] };

/** Packets from CONCURRENCY loops, each to a distributor drawn by SPLIT, until `packets` or `until()`. */
async function sendPackets(options: { packets?: number; until?: () => boolean; async?: boolean; to?: number[] }) {
  const t: Traffic = { messages: 0, requests: 0, errors: [], perDistributor: distributors.map(() => 0) };
  const random = seededRandom(t.requests + Date.now());
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (options.until ? !options.until() : next < (options.packets ?? 0)) {
        const p = next++;
        const d = options.to ? options.to[p % options.to.length] : random() < SPLIT[0] ? 0 : 1;
        const logs = Array.from({ length: PACKET_SIZE }, (_, i) => line(p * PACKET_SIZE + i));
        t.requests++;
        try {
          const res = await fetch(`${distributors[d]}/analyze`, {
            method: "POST",
            headers: { "content-type": "application/json", ...(options.async ? { prefer: "respond-async" } : {}) },
            body: JSON.stringify({ logs }),
          });
          const text = await res.text();
          if (res.status === (options.async ? 202 : 200)) {
            t.messages += logs.length;
            t.perDistributor[d] += logs.length;
          } else t.errors.push(`${res.status} ${text.slice(0, 200)}`);
        } catch (error) {
          t.errors.push(String(error));
        }
      }
    }),
  );
  return t;
}

/** Each analyzer's `delivered`, summed over the distributors, by url, with its group. */
async function deliveredByAnalyzer(): Promise<Map<string, { group: string; delivered: number; healthy: boolean }>> {
  const sum = new Map<string, { group: string; delivered: number; healthy: boolean }>();
  for (const base of distributors) {
    for (const a of (await stats(base)).analyzers) {
      const was = sum.get(a.url);
      sum.set(a.url, {
        group: a.group ?? "",
        delivered: (was?.delivered ?? 0) + a.delivered,
        healthy: (was?.healthy ?? true) && a.healthy,
      });
    }
  }
  return sum;
}

type Measured = { byUrl: Map<string, number>; pValue: number };

/** PACKETS packets split over the distributors; the summed shares against the groups' weights. */
async function measure(label: string, groups: Map<string, number>): Promise<Measured> {
  const before = await deliveredByAnalyzer();
  const traffic = await sendPackets({ packets: PACKETS });
  const after = await deliveredByAnalyzer();
  const rows = [...after].map(([url, a]) => ({ url, ...a, got: a.delivered - (before.get(url)?.delivered ?? 0) }));
  const healthyIn = (g: string) => rows.filter((r) => r.group === g && r.healthy).length;
  // Expected: a group's weight over the groups with a healthy instance, shared evenly by those instances.
  const live = [...groups].filter(([g]) => healthyIn(g) > 0);
  const weights = rows.map((r) => (r.healthy ? (groups.get(r.group) ?? 0) / healthyIn(r.group) : 0));
  const counts = rows.map((r) => r.got);
  const total = counts.reduce((a, b) => a + b, 0);
  console.log(
    `  ${label}: ${traffic.messages} messages in ${traffic.requests} packets (${traffic.perDistributor.join(" + ")} by distributor), ${traffic.errors.length} client errors`,
  );
  const sigma = withinSigmas(counts, weights);
  const fit = fitsWeights(counts, weights);
  console.log(`    ${"analyzer".padEnd(24)} ${"group".padEnd(16)} delivered   share  expected  dev/σ`);
  for (const [i, r] of rows.entries())
    console.log(
      `    ${r.url.padEnd(24)} ${r.group.padEnd(16)} ${String(r.got).padStart(9)}  ${(r.got / total).toFixed(3)}  ${(sigma.expected[i] / total).toFixed(3).padStart(8)}  ${sigma.sigmas[i].toFixed(2).padStart(5)}`,
    );

  const byGroup = live.map(([g]) => rows.reduce((s, r) => s + (r.group === g ? r.got : 0), 0));
  const groupFit = fitsWeights(
    byGroup,
    live.map(([, w]) => w),
  );
  console.log(
    `    groups: ${live.map(([g], i) => `${g} ${((byGroup[i] / total) * 100).toFixed(1)}%`).join(", ")}; chi-square p=${fit.pValue.toFixed(3)} (instances), p=${groupFit.pValue.toFixed(3)} (groups)`,
  );
  checkDelivered(traffic, total);
  check(
    sigma.ok && fit.ok && groupFit.ok,
    `shares fit the weights: chi-square p=${fit.pValue.toFixed(3)} > 1e-4, worst ${sigma.worst.toFixed(2)}σ ≤ ${SIGMAS}σ`,
  );
  return { byUrl: new Map(rows.map((r) => [r.url, r.got])), pValue: fit.pValue };
}

/** How many instances of each group every distributor sees healthy. */
async function healthySeen(): Promise<Map<string, number>[]> {
  return Promise.all(
    distributors.map(async (base) => {
      const s = await stats(base);
      return new Map(s.groups.map((g) => [g.name, g.healthy]));
    }),
  );
}
const everyDistributorSees = async (want: Record<string, number>) =>
  (await healthySeen()).every((seen) => Object.entries(want).every(([g, n]) => seen.get(g) === n));

async function containerIp(container: string): Promise<string> {
  const out = await run(["podman", "inspect", container, "--format", "{{json .NetworkSettings.Networks}}"]);
  const nets = JSON.parse(out) as Record<string, { IPAddress: string }>;
  return Object.values(nets)[0]?.IPAddress ?? "";
}

async function analyzerProcessed(container: string): Promise<number> {
  const out = await run([
    "podman",
    "exec",
    container,
    "bun",
    "-e",
    "console.log(JSON.stringify(await(await fetch('http://127.0.0.1:5000/stats')).json()))",
  ]);
  return (JSON.parse(out) as AnalyzerStats).processed;
}

async function analyzerContainers(): Promise<string[]> {
  const out = await run(["podman", "ps", "--format", "{{.Names}}", "--filter", "name=^analyzer-"]);
  return out
    .split("\n")
    .filter((n) => /^analyzer-.*-analyzer$/.test(n))
    .sort();
}

// ---- the scenario ----

const results: { step: string; outcome: string }[] = [];

async function scenario(): Promise<void> {
  await run(["podman", "--version"]).catch(() => {
    throw new Error("podman is not installed; here: bash /work/shared/tools/container-engine.sh");
  });
  const objects = await render("overlays/local");
  const sts = named(objects, "StatefulSet", "distributor");
  const env = containerEnv(objects, sts.spec.template.spec.containers[0]);
  const groups = new Map(
    env.ANALYZER_GROUPS!.split(",").map((e) => {
      const [name, weight] = e.split("=");
      return [name!.trim(), Number(weight ?? 1)] as const;
    }),
  );
  console.log(`rendered deploy/k8s/overlays/local: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(", ")}`);
  console.log(`ANALYZER_GROUPS=${env.ANALYZER_GROUPS}; image ${IMAGE}`);

  await teardown(true);
  await buildImage();
  await run(["podman", "network", "create", NETWORK], { echo: true });

  console.log("\n1. play: analyzers, then 2 distributors; traffic split 70/30 over them");
  for (const group of groups.keys()) await playAnalyzers(objects, group);
  const ports = [await freePort(), await freePort()];
  const podFiles: string[] = [];
  for (let i = 0; i < sts.spec.replicas; i++) podFiles.push(await playDistributor(objects, i, ports[i]!));
  distributors = ports.map((p) => `http://127.0.0.1:${p}`);
  const started = performance.now();
  const all = Object.fromEntries(
    [...groups.keys()].map((g) => [g, named(objects, "Deployment", g).spec.replicas as number]),
  );
  await waitFor(`both distributors see ${JSON.stringify(all)} healthy`, () => everyDistributorSees(all), 90_000);
  console.log(`  serving after ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const writable = await run(
    [
      "podman",
      "exec",
      "distributor-0-distributor",
      "bun",
      "-e",
      "require('fs').writeFileSync('/data/.writable','');require('fs').writeFileSync('/tmp/.writable','')",
    ],
    { allowFail: true },
  ).then(
    () => true,
    () => false,
  );
  const readOnlyRoot = await run([
    "podman",
    "exec",
    "distributor-0-distributor",
    "bun",
    "-e",
    "require('fs').writeFileSync('/home/bun/app/.x','')",
  ]).then(
    () => false,
    () => true,
  );
  console.log(
    `  /data and /tmp writable by the distributor's user: ${writable}; root filesystem read-only: ${readOnlyRoot}`,
  );
  check(readOnlyRoot, "the root filesystem is read-only (readOnlyRootFilesystem)");
  const first = await measure("2 distributors, 3 analyzers", groups);
  results.push({ step: "1. summed shares", outcome: `chi-square p=${first.pValue.toFixed(3)}` });

  console.log("\n2. kill -9 an analyzer pod of analyzer-main under traffic");
  const victim = "analyzer-main-pod-1";
  const victimIp = await containerIp(`${victim}-analyzer`);
  let going = true;
  const during = sendPackets({ until: () => !going });
  await Bun.sleep(500);
  await run(["podman", "pod", "kill", "--signal", "KILL", victim], { echo: true });
  await waitFor(
    `both distributors see ${victim} down`,
    () => everyDistributorSees({ ...all, "analyzer-main": all["analyzer-main"]! - 1 }),
    30_000,
  );
  await Bun.sleep(2000);
  going = false;
  const t = await during;
  console.log(`  during the kill: ${t.messages} messages in ${t.requests} packets, ${t.errors.length} client errors`);
  check(t.errors.length === 0, "no client errors while the analyzer pod died");
  const killed = await measure("analyzer-main down to 1 pod", groups);
  results.push({
    step: "2. analyzer pod killed",
    outcome: `0 client errors of ${t.requests} packets; p=${killed.pValue.toFixed(3)}`,
  });
  await run(["podman", "pod", "start", victim], { echo: true });
  const backIp = await containerIp(`${victim}-analyzer`);
  console.log(`  ${victim} is back at ${backIp}${backIp === victimIp ? " (same address)" : ` (was ${victimIp})`}`);
  await waitFor(`both distributors see ${victim} again`, () => everyDistributorSees(all), 30_000);
  const back = await measure("analyzer-main back to 2 pods", groups);
  check((back.byUrl.get(`http://${backIp}:5000`) ?? 0) > 0, `${victim} gets traffic again`);

  console.log("\n3. scale analyzer-canary up: one more pod from its template");
  await playAnalyzers(objects, "analyzer-canary", 1, "-scaled");
  const newIp = await containerIp("analyzer-canary-scaled-pod-0-analyzer");
  const scaled = { ...all, "analyzer-canary": all["analyzer-canary"]! + 1 };
  await waitFor("both distributors see 2 canary pods", () => everyDistributorSees(scaled), 30_000);
  const more = await measure("analyzer-canary at 2 pods", groups);
  const got = more.byUrl.get(`http://${newIp}:5000`) ?? 0;
  check(got > 0, `the new canary pod gets traffic (${got} messages: half of the canary's quarter)`);
  results.push({
    step: "3. canary scaled to 2",
    outcome: `new pod ${got} messages; p=${more.pValue.toFixed(3)}`,
  });

  console.log("\n4. kill -9 distributor-1 under async load; a new pod on its volume");
  const analyzers = await analyzerContainers();
  console.log(`  counting what the analyzers processed: ${analyzers.join(", ")}`);
  check(analyzers.length === 4, "the 4 analyzer containers are found, to count what they analyzed");
  const processed = async () => (await Promise.all(analyzers.map(analyzerProcessed))).reduce((a, b) => a + b, 0);
  const before = await processed();
  let loading = true;
  const asyncLoad = sendPackets({ until: () => !loading, async: true, to: [1] });
  await Bun.sleep(1500);
  await run(["podman", "kill", "--signal", "KILL", "distributor-1-distributor"], { echo: true });
  loading = false;
  const accepted = await asyncLoad;
  // As the StatefulSet controller does: the pod goes, a new one of the same name mounts the same claim.
  await run(["podman", "kube", "play", "--down", podFiles[1]!], { echo: true });
  await run(["podman", "kube", "play", "--network", NETWORK, podFiles[1]!], { echo: true });
  await waitFor("distributor-1 serves again", async () => (await fetch(`${distributors[1]}/health`)).ok, 60_000);
  // Delivery has settled when the analyzers' total stops moving (bounded: 60 s).
  let last = -1;
  let now = await processed();
  for (let i = 0; i < 30 && now !== last; i++) {
    last = now;
    await Bun.sleep(2000);
    now = await processed();
  }
  const analyzed = now - before;
  const lost = accepted.messages - analyzed;
  console.log(
    `  accepted (202) ${accepted.messages} messages in ${accepted.requests} packets (${accepted.errors.length} refused or cut off by the kill); analyzed ${analyzed}; lost ${Math.max(0, lost)}, duplicated ${Math.max(0, -lost)}`,
  );
  const spoolOk = lost <= 0;
  results.push({
    step: "4. distributor killed under async load",
    outcome: `accepted ${accepted.messages}, analyzed ${analyzed}, lost ${Math.max(0, lost)}: ${spoolOk ? "passed" : "FAILED"}`,
  });
  check(spoolOk, "every accepted message was analyzed after the restart (0 lost)");
}

let tornDown = false;
async function teardown(quiet = false): Promise<void> {
  if (!quiet) {
    if (tornDown) return;
    tornDown = true;
    console.log("\nteardown");
  }
  for (const file of played.splice(0).reverse())
    await run(["podman", "kube", "play", "--down", file], { allowFail: true });
  // Leftovers of an earlier run that was killed: every pod on our network, its volumes, the network.
  const pods = (await run(["podman", "pod", "ps", "-q", "--filter", `network=${NETWORK}`], { allowFail: true }))
    .split("\n")
    .filter(Boolean);
  if (pods.length) await run(["podman", "pod", "rm", "-f", ...pods], { allowFail: true });
  const claims = ["data-distributor-0", "data-distributor-1", ...volumes];
  await run(["podman", "volume", "rm", "-f", ...new Set(claims)], { allowFail: true });
  await run(["podman", "network", "rm", "-f", NETWORK], { allowFail: true });
}

process.on("SIGINT", () => void teardown().then(() => process.exit(130)));
process.on("SIGTERM", () => void teardown().then(() => process.exit(143)));

let exitCode = 0;
try {
  await scenario();
} catch (error) {
  exitCode = 1;
  console.error(`\nk8s test FAILED: ${error instanceof Error ? error.message : String(error)}`);
  if (!(error instanceof CheckFailed) && error instanceof Error && error.stack) console.error(error.stack);
  for (const c of ["distributor-0-distributor", "distributor-1-distributor"]) {
    const logs = await run(["podman", "logs", "--tail", "30", c], { allowFail: true });
    if (logs) console.error(`\n--- ${c} ---\n${logs}`);
  }
} finally {
  await teardown();
  rmSync(work, { recursive: true, force: true });
}
console.log("\nsummary");
for (const r of results) console.log(`  ${r.step}: ${r.outcome}`);
console.log(exitCode === 0 ? "k8s test passed" : "k8s test FAILED");
process.exit(exitCode);
