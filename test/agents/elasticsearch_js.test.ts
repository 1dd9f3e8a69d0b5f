// The official Elasticsearch JavaScript client (@elastic/elasticsearch 9.4) as a real client, in a
// Node child process as an application runs it: GET / first (the client refuses a server whose
// answers lack X-Elastic-Product: Elasticsearch), then its bulk helper ships documents
// {"@timestamp", "message"} to a real distributor's /_bulk, three real analyzers behind it. What
// each analyzer analyzed comes from its audit file (AUDIT_FILE: one JSON-encoded message per line).
//
// What the client does with an answer (@elastic/transport lib/Transport.js and the client's
// lib/helpers.js, at the versions in bun.lock):
// - 2xx: each item read; an item of status 429 is retried by the helper (`retries` times, `wait`
//   ms apart), any other failed item goes to onDrop. The distributor's items are all 201 or none.
// - 502, 503, 504: the transport sends the request again at once, maxRetries times (3 by
//   default), then the helper's promise rejects with a ResponseError: the application hears of it
//   and nothing is silently dropped. With `headers: {Prefer: "respond-async"}` on the client, the
//   distributor queues the batch even while no analyzer is healthy and delivers it later.
// - another 4xx (the 400 of more documents than MAX_PACKET): not retried; the helper rejects.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { agentLines, expectEachOnceByWeight, linesFile, spawnNodeApp } from "../../testkit/agents.ts";
import { Rig } from "../../testkit/faults.ts";
import { distributorStats, eventually } from "../../testkit/http.ts";

setDefaultTimeout(60_000); // see test/setup.ts

const WEIGHTS = [1, 2, 3];
/** Documents per run: enough for the chi-square to tell a 1:2:3 split from a wrong one. */
const N = 1000;

// The app: checks the server, then bulk-indexes every line of a JSON file as a document, ~100 KB a
// request; prints the helper's stats, or the error it rejected with. Node resolves the client from
// the repository's node_modules.
const APP = `
import { readFileSync } from "node:fs";
import { Client } from "@elastic/elasticsearch";

const [url, file, headers] = process.argv.slice(1);
const client = new Client({ node: url, headers: JSON.parse(headers) });
const info = await client.info();
console.log("server", info.version.number);
const lines = JSON.parse(readFileSync(file, "utf8"));
try {
  const stats = await client.helpers.bulk({
    datasource: lines.map((message) => ({ "@timestamp": new Date().toISOString(), message })),
    onDocument: () => ({ create: { _index: "app-logs" } }),
    onDrop: (dropped) => console.log("dropped", dropped.status),
    flushBytes: 100_000,
  });
  console.log("stats", JSON.stringify(stats));
} catch (error) {
  console.log("rejected", error.name, error.meta?.statusCode);
}
await client.close();
`;

let rig: Rig;
const dir = mkdtempSync(join(tmpdir(), "es-client-"));

beforeAll(async () => {
  rig = await Rig.start(WEIGHTS);
}, 60_000);

afterAll(async () => {
  await rig?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the app once against `url`, the client sending `headers` on every request; resolves with what it printed. */
async function runApp(url: string, sent: readonly string[], headers: Record<string, string> = {}): Promise<string> {
  const app = spawnNodeApp("es client app", APP, [url, linesFile(dir, sent), JSON.stringify(headers)]);
  const code = await app.exited;
  expect(code, app.output()).toBe(0);
  return app.output();
}

/** The helper's stats line: {total, failed, retry, successful, …}. */
function stats(said: string): Record<string, number> {
  const line = said.split("\n").find((l) => l.startsWith("stats "));
  if (!line) throw new Error(`no stats line in:\n${said}`);
  return JSON.parse(line.slice("stats ".length));
}

describe("the Elasticsearch JS client's bulk helper through the distributor's /_bulk", () => {
  test("the server check passes; every document delivered once, split by weight", async () => {
    const prefix = "steady es-js";
    const sent = agentLines(prefix, N);
    const said = await runApp(rig.distributor.url, sent);
    expect(said).toContain("server 8.19.0");
    expect(stats(said)).toMatchObject({ total: N, successful: N, failed: 0, retry: 0 });
    expect(said).not.toContain("dropped");
    await rig.settled();

    expectEachOnceByWeight("Elasticsearch JS client bulk helper", rig.messagesWith(prefix), sent, WEIGHTS);
  });

  test("while every analyzer is down: 503, sent again 3 times, then the helper rejects; with Prefer: respond-async the documents are queued and arrive", async () => {
    await rig.faultAll({ down: true });
    await rig.untilAll(false);
    try {
      const refused = agentLines("outage refused", 50);
      const rejected = (await rig.stats()).rejected;
      const said = await runApp(rig.distributor.url, refused);
      expect(said).toContain("rejected ResponseError 503");
      expect((await rig.stats()).rejected - rejected).toBe(4 * 50); // the request and its 3 retries

      const queued = agentLines("outage queued", 50);
      const saidAsync = await runApp(rig.distributor.url, queued, { Prefer: "respond-async" });
      expect(stats(saidAsync)).toMatchObject({ total: 50, successful: 50, failed: 0 });
      expect(rig.messagesWith("outage queued").flat()).toEqual([]);
      await rig.faultAll({ down: false });
      await eventually(() => rig.messagesWith("outage queued").flat().length === 50, "the queued documents delivered");
      expect(rig.messagesWith("outage queued").flat().toSorted()).toEqual(queued.toSorted());
      expect(rig.messagesWith("outage refused").flat()).toEqual([]);
    } finally {
      await rig.faultAll({ down: false });
    }
  });

  test("a 400 (more documents in a request than MAX_PACKET) is not sent again: the helper rejects", async () => {
    const strict = await rig.anotherDistributor({ MAX_PACKET: "5" });
    try {
      const said = await runApp(strict.url, agentLines("too many es-js", 10)); // one request of 10
      expect(said).toContain("rejected ResponseError 400");
      expect((await distributorStats(strict.url)).invalid).toBe(1);
      expect(rig.messagesWith("too many es-js").flat()).toEqual([]);
    } finally {
      await strict.stop();
    }
  });
});
