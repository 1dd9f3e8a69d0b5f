// rsyslog 8.2302 (Debian 12's, unpacked by scripts/agents.sh) as a real client: imfile follows a
// file the test writes, omelasticsearch (bulkmode, esVersion.major="8": no _type) ships every line
// through a real distributor's /_bulk to three real analyzers. What each analyzer analyzed comes
// from its audit file (AUDIT_FILE: one JSON-encoded message per line).
//
// What omelasticsearch 8.2302 does with an answer (plugins/omelasticsearch/omelasticsearch.c at
// v8.2302.0, checkResult and parseRequestAndResponseForContext): it never looks at the HTTP status,
// only at the body.
// - A body without "items" (the distributor's JSON error of a 400) is a data error: the batch goes
//   to errorFile, counted as done, never resent.
// - A body with "items" and "errors": true: without retryfailures="on", a data error too (errorFile).
//   With retryfailures="on", every item (the 201s too) becomes a message again, its document parsed
//   back ($! the document, msg its "message", $.omes!status and $.omes!error the item's), handed to
//   the retryruleset: a ruleset that resends the 429s and 5xx with the same action retries them,
//   0.5 s apart with queue.dequeueSlowdown. That is why the distributor answers a 5xx on /_bulk with
//   a bulk reply (src/protocol/formats/bulk.ts, bulkFailure): a 503 is retried item by item.
// - rsyslog retries on its own only when the connection fails (and GETs /_cat/health to resume).
//   Upstream's 8.2606 suspends the action on a 5xx or 429 status ("omelasticsearch: suspend action
//   on 5xx or 429 HTTP status codes"); Debian 12's does not.
// What an empty line becomes: nothing; imfile skips empty lines, they never become messages.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { BulkAnswer } from "../../src/protocol/formats/bulk.ts";
import { type Agent, agentLines, expectEachOnceByWeight, requireAgents, startRsyslog } from "../../testkit/agents.ts";
import { Rig } from "../../testkit/faults.ts";
import { distributorStats, eventually } from "../../testkit/http.ts";
import type { Service } from "../../testkit/procs.ts";

setDefaultTimeout(60_000); // see test/setup.ts

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

/**
 * The omelasticsearch action every test uses; with `retry`, its failed items go to the es_retry
 * ruleset. ratelimit.interval="0": each item of a reply with errors is resubmitted through a rate
 * limiter (20000 per 600 s by default), which drops the retries of a long outage, the lines with them.
 */
function omelasticsearch(port: string, errorFile: string, retry: boolean): string {
  const settings = `server="127.0.0.1" serverport="${port}" searchIndex="rsyslog" bulkmode="on" esVersion.major="8"
    errorFile="${errorFile}"`;
  const retries = retry ? `\n    retryfailures="on" retryruleset="es_retry" ratelimit.interval="0"` : "";
  return `action(type="omelasticsearch" ${settings}${retries})`;
}

/**
 * Where the items of a reply with errors go, the delivered ones too: the 429s and 5xx are sent again
 * by the same action, a batch every 0.5 s (dequeueSlowdown) of at most 256 (a ruleset queue's default
 * 1024 is more than MAX_PACKET: a 400, and the batch lost). queue.size (default 50000) bounds how many
 * failed lines it holds.
 */
const retryRuleset = (action: string) => `ruleset(name="es_retry" queue.type="LinkedList"
    queue.dequeueBatchSize="256" queue.dequeueSlowdown="500000") {
  if $.omes!status == 429 or $.omes!status >= 500 then {
    ${action}
  }
}`;

/**
 * rsyslog shipping to the distributor at `url`, with the retry ruleset unless `retry` is false; the
 * batches it gives up on go to `<its dir>/es-errors.json`.
 */
async function rsyslog(url: string, retry = true): Promise<Agent & { errors: string }> {
  const port = new URL(url).port;
  let errors = "";
  const agent = await startRsyslog({
    modules: ["omelasticsearch"],
    action: (dir) => {
      errors = join(dir, "es-errors.json");
      return omelasticsearch(port, errors, retry);
    },
    rulesets: retry ? (dir) => retryRuleset(omelasticsearch(port, join(dir, "es-errors.json"), true)) : undefined,
  });
  agents.push(agent);
  return Object.assign(agent, { errors });
}

/** The batches rsyslog wrote to its errorFile: one JSON object a line, the request's bulk body and the reply in it. */
function givenUpBatches(file: string): { messages: string[]; reply: unknown }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const { request, reply } = JSON.parse(line) as { request: { postdata: string }; reply: unknown };
      const docs = request.postdata.split("\n").filter((_, i) => i % 2 === 1 && _ !== "");
      return { messages: docs.map((doc) => JSON.parse(doc).message as string), reply };
    });
}

/** The messages in the batches rsyslog gave up on. */
function givenUp(file: string): string[] {
  return givenUpBatches(file).flatMap((batch) => batch.messages);
}

describe("rsyslog omelasticsearch to /_bulk", () => {
  test("every line delivered once, split by weight; an empty line is never shipped", async () => {
    const prefix = "steady rsyslog";
    const sent = agentLines(prefix, N);
    const emptyBefore = rig.emptyMessages();
    const agent = await rsyslog(rig.distributor.url);
    agent.write([...sent.slice(0, 500), "", ...sent.slice(500)]);
    await agent.child.whileRunning(
      eventually(() => rig.messagesWith(prefix).flat().length >= N, `${N} lines analyzed`, POLLS),
    );
    const gaveUp = givenUp(agent.errors); // before stop() removes its folder
    await agent.stop();
    await rig.settled();

    expect(rig.emptyMessages() - emptyBefore).toBe(0);
    expect(gaveUp).toEqual([]);
    expectEachOnceByWeight("rsyslog omelasticsearch", rig.messagesWith(prefix), sent, WEIGHTS);
  });

  test("while every analyzer is down: each line's item comes back 503, the retry ruleset resends it every 0.5 s, and once the analyzers are back every line arrives exactly once", async () => {
    const prefix = "outage rsyslog";
    // More than MAX_PACKET (1000), so the retry queue's batches must stay under it.
    const during = agentLines(`${prefix} during`, 1200);
    const after = agentLines(`${prefix} after`, 20);
    const agent = await rsyslog(rig.distributor.url);
    await rig.faultAll({ down: true });
    try {
      await rig.untilAll(false);
      const rejected = (await rig.stats()).rejected;
      agent.write(during);
      // Refused twice over: sent, then resent from the retry ruleset.
      await agent.child.whileRunning(
        eventually(
          async () => (await rig.stats()).rejected >= rejected + 2 * during.length,
          "the lines refused, then resent and refused again",
          POLLS,
        ),
      );
      expect(rig.messagesWith(`${prefix} during`).flat()).toEqual([]);
    } finally {
      await rig.faultAll({ down: false });
    }
    await rig.untilAll(true);
    await agent.child.whileRunning(
      eventually(() => rig.messagesWith(`${prefix} during`).flat().length >= during.length, "the retried lines", POLLS),
    );
    agent.write(after);
    await agent.child.whileRunning(
      eventually(() => rig.messagesWith(`${prefix} after`).flat().length >= after.length, "the later lines", POLLS),
    );
    const gaveUp = givenUp(agent.errors);
    await agent.stop();
    await rig.settled();

    const delivered = rig.messagesWith(`${prefix} during`).flat();
    const duplicated = delivered.length - new Set(delivered).size;
    console.log(
      `rsyslog outage: ${during.length} lines written while down, ${delivered.length} delivered after, ${duplicated} duplicated`,
    );
    expect(delivered.toSorted()).toEqual(during.toSorted()); // each exactly once
    expect(rig.messagesWith(`${prefix} after`).flat().toSorted()).toEqual(after.toSorted());
    expect(gaveUp).toEqual([]);
  });

  test("without retryfailures the 503 batch is lost: it goes to errorFile with the reply's 503 items, never resent", async () => {
    const prefix = "noretry rsyslog";
    const during = agentLines(`${prefix} during`, 20);
    const after = agentLines(`${prefix} after`, 20);
    const agent = await rsyslog(rig.distributor.url, false);
    await rig.faultAll({ down: true });
    try {
      await rig.untilAll(false);
      const rejected = (await rig.stats()).rejected;
      agent.write(during);
      await agent.child.whileRunning(
        eventually(() => givenUp(agent.errors).length === during.length, "the refused batch in errorFile", POLLS),
      );
      expect((await rig.stats()).rejected).toBe(rejected + during.length);
    } finally {
      await rig.faultAll({ down: false });
    }
    await rig.untilAll(true);
    agent.write(after);
    await agent.child.whileRunning(
      eventually(() => rig.messagesWith(`${prefix} after`).flat().length >= after.length, "the later lines", POLLS),
    );
    const batches = givenUpBatches(agent.errors);
    await agent.stop();
    await rig.settled();

    expect(rig.messagesWith(`${prefix} during`).flat()).toEqual([]);
    expect(batches.flatMap((b) => b.messages).toSorted()).toEqual(during.toSorted());
    for (const { messages, reply } of batches) {
      const statuses = (reply as BulkAnswer).items.map((item) => item.index?.status);
      expect(statuses).toEqual(messages.map(() => 503));
    }
    expect(rig.messagesWith(`${prefix} after`).flat().toSorted()).toEqual(after.toSorted());
  });

  describe("a batch the distributor refuses with 400 (more lines than MAX_PACKET)", () => {
    let strict: Service;
    beforeAll(async () => {
      strict = await rig.anotherDistributor({ MAX_PACKET: String(STRICT_MAX_PACKET) });
    });
    afterAll(() => strict?.stop());

    test("is not retried, even with the retry ruleset (its body has no items): it goes to errorFile once, and the lines after it still go", async () => {
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
        eventually(() => rig.messagesWith(`${prefix} small`).flat().length === later.length, "the later line", POLLS),
      );
      const gaveUp = givenUp(agent.errors);
      await agent.stop();

      expect((await distributorStats(strict.url)).invalid).toBe(1);
      expect(rig.messagesWith(`${prefix} big`).flat()).toEqual([]);
      expect(gaveUp.toSorted()).toEqual(refused.toSorted());
    });
  });
});
