// pino-loki as a real client: a pino logger in a Node child process (pino runs its transports in a
// worker thread, as in any Node app) with the pino-loki transport pointed at a real distributor's
// /loki/api/v1/push, three real analyzers behind it. What each analyzer analyzed comes from its
// audit file (AUDIT_FILE: one JSON-encoded message per line).
//
// What pino-loki 3.0.0 sends and does (dist/index.mjs):
// - one stream per log, labels {level: "info", hostname, ...labels}, the line the whole pino
//   object as JSON (without hostname): so the analyzer's message is that JSON line, and its level
//   comes from the level label;
// - JSON with Content-Type application/json, batches every `batching.interval` seconds (default 5,
//   up to 10 000 logs: more than MAX_PACKET, 1000 by default, is a 400), the rest on close;
// - any answer that is not 2xx (503 and 400 alike): the batch is dropped and the error printed to
//   stderr; it never retries. With `headers: {Prefer: "respond-async"}` the distributor queues the
//   batch even while no analyzer is healthy (up to QUEUE_CAPACITY), which rides out an outage.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AnalyzerStats } from "../../src/protocol/stats.ts";
import { expectEachOnceByWeight, linesFile, spawnNodeApp } from "../../testkit/agents.ts";
import { Rig } from "../../testkit/faults.ts";
import { distributorStats, eventually, getJson } from "../../testkit/http.ts";

setDefaultTimeout(60_000); // see test/setup.ts

const WEIGHTS = [1, 2, 3];
/** Lines per run: enough for the chi-square to tell a 1:2:3 split from a wrong one; one batch within MAX_PACKET. */
const N = 1000;

// The app: logs every line of a JSON file with logger.info, then ends the transport, which sends
// what it still holds and exits. Node resolves pino and pino-loki from the repository's node_modules.
const APP = `
import { readFileSync } from "node:fs";
import pino from "pino";

const [options, file] = process.argv.slice(1);
const transport = pino.transport({ target: "pino-loki", options: JSON.parse(options) });
const logger = pino(transport);
for (const line of JSON.parse(readFileSync(file, "utf8"))) logger.info(line);
transport.on("close", () => console.log("transport closed"));
logger.flush();
transport.end();
`;

let rig: Rig;
const dir = mkdtempSync(join(tmpdir(), "pino-loki-"));

beforeAll(async () => {
  rig = await Rig.start(WEIGHTS);
}, 60_000);

afterAll(async () => {
  await rig?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** `n` unique lines starting with `prefix`: quotes, backslashes, UTF-8, a tab, one of 8 KB, one that is only the prefix. */
function lines(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) =>
    i === 0
      ? prefix
      : i === 7
        ? `${prefix} ${i} ${"8 KB line ".repeat(820)}`
        : `${prefix} ${i} say "hi" \\ to ünïcödé ✓ \t tab`,
  );
}

/** Runs the app once: pino-loki with `options` (host added) logs `sent`; resolves with what it printed. */
async function runApp(url: string, sent: readonly string[], options: Record<string, unknown> = {}): Promise<string> {
  const pinoLoki = { host: url, batching: { interval: 0.2 }, labels: { app: "pino-loki-test" }, ...options };
  const app = spawnNodeApp("pino-loki app", APP, [JSON.stringify(pinoLoki), linesFile(dir, sent)]);
  const code = await app.exited;
  expect(code, app.output()).toBe(0);
  expect(app.output()).toContain("transport closed");
  return app.output();
}

/** Each analyzer's audited pino lines whose msg starts with `prefix`, as the msg. */
function audited(prefix: string): string[][] {
  return rig.messages().map((messages) => {
    const msgs: string[] = [];
    for (const message of messages) {
      if (!message.startsWith("{")) continue;
      const msg = (JSON.parse(message) as { msg?: unknown }).msg;
      if (typeof msg === "string" && msg.startsWith(prefix)) msgs.push(msg);
    }
    return msgs;
  });
}

async function infoCount(): Promise<number> {
  let total = 0;
  for (const a of rig.analyzers) total += (await getJson<AnalyzerStats>(`${a.url}/stats`)).byLevel.INFO ?? 0;
  return total;
}

describe("pino-loki through the distributor", () => {
  test("every line delivered once, split by weight, its level label analyzed", async () => {
    const prefix = "steady pino-loki";
    const sent = lines(prefix, N);
    const before = await infoCount();
    await runApp(rig.distributor.url, sent);

    expectEachOnceByWeight("pino-loki", audited(prefix), sent, WEIGHTS);
    expect((await infoCount()) - before).toBe(N);
  });

  test("while every analyzer is down: a 503, and pino-loki drops the batch; with Prefer: respond-async it is queued and arrives", async () => {
    await rig.faultAll({ down: true });
    await rig.untilAll(false);
    try {
      const dropped = lines("outage dropped", 50);
      const rejected = (await rig.stats()).rejected;
      const said = await runApp(rig.distributor.url, dropped);
      expect(said).toContain("Got error when trying to send log to loki");
      expect(said).toContain("no healthy analyzer");
      expect((await rig.stats()).rejected - rejected).toBe(50); // one request, not retried

      const queued = lines("outage queued", 50);
      await runApp(rig.distributor.url, queued, { headers: { Prefer: "respond-async" } });
      expect(audited("outage queued").flat()).toEqual([]);
      await rig.faultAll({ down: false });
      await eventually(() => audited("outage queued").flat().length === 50, "the queued batch delivered");
      expect(audited("outage queued").flat().toSorted()).toEqual(queued.toSorted());
      expect(audited("outage dropped").flat()).toEqual([]);
    } finally {
      await rig.faultAll({ down: false });
    }
  });

  test("a 400 (more lines in a batch than MAX_PACKET) is not retried: the batch is dropped and the reason printed", async () => {
    const strict = await rig.anotherDistributor({ MAX_PACKET: "5" });
    try {
      const said = await runApp(strict.url, lines("too many pino-loki", 10)); // one batch of 10
      expect(said).toContain("Got error when trying to send log to loki");
      expect(said).toContain("more than MAX_PACKET (5)");
      expect((await distributorStats(strict.url)).invalid).toBe(1); // one request, no retry
      expect(audited("too many pino-loki").flat()).toEqual([]);
    } finally {
      await strict.stop();
    }
  });
});
