// winston-loki 6.1 as a real client, in a Node child process as an application runs it: its Loki
// transport pushes batches of snappy-compressed protobuf (its default: the native `snappy`
// package, as Promtail and Alloy send them) to a real distributor's /loki/api/v1/push, three real
// analyzers behind it. What each analyzer analyzed comes from its audit file.
//
// What winston-loki 6.1.7 does (src/batcher.js, src/requests.js):
// - batches every `interval` seconds (default 5; 0.2 here), one stream per label set, the line
//   the message (with the `printf` format used here; by default the message, a space and the
//   metadata as JSON);
// - any answer that is not 2xx (503 and 400 alike), or a connection error: the batch goes back
//   into the next one (unless clearOnError), onConnectionError is called, and the next push waits
//   60 s (its "circuit breaker"); close() pushes once more and ignores a failure. So a 503 loses
//   nothing while the process lives, and a 400 is pushed again, with whatever came after it, until
//   the process ends.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { agentLines, expectEachOnceByWeight, linesFile, spawnNodeApp } from "../../testkit/agents.ts";
import { Rig } from "../../testkit/faults.ts";
import { distributorStats, eventually } from "../../testkit/http.ts";
import type { Child } from "../../testkit/procs.ts";

setDefaultTimeout(60_000); // see test/setup.ts

const WEIGHTS = [1, 2, 3];
/** Lines per run: enough for the chi-square to tell a 1:2:3 split from a wrong one. */
const N = 1000;

// The app: logs every line of a JSON file, then waits: until the transport has flushed; or, with
// `go` a path, until that file exists (the test creates it once an outage is over); or, with `go`
// "a failure", until a push failed. Then it closes the transport, which pushes what it holds.
const APP = `
import { existsSync, readFileSync } from "node:fs";
import winston from "winston";
import LokiTransport from "winston-loki";

const [url, file, go, options] = process.argv.slice(1);
let failures = 0;
const sleep = () => new Promise((resolve) => setTimeout(resolve, 50));
const transport = new LokiTransport({
  host: url,
  labels: { app: "winston-loki-test" },
  interval: 0.2,
  format: winston.format.printf((info) => info.message),
  gracefulShutdown: false,
  onConnectionError: (error) => {
    failures++;
    console.log("push failed:", error.message.slice(0, 200));
  },
  ...JSON.parse(options),
});
console.log("content-type", transport.batcher.contentType);
const logger = winston.createLogger({ transports: [transport] });
for (const line of JSON.parse(readFileSync(file, "utf8"))) logger.info(line);
if (go === "a failure") while (failures === 0) await sleep();
else if (go) while (!existsSync(go)) await sleep();
else await transport.flush();
await transport.close();
console.log("closed");
`;

let rig: Rig;
const dir = mkdtempSync(join(tmpdir(), "winston-loki-"));

beforeAll(async () => {
  rig = await Rig.start(WEIGHTS, { MAX_PACKET: String(N) });
}, 60_000);

afterAll(async () => {
  await rig?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts the app logging `sent` to `url`; `go` says what it waits for before it closes (see APP). */
function startApp(url: string, sent: readonly string[], go = "", options: Record<string, unknown> = {}): Child {
  return spawnNodeApp("winston-loki app", APP, [url, linesFile(dir, sent), go, JSON.stringify(options)]);
}

async function finished(app: Child): Promise<string> {
  const code = await app.exited;
  expect(code, app.output()).toBe(0);
  expect(app.output()).toContain("closed");
  return app.output();
}

describe("winston-loki through the distributor", () => {
  test("snappy protobuf: every line delivered once, split by weight", async () => {
    const prefix = "steady winston-loki";
    const sent = agentLines(prefix, N);
    const said = await finished(startApp(rig.distributor.url, sent));
    expect(said).toContain("content-type application/x-protobuf"); // not its JSON fallback
    expect(said).not.toContain("push failed");
    await rig.settled();

    expectEachOnceByWeight("winston-loki (snappy protobuf)", rig.messagesWith(prefix), sent, WEIGHTS);
  });

  test("while every analyzer is down: 503, the batch kept; pushed again at close once they are back, every line once", async () => {
    const prefix = "outage winston-loki";
    const sent = agentLines(prefix, 200);
    const go = join(dir, "outage-over");
    await rig.faultAll({ down: true });
    let app: Child;
    try {
      await rig.untilAll(false);
      app = startApp(rig.distributor.url, sent, go);
      await app.whileRunning(eventually(() => /push failed: .*503/.test(app.output()), "a 503"));
      expect(rig.messagesWith(prefix).flat()).toEqual([]);
    } finally {
      await rig.faultAll({ down: false });
    }
    await rig.untilAll(true);
    writeFileSync(go, "");
    await finished(app);
    await rig.settled();
    const delivered = rig.messagesWith(prefix).flat();
    expect(delivered.length).toBe(sent.length);
    expect(delivered.toSorted()).toEqual(sent.toSorted());
  });

  test("a 400 (more lines in a batch than MAX_PACKET) is pushed again, never taken; with clearOnError it is dropped at once", async () => {
    const strict = await rig.anotherDistributor({ MAX_PACKET: "5" });
    try {
      const kept = await finished(startApp(strict.url, agentLines("refused kept", 10), "a failure"));
      // The push of the batch, and the last one at close: the same 10 lines, refused both times.
      expect(kept.match(/push failed: .*400.*more than MAX_PACKET \(5\)/g)).toHaveLength(2);
      expect((await distributorStats(strict.url)).invalid).toBe(2);

      const dropped = await finished(
        startApp(strict.url, agentLines("refused dropped", 10), "", { clearOnError: true }),
      );
      expect(dropped.match(/push failed: .*400/g)).toHaveLength(1);
      expect((await distributorStats(strict.url)).invalid).toBe(3);
      expect(rig.messagesWith("refused").flat()).toEqual([]);
    } finally {
      await strict.stop();
    }
  });
});
