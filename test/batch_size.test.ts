import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { DeadLetterList } from "../src/protocol/stats.ts";
import { type Cluster, startCluster } from "../testkit/cluster.ts";
import { distributorStats, eventually, getJson, postJson } from "../testkit/http.ts";
import { stopAll } from "../testkit/procs.ts";

setDefaultTimeout(60_000); // see test/setup.ts

// A worker's batch holds messages of several requests, so one analyzer request can outgrow the
// analyzer's MAX_BODY_BYTES though every client request was within the distributor's: the
// distributor cuts batches at BATCH_MAX_BYTES and halves one an analyzer still refuses as too large
// (413). Real processes: one analyzer taking 64 KiB bodies behind a distributor cutting at 512 KiB
// (the default), so that every cut here is the analyzer's 413 halving, then at 16 KiB.

const ANALYZER_LIMIT = 64 * 1024;
/** `n` distinct messages of about `size` characters. */
const messages = (n: number, size: number, prefix: string) =>
  Array.from({ length: n }, (_, i) => `${prefix} ${i} `.padEnd(size, "x"));

async function processed(cluster: Cluster): Promise<{ processed: number; requests: number }> {
  return getJson(`${cluster.analyzers[0]!.url}/stats`);
}

describe.each([
  ["the default BATCH_MAX_BYTES (over the analyzer's limit: its 413s halve the batches)", {}],
  ["BATCH_MAX_BYTES=16384 (batches cut before they are sent)", { BATCH_MAX_BYTES: "16384" }],
])("with %s", (_name, env) => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster([1], { ADMIN_LOOPBACK: "true", ...env }, () => ({
      MAX_BODY_BYTES: String(ANALYZER_LIMIT),
    }));
  });
  afterAll(() => stopAll());

  test("requests whose batches outgrow the analyzer's body limit are delivered whole, each message once", async () => {
    const before = await processed(cluster);
    // 4 concurrent requests of 60 × 2 KB: 120 KB each, any batch of them well over 64 KiB
    const bodies = [0, 1, 2, 3].map((k) => messages(60, 2_000, `req${k}`));
    const answers = await Promise.all(bodies.map((logs) => postJson(`${cluster.distributor.url}/analyze`, { logs })));
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    for (const [k, r] of answers.entries()) {
      const { results } = (await r.json()) as { results: { analyzer: string }[] };
      expect(results).toHaveLength(bodies[k]!.length);
    }
    const after = await processed(cluster);
    expect(after.processed - before.processed).toBe(240);
    // 480 KB cannot have gone in fewer than 8 requests of at most 64 KiB
    expect(after.requests - before.requests).toBeGreaterThanOrEqual(8);
    expect((await distributorStats(cluster.distributor.url)).analyzers[0]!.healthy).toBe(true);
  });

  test("a message larger than the analyzer takes is a 413 naming why, its neighbours analyzed", async () => {
    const before = await processed(cluster);
    const logs = [...messages(3, 100, "small"), "y".repeat(ANALYZER_LIMIT + 1)];
    const res = await postJson(`${cluster.distributor.url}/analyze`, { logs });
    expect(res.status).toBe(413);
    const body = (await res.json()) as { error: string; results: ({ analyzer: string } | { status: number })[] };
    expect(body.error).toContain("1 of 4 messages failed: a message is larger than analyzer a1 takes");
    expect(body.results.slice(0, 3).every((r) => "analyzer" in r)).toBe(true);
    expect(body.results[3]).toMatchObject({ status: 413 });
    expect((await processed(cluster)).processed - before.processed).toBe(3);
  });

  test("sent async, such a message becomes a dead letter; the others are analyzed", async () => {
    const before = await processed(cluster);
    const big = `async-big ${"z".repeat(ANALYZER_LIMIT + 1)}`;
    const res = await postJson(
      `${cluster.distributor.url}/analyze`,
      { logs: ["async small 1", big, "async small 2"] },
      { Prefer: "respond-async" },
    );
    expect(res.status).toBe(202);
    let letters = "";
    await eventually(async () => {
      letters = JSON.stringify(await getJson<DeadLetterList>(`${cluster.distributor.url}/admin/dead-letters`));
      return letters.includes("async-big");
    }, "the large async message is a dead letter");
    expect(letters).toContain("larger than analyzer a1 takes");
    await eventually(
      async () => (await processed(cluster)).processed - before.processed === 2,
      "the two small async messages are analyzed",
    );
  });
});
