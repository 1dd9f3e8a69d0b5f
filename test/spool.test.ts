// The spool's faults against real processes (the crash itself is in test/faults.test.ts): two
// distributors on one spool, a folder that cannot be used, a disk that fills up, poison messages
// kept as dead letters and replayed, and what a default start says.

import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createAnalyzer } from "../src/analyzer/app.ts";
import { loadAnalyzerConfig } from "../src/analyzer/config.ts";
import { createDistributor } from "../src/distributor/app.ts";
import { loadDistributorConfig } from "../src/distributor/config.ts";
import type { DeadLetterList, DeadLettersReplayed } from "../src/protocol/stats.ts";
import { Rig } from "../testkit/faults.ts";
import { eventually, getJson, postJson } from "../testkit/http.ts";
import { spawnChild, spawnService, stopAll } from "../testkit/procs.ts";

setDefaultTimeout(60_000); // see test/setup.ts

afterAll(stopAll);

const ASYNC = { prefer: "respond-async" };

test("a second distributor on the same SPOOL_DIR refuses to start, saying why; the first goes on", async () => {
  const rig = await Rig.start([1]);
  try {
    const dir = rig.distributor.env.SPOOL_DIR!;
    const second = spawnChild("distributor.ts", [process.execPath, "distributor.ts"], {
      env: { PORT: "0", HOST: "127.0.0.1", SPOOL_DIR: dir, ANALYZERS: rig.analyzers[0].url },
    });
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(
      `distributor: SPOOL_DIR ${dir} is in use by another distributor (it holds ${dir}/spool.lock): give each distributor its own SPOOL_DIR`,
    );
    expect((await postJson(`${rig.distributor.url}/analyze`, { log: "still here" }, ASYNC)).status).toBe(202);
  } finally {
    await rig.stop();
  }
});

test("a SPOOL_DIR that cannot be made: the startup says so, async requests get 503 + Retry-After, sync ones are served; once it can be made, it is used without a restart", async () => {
  const file = join(mkdtempSync(join(tmpdir(), "spool-file-")), "not-a-folder");
  writeFileSync(file, "");
  const rig = await Rig.start([1], { SPOOL_DIR: join(file, "spool") });
  try {
    expect(rig.distributor.output()).toMatch(
      new RegExp(`spool: cannot use ${join(file, "spool")} \\(.*ENOTDIR.*\\): async requests get 503`),
    );
    const refused = await postJson(`${rig.distributor.url}/analyze`, { log: "async" }, ASYNC);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(((await refused.json()) as { error: string }).error).toContain("cannot be used");
    const served = await postJson(`${rig.distributor.url}/analyze`, { log: "sync ERROR" });
    expect(served.status).toBe(200);
    expect((await rig.stats()).spool).toMatchObject({ kind: "disk", messages: 0 });

    // The operator fixes it: the file in the way becomes a folder.
    rmSync(file);
    mkdirSync(file);
    await rig.distributor.waitFor(/\(it can be used now\)/);
    expect(rig.distributor.output()).toContain(`spool: ${join(file, "spool")}: empty (it can be used now)`);
    const accepted = await postJson(`${rig.distributor.url}/analyze`, { logs: ["stored 1", "stored 2"] }, ASYNC);
    expect(accepted.status).toBe(202);
    await eventually(() => rig.messagesWith("stored").flat().length === 2, "the two stored messages are analyzed");
    expect((await rig.stats()).spool.dir).toBe(join(file, "spool"));
  } finally {
    await rig.stop();
  }
});

test("a disk that fills up: async gets 503 with the reason and a log line, nothing unstored is acknowledged, sync is served", async () => {
  const { port: _, host: __, ...analyzerDefaults } = loadAnalyzerConfig({});
  const analyzer = createAnalyzer({ ...analyzerDefaults, id: "a1", adminToken: "t" });
  const fault = (change: { hang: boolean }) =>
    analyzer.app.request("/fault", {
      method: "POST",
      body: JSON.stringify(change),
      headers: { authorization: "Bearer t" },
    });
  const analyzerServer = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: analyzer.app.fetch });
  const lines: string[] = [];
  const distributor = createDistributor(
    loadDistributorConfig({
      ANALYZERS: analyzerServer.url.origin,
      SPOOL_DIR: mkdtempSync(join(tmpdir(), "spool-full-")),
      HEALTH_INTERVAL_MS: "60000",
    }),
    // 8 pages of 4 KiB: a few kilobytes of messages fill it.
    { log: (line) => lines.push(line), spoolPageLimit: 8 },
  );
  await distributor.start();
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    routes: distributor.routes,
    fetch: distributor.app.fetch,
  });
  try {
    // The analyzer holds them (hang), so that the spool fills instead of emptying.
    expect((await fault({ hang: true })).status).toBe(200);
    const statuses = new Map<number, number>();
    let error = "";
    for (let i = 0; i < 40; i++) {
      const res = await postJson(`${server.url.origin}/analyze`, { logs: [`m${i} ${"x".repeat(1000)}`] }, ASYNC);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      if (res.status === 503) error = ((await res.json()) as { error: string }).error;
      else await res.body?.cancel();
    }
    expect(statuses.get(503)).toBeGreaterThan(0);
    expect(error).toMatch(/^the spool could not store the messages: .*full.*: async requests are refused/);
    expect(lines.some((l) => /^spool: could not write to .*spool\.db: .*full/.test(l))).toBe(true);
    const accepted = statuses.get(202) ?? 0;
    expect(distributor.intake.stats().messages).toBe(accepted); // every 202 is stored, nothing else
    expect(distributor.counters).toMatchObject({ received: accepted, rejected: statuses.get(503) });
    // The waiting client's path does not touch the spool. (The analyzer is released to answer it.)
    expect((await fault({ hang: false })).status).toBe(200);
    expect((await postJson(`${server.url.origin}/analyze`, { log: "sync" })).status).toBe(200);
    await eventually(() => distributor.intake.stats().messages === 0, "the stored messages delivered");
    expect(analyzer.counts.processed).toBe(accepted + 1);
  } finally {
    server.stop(true);
    await distributor.drain(1000);
    analyzerServer.stop(true);
  }
});

test("a poison message (every analyzer answers 4xx) becomes a dead letter with the reason; replayed once fixed, it is delivered", async () => {
  // The analyzer's MAX_BODY_BYTES refuses one long message with 413; the short ones pass.
  const rig = await Rig.start([1], { ADMIN_TOKEN: "t" }, { MAX_BODY_BYTES: "2000" });
  const admin = { authorization: "Bearer t" };
  try {
    const poison = `poison ${"p".repeat(3000)}`;
    for (const log of ["fine 1", poison, "fine 2"])
      expect((await postJson(`${rig.distributor.url}/analyze`, { log }, ASYNC)).status).toBe(202);
    await eventually(async () => (await rig.stats()).spool.deadLetters === 1, "one dead letter");
    const list = await getJson<DeadLetterList>(`${rig.distributor.url}/admin/dead-letters`, admin);
    expect(list.total).toBe(1);
    expect(list.deadLetters[0]).toMatchObject({ id: 1, record: poison });
    expect(list.deadLetters[0].reason).toMatch(/answered 413/);
    expect((await fetch(`${rig.distributor.url}/admin/dead-letters`)).status).toBe(401);
    const metrics = await (await fetch(`${rig.distributor.url}/metrics`)).text();
    expect(metrics).toContain("\ndistributor_dead_letters 1\n");

    await rig.restart(0, { MAX_BODY_BYTES: "100000" });
    await rig.untilAll(true);
    const replay = await postJson(`${rig.distributor.url}/admin/dead-letters/replay`, {}, admin);
    expect((await replay.json()) as DeadLettersReplayed).toEqual({ replayed: 1 });
    await rig.settled();
    expect(rig.messages()[0]).toContain(poison);
    expect((await rig.stats()).spool.deadLetters).toBe(0);
  } finally {
    await rig.stop();
  }
});

test("bad input to the dead-letter endpoints is a 400 naming it", async () => {
  const rig = await Rig.start([1], { ADMIN_TOKEN: "t" });
  const admin = { authorization: "Bearer t" };
  try {
    const bad = await fetch(`${rig.distributor.url}/admin/dead-letters?limit=lots`, { headers: admin });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'limit must be a whole number, got "lots"' });
    const badIds = await postJson(`${rig.distributor.url}/admin/dead-letters/replay`, { ids: ["x"] }, admin);
    expect(badIds.status).toBe(400);
    expect(((await badIds.json()) as { error: string }).error).toContain("ids");
  } finally {
    await rig.stop();
  }
});

test("a default start keeps its spool in ./data/spool and says so", async () => {
  const cwd = realpathSync(mkdtempSync(join(tmpdir(), "spool-cwd-")));
  const d = await spawnService(join(process.cwd(), "distributor.ts"), { SPOOL_DIR: undefined }, { cwd });
  expect(d.output()).toContain(`spool: ${join(cwd, "data/spool")}: empty`);
  await d.stop();
  const memory = await spawnService("distributor.ts", { SPOOL: "memory" });
  expect(memory.output()).toContain("spool: memory only (SPOOL=memory): a crash loses the async messages queued then");
});
