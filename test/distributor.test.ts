// End to end: the real distributor and real analyzers as child processes, over real HTTP.

import { afterAll, afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { AnalyzerStats, DistributorStats } from "../src/protocol/stats.ts";
import { type Cluster, startAnalyzer, startCluster } from "../testkit/cluster.ts";
import { eventually, getJson, postJson } from "../testkit/http.ts";
import { spawnChild, stopAll } from "../testkit/procs.ts";
import { fitsWeights, withinSigmas } from "../testkit/shares.ts";

setDefaultTimeout(60_000); // see test/setup.ts

afterAll(stopAll);

const stats = (c: Cluster) => getJson<DistributorStats>(`${c.distributor.url}/stats`);
const delivered = (s: DistributorStats) => s.analyzers.map((a) => a.delivered);
const line = (i: number) =>
  `2026-11-24T12:00:${String(i % 60).padStart(2, "0")}Z INFO req ${i} from 10.0.${i % 256}.1 ok`;

/** Sends `requests` single-log requests from `concurrency` loops; returns statuses and answers. */
async function traffic(url: string, requests: number, concurrency: number, onProgress?: (sent: number) => void) {
  const statuses: number[] = [];
  const answers: { analyzer: string; result: { length: number }; log: string }[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const i = next++;
        onProgress?.(i);
        const log = line(i);
        const res = await postJson(`${url}/analyze`, { log });
        statuses.push(res.status);
        const body = (await res.json()) as { analyzer: string; result: { length: number } };
        if (res.status === 200) answers.push({ ...body, log });
      }
    }),
  );
  return { statuses, answers };
}

describe("weights", () => {
  let cluster: Cluster;
  afterEach(stopAll);

  test("20k messages split 1:2:3 within 5σ of the weights, counted per message in packets", async () => {
    cluster = await startCluster([1, 2, 3]);
    const packets = 200;
    const size = 100;
    await Promise.all(
      Array.from({ length: 8 }, async (_, w) => {
        for (let p = w; p < packets; p += 8) {
          const res = await postJson(`${cluster.distributor.url}/analyze`, {
            logs: Array.from({ length: size }, (_, i) => line(p * size + i)),
          });
          expect(res.status).toBe(200);
          const body = (await res.json()) as { results: { analyzer: string; result: { length: number } }[] };
          expect(body.results).toHaveLength(size);
          // input order is kept: each result describes the line sent at its position
          for (const [i, r] of body.results.entries()) expect(r.result.length).toBe(line(p * size + i).length);
        }
      }),
    );
    const s = await stats(cluster);
    expect(s.delivered).toBe(packets * size);
    expect(s.received).toBe(packets * size);
    expect(withinSigmas(delivered(s), [1, 2, 3])).toMatchObject({ ok: true });
    // The analyzers agree with the distributor's bookkeeping.
    const processed = await Promise.all(cluster.analyzers.map((a) => getJson<AnalyzerStats>(`${a.url}/stats`)));
    expect(processed.map((p) => p.processed)).toEqual(delivered(s));
  });
});

describe("failover", () => {
  afterEach(stopAll);

  test("an analyzer killed while traffic flows: no client errors, survivors split its share by weight, it rejoins", async () => {
    const cluster = await startCluster([1, 2, 3]);
    const [a1] = cluster.analyzers;
    const a1Port = new URL(a1.url).port;
    let killed: Promise<number> | undefined;
    let afterKill: DistributorStats | undefined;
    const requests = 6000;
    const run = await traffic(cluster.distributor.url, requests, 16, (i) => {
      if (i === 2000) killed = a1.stop("SIGKILL");
      if (i === 3000) void stats(cluster).then((s) => (afterKill = s));
    });
    await killed;
    expect(run.statuses.filter((s) => s !== 200)).toEqual([]);
    expect(run.answers).toHaveLength(requests);
    // Every accepted message was analyzed: its answer is the analysis of exactly the line we sent.
    for (const a of run.answers) expect(a.result.length).toBe(a.log.length);

    const end = await stats(cluster);
    expect(end.analyzers[0].healthy).toBe(false);
    expect(end.failed).toBe(0);
    // After the kill was noticed, the survivors split the traffic 2:3.
    const since = delivered(end).map((d, i) => d - delivered(afterKill!)[i]);
    expect(since[0]).toBe(0);
    expect(fitsWeights(since.slice(1), [2, 3])).toMatchObject({ ok: true });

    // The survivors really did the work the distributor credits them with.
    for (const [i, a] of cluster.analyzers.entries()) {
      if (i === 0) continue;
      const { processed } = await getJson<AnalyzerStats>(`${a.url}/stats`);
      expect(processed).toBeGreaterThanOrEqual(end.analyzers[i].delivered);
    }

    // It comes back on the same address and gets traffic again without a distributor restart.
    await startAnalyzer("a1", { PORT: a1Port });
    await eventually(async () => (await stats(cluster)).analyzers[0].healthy, "a1 healthy again");
    const before = (await stats(cluster)).analyzers[0].delivered;
    const again = await traffic(cluster.distributor.url, 600, 8);
    expect(again.statuses.every((s) => s === 200)).toBe(true);
    expect((await stats(cluster)).analyzers[0].delivered).toBeGreaterThan(before);
  });

  test("with every analyzer down: 503 + Retry-After at once; async messages wait and are delivered on recovery", async () => {
    const cluster = await startCluster([1, 1]);
    const ports = cluster.analyzers.map((a) => new URL(a.url).port);
    await Promise.all(cluster.analyzers.map((a) => a.stop("SIGKILL")));
    await eventually(async () => (await stats(cluster)).analyzers.every((a) => !a.healthy), "both analyzers seen down");

    const res = await postJson(`${cluster.distributor.url}/analyze`, { log: "GET / 200" });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(await res.json()).toEqual({ error: "no healthy analyzer" });

    const queued = await postJson(
      `${cluster.distributor.url}/analyze`,
      { logs: ["a", "b", "c"] },
      { prefer: "respond-async" },
    );
    expect(queued.status).toBe(202);
    expect(await queued.json()).toEqual({ accepted: 3 });

    const back = await startAnalyzer("a2", { PORT: ports[1] });
    await eventually(async () => (await stats(cluster)).delivered === 3, "queued async messages delivered");
    const ok = await postJson(`${cluster.distributor.url}/analyze`, { log: "GET / 200" });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { analyzer: string }).analyzer).toBe("a2");
    expect((await getJson<AnalyzerStats>(`${back.url}/stats`)).processed).toBe(4);
  });

  test("an analyzer failing every request is ejected and its messages retried elsewhere", async () => {
    const cluster = await startCluster([1, 1]);
    await postJson(`${cluster.analyzers[0].url}/fault`, { failureRate: 1 });
    const run = await traffic(cluster.distributor.url, 200, 4);
    expect(run.statuses.every((s) => s === 200)).toBe(true);
    expect(run.answers.every((a) => a.analyzer === "a2")).toBe(true);
    const s = await stats(cluster);
    expect(s.analyzers[0].failed).toBeGreaterThan(0);
    expect(s.retried).toBeGreaterThan(0);
    expect(s.failed).toBe(0);
  });
});

describe("shutdown", () => {
  afterEach(stopAll);

  test("SIGTERM delivers every accepted message before exiting 0", async () => {
    const cluster = await startCluster([1, 1], { WORKERS: "2", BATCH_MAX: "5" });
    await Promise.all(cluster.analyzers.map((a) => postJson(`${a.url}/fault`, { latency: 0.05 })));
    let accepted = 0;
    for (let i = 0; i < 20; i++) {
      const res = await postJson(
        `${cluster.distributor.url}/analyze`,
        { logs: Array.from({ length: 10 }, (_, j) => line(i * 10 + j)) },
        { prefer: "respond-async" },
      );
      expect(res.status).toBe(202);
      accepted += ((await res.json()) as { accepted: number }).accepted;
    }
    const s = await stats(cluster);
    expect(s.queue.depth).toBeGreaterThan(0); // there is something left to drain
    expect(await cluster.distributor.stop("SIGTERM")).toBe(0);
    const processed = await Promise.all(cluster.analyzers.map((a) => getJson<AnalyzerStats>(`${a.url}/stats`)));
    expect(processed.reduce((sum, p) => sum + p.processed, 0)).toBe(accepted);
    expect(cluster.distributor.output()).toContain("drained");
  });
});

describe("startup", () => {
  test.each([
    ["distributor.ts", { WORKERS: "lots" }, 'distributor: WORKERS must be a whole number from 1 to 1024, got "lots"'],
    [
      "distributor.ts",
      { ANALYZERS: "http://a:1,http://b:2", DISTRIBUTION_WEIGHTS: "1" },
      "distributor: DISTRIBUTION_WEIGHTS has 1 weights for 2 analyzers",
    ],
    ["analyzer.ts", { FAILURE_RATE: "2" }, 'analyzer: FAILURE_RATE must be a number from 0 to 1, got "2"'],
  ])("%s with %p exits 1 with one line naming the variable", async (entry, env, message) => {
    const child = spawnChild(entry, [process.execPath, entry], { env: { PORT: "0", ...env } });
    expect(await child.exited).toBe(1);
    const stderr = child.stderr().trim();
    expect(stderr.split("\n")).toHaveLength(1);
    expect(stderr).toStartWith(message);
  });
});
