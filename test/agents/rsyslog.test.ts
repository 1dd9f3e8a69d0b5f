// rsyslog 8.2302 (Debian 12's, unpacked by scripts/agents.sh) as a real client: imfile follows a
// file the test writes, omelasticsearch (bulkmode, esVersion.major="8": no _type) ships every line
// through a real distributor's /_bulk to three real analyzers. What each analyzer analyzed comes
// from its audit file (AUDIT_FILE: one JSON-encoded message per line).
//
// What omelasticsearch 8.2302 does with an answer (plugins/omelasticsearch/omelasticsearch.c at
// v8.2302.0, curlPost and checkResult): it never looks at the HTTP status, only at the body.
// - A body with "items": each item's status; without retryfailures="on", any item not 2xx makes the
//   batch a data error. A data error is written to errorFile and counted as done: never resent.
// - Any other body (the distributor's JSON error with a 503 or a 400) is a data error too: the batch
//   goes to errorFile and is not retried. So a 503 loses the batch, as a 400 does; rsyslog only
//   retries when the connection fails (and GETs /_cat/health before it resumes). Upstream fixed
//   this in 8.2606 ("omelasticsearch: suspend action on 5xx or 429 HTTP status codes").
// What an empty line becomes: nothing; imfile skips empty lines, they never become messages.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { DistributorStats } from "../../src/protocol/stats.ts";
import {
  type Agent,
  agentLines,
  auditedMessages,
  requireAgents,
  shareLine,
  startRsyslog,
} from "../../testkit/agents.ts";
import { Rig } from "../../testkit/faults.ts";
import { eventually, getJson } from "../../testkit/http.ts";
import { type Service, spawnService } from "../../testkit/procs.ts";
import { fitsWeights } from "../../testkit/shares.ts";

const WEIGHTS = [1, 2, 3];
/** Lines per run: enough for the chi-square to tell a 1:2:3 split from a wrong one. */
const N = 1000;
/** 50 ms polls: 60 s at most for an agent to ship what it was given. */
const POLLS = 1200;
/** A batch the distributor refuses with 400 (MAX_PACKET below it). */
const STRICT_MAX_PACKET = 5;

let rig: Rig;
const agents: Agent[] = [];

beforeAll(async () => {
  requireAgents();
  rig = await Rig.start(WEIGHTS);
}, 60_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await rig?.stop();
});

/** rsyslog shipping to the distributor at `url`; the batches it gives up on go to `<its dir>/es-errors.json`. */
async function rsyslog(url: string): Promise<Agent & { errors: string }> {
  const port = new URL(url).port;
  let errors = "";
  const agent = await startRsyslog({
    modules: ["omelasticsearch"],
    action: (dir) => {
      errors = join(dir, "es-errors.json");
      return `action(type="omelasticsearch" server="127.0.0.1" serverport="${port}" searchIndex="rsyslog"
        bulkmode="on" esVersion.major="8" errorFile="${errors}")`;
    },
  });
  agents.push(agent);
  return Object.assign(agent, { errors });
}

/** The messages in the batches rsyslog wrote to its errorFile: one JSON object a line, the request's bulk body in it. */
function givenUp(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .flatMap((line) => {
      const body: string = JSON.parse(line).request.postdata;
      const docs = body.split("\n").filter((_, i) => i % 2 === 1 && _ !== "");
      return docs.map((doc) => JSON.parse(doc).message as string);
    });
}

function stats(url = rig.distributor.url): Promise<DistributorStats> {
  return getJson<DistributorStats>(`${url}/stats`);
}

function audited(): string[][] {
  return auditedMessages(rig.dir, WEIGHTS.length);
}

function withPrefix(prefix: string): string[][] {
  return audited().map((messages) => messages.filter((m) => m.startsWith(`${prefix} `)));
}

function empties(): number {
  return audited()
    .flat()
    .filter((m) => m === "").length;
}

describe("rsyslog omelasticsearch to /_bulk", () => {
  test("every line delivered once, split by weight; an empty line is never shipped", async () => {
    const prefix = "steady rsyslog";
    const sent = agentLines(prefix, N);
    const emptyBefore = empties();
    const agent = await rsyslog(rig.distributor.url);
    agent.write([...sent.slice(0, 500), "", ...sent.slice(500)]);
    await agent.child.whileRunning(
      eventually(() => withPrefix(prefix).flat().length >= N, `${N} lines analyzed`, POLLS),
    );
    const gaveUp = givenUp(agent.errors); // before stop() removes its folder
    await agent.stop();
    await rig.settled();

    const perAnalyzer = withPrefix(prefix);
    const delivered = perAnalyzer.flat();
    expect(delivered.length).toBe(N); // no duplicates
    expect(delivered.toSorted()).toEqual(sent.toSorted()); // nothing lost, nothing changed
    expect(empties() - emptyBefore).toBe(0);
    expect(gaveUp).toEqual([]);
    const counts = perAnalyzer.map((m) => m.length);
    const fit = fitsWeights(counts, WEIGHTS);
    // The figures the closing note asks for, per agent.
    console.log(shareLine("rsyslog omelasticsearch", N, delivered, counts, fit.pValue));
    expect(fit.ok, `counts ${counts} for weights ${WEIGHTS}: p = ${fit.pValue}`).toBe(true);
  });

  test("while every analyzer is down the distributor answers 503: rsyslog 8.2302 does not retry, the batch goes to its errorFile; lines after the outage arrive", async () => {
    const prefix = "outage rsyslog";
    const during = agentLines(`${prefix} during`, 20);
    const after = agentLines(`${prefix} after`, 20);
    const agent = await rsyslog(rig.distributor.url);
    await Promise.all(rig.analyzers.map((_, i) => rig.fault(i, { down: true })));
    try {
      await eventually(async () => (await stats()).analyzers.every((a) => !a.healthy), "every analyzer marked down");
      const rejected = (await stats()).rejected;
      agent.write(during);
      await agent.child.whileRunning(
        eventually(() => givenUp(agent.errors).length === during.length, "the refused batch in errorFile", POLLS),
      );
      expect((await stats()).rejected).toBe(rejected + during.length);
    } finally {
      await Promise.all(rig.analyzers.map((_, i) => rig.fault(i, { down: false })));
    }
    await eventually(async () => (await stats()).analyzers.every((a) => a.healthy), "every analyzer back");
    agent.write(after);
    await agent.child.whileRunning(
      eventually(() => withPrefix(`${prefix} after`).flat().length >= after.length, "the later lines", POLLS),
    );
    const gaveUp = givenUp(agent.errors);
    await agent.stop();
    await rig.settled();

    expect(withPrefix(`${prefix} during`).flat()).toEqual([]);
    expect(gaveUp.toSorted()).toEqual(during.toSorted());
    expect(withPrefix(`${prefix} after`).flat().toSorted()).toEqual(after.toSorted());
    expect(agent.output()).toMatch(/bulkmode insert does not return array/);
  });

  describe("a batch the distributor refuses with 400 (more lines than MAX_PACKET)", () => {
    let strict: Service;
    beforeAll(async () => {
      strict = await spawnService("distributor.ts", {
        ANALYZERS: rig.analyzers.map((a) => a.url).join(","),
        DISTRIBUTION_WEIGHTS: WEIGHTS.join(","),
        MAX_PACKET: String(STRICT_MAX_PACKET),
      });
    });
    afterAll(() => strict?.stop());

    test("is not retried: it goes to errorFile once, and the lines after it still go", async () => {
      const prefix = "refused rsyslog";
      // Written at once, imfile hands them to omelasticsearch as one batch, one bulk request.
      const refused = agentLines(`${prefix} big`, 2 * STRICT_MAX_PACKET);
      const later = agentLines(`${prefix} small`, 1);
      const agent = await rsyslog(strict.url);
      agent.write(refused);
      await agent.child.whileRunning(
        eventually(() => givenUp(agent.errors).length === refused.length, "the refused batch in errorFile", POLLS),
      );
      agent.write(later);
      await agent.child.whileRunning(
        eventually(() => withPrefix(`${prefix} small`).flat().length === later.length, "the later line", POLLS),
      );
      const gaveUp = givenUp(agent.errors);
      await agent.stop();

      expect((await stats(strict.url)).invalid).toBe(1);
      expect(withPrefix(`${prefix} big`).flat()).toEqual([]);
      expect(gaveUp.toSorted()).toEqual(refused.toSorted());
    });
  });
});
