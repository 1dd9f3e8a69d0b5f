// winston 3.19's Http transport as a real client, in this process: a logger whose transport POSTs
// to a real distributor's /analyze, three real analyzers behind it. What each analyzer analyzed
// comes from its audit file (AUDIT_FILE: one JSON-encoded message per line).
//
// What the transport sends and does (winston/lib/winston/transports/http.js, 3.19.0):
// - one log: a JSON object, {"level":"info","message":"…"} plus the log's metadata; batch: true
//   sends a JSON array of them (batchCount at most, or what batchInterval gathered);
//   Content-Type: application/json either way.
// - an answer other than 200 (a 202 too), or a connection error: it emits "warn" on the transport
//   with the error ("Invalid HTTP Status Code: 503") and never sends the log again. So a 503 loses
//   the log, as a 400 does; a 202 (Prefer: respond-async) is reported as a failure although the
//   distributor took the log. With batch: true only the batch's first log is told either way.
// What an empty line becomes: logger.info("") sends {"level":"info","message":""}, analyzed as "".

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import winston from "winston";
import { agentLines, expectEachOnceByWeight } from "../../testkit/agents.ts";
import { Rig } from "../../testkit/faults.ts";
import { distributorStats, eventually } from "../../testkit/http.ts";
import type { Service } from "../../testkit/procs.ts";

setDefaultTimeout(60_000); // see test/setup.ts

const WEIGHTS = [1, 2, 3];
/** Lines per run: enough for the chi-square to tell a 1:2:3 split from a wrong one. */
const N = 1000;
/** 50 ms polls: 60 s at most for the transport to ship what it was given. */
const POLLS = 1200;
/** A batch the distributor refuses with 400 (MAX_PACKET below it). */
const STRICT_MAX_PACKET = 5;

type HttpOptions = ConstructorParameters<typeof winston.transports.Http>[0];

let rig: Rig;

beforeAll(async () => {
  rig = await Rig.start(WEIGHTS);
}, 60_000);

afterAll(() => rig?.stop());

/** A logger with one Http transport to the distributor at `url`, and what the transport reported. */
function httpLogger(url: string, options: HttpOptions = {}) {
  const { hostname, port } = new URL(url);
  const transport = new winston.transports.Http({ host: hostname, port: Number(port), path: "/analyze", ...options });
  const logged: unknown[] = [];
  const warned: Error[] = [];
  transport.on("logged", (info) => logged.push(info));
  transport.on("warn", (error: Error) => warned.push(error));
  const logger = winston.createLogger({ level: "info", transports: [transport] });
  return { logger, logged, warned, reported: () => logged.length + warned.length };
}

describe("winston's Http transport to /analyze", () => {
  const modes: [string, HttpOptions][] = [
    ["one request per log", {}],
    ["batch: true, 100 a request", { batch: true, batchCount: 100, batchInterval: 100 }],
  ];
  test.each(modes)(
    '%s: every line delivered once, split by weight; an empty line analyzed as ""',
    async (_, options) => {
      const prefix = `steady winston ${options?.batch ? "batch" : "single"}`;
      const sent = agentLines(prefix, N);
      const emptyBefore = rig.emptyMessages();
      const { logger, warned } = httpLogger(rig.distributor.url, options);
      for (const line of [...sent.slice(0, 500), "", ...sent.slice(500)]) logger.info(line);
      await eventually(
        () => rig.messagesWith(prefix).flat().length >= N && rig.emptyMessages() > emptyBefore,
        "every line analyzed",
        POLLS,
      );
      logger.close();
      await rig.settled();

      expect(rig.emptyMessages() - emptyBefore).toBe(1);
      expect(warned).toEqual([]);
      expectEachOnceByWeight(prefix.slice("steady ".length), rig.messagesWith(prefix), sent, WEIGHTS);
    },
  );

  test("while every analyzer is down the distributor answers 503: winston warns once a log and never resends it; logs after the outage arrive", async () => {
    const prefix = "outage winston";
    const during = agentLines(`${prefix} during`, 20);
    const after = agentLines(`${prefix} after`, 20);
    const { logger, warned, reported } = httpLogger(rig.distributor.url);
    await rig.faultAll({ down: true });
    try {
      await rig.untilAll(false);
      const rejected = (await rig.stats()).rejected;
      for (const line of during) logger.info(line);
      await eventually(() => reported() === during.length, "every log answered", POLLS);
      expect(warned.map((e) => e.message)).toEqual(during.map(() => "Invalid HTTP Status Code: 503"));
      expect((await rig.stats()).rejected).toBe(rejected + during.length); // each sent once
    } finally {
      await rig.faultAll({ down: false });
    }
    await rig.untilAll(true);
    for (const line of after) logger.info(line);
    await eventually(() => reported() === during.length + after.length, "every later log answered", POLLS);
    logger.close();
    await rig.settled();

    expect(rig.messagesWith(`${prefix} during`).flat()).toEqual([]);
    expect(rig.messagesWith(`${prefix} after`).flat().toSorted()).toEqual(after.toSorted());
    expect(warned).toHaveLength(during.length);
  });

  describe("a batch the distributor refuses with 400 (more logs than MAX_PACKET)", () => {
    let strict: Service;
    beforeAll(async () => {
      strict = await rig.anotherDistributor({ MAX_PACKET: String(STRICT_MAX_PACKET) });
    });
    afterAll(() => strict?.stop());

    test("is not retried: one warn, and the logs after it still go", async () => {
      const prefix = "refused winston";
      const refused = agentLines(`${prefix} big`, 2 * STRICT_MAX_PACKET);
      const later = agentLines(`${prefix} small`, 1);
      const batchCount = 2 * STRICT_MAX_PACKET;
      const { logger, warned, reported } = httpLogger(strict.url, { batch: true, batchCount, batchInterval: 100 });
      for (const line of refused) logger.info(line); // the 10th sends the batch
      await eventually(() => reported() === 1, "the batch answered", POLLS);
      expect(warned.map((e) => e.message)).toEqual(["Invalid HTTP Status Code: 400"]);
      for (const line of later) logger.info(line); // sent after batchInterval
      await eventually(
        () => rig.messagesWith(`${prefix} small`).flat().length === later.length,
        "the later log",
        POLLS,
      );
      logger.close();

      expect((await distributorStats(strict.url)).invalid).toBe(1);
      expect(rig.messagesWith(`${prefix} big`).flat()).toEqual([]);
    });
  });
});
