// syslog-ng 3.38 (Debian 12's, unpacked by scripts/agents.sh) as a real client: it follows a file
// the test writes and ships every line through a real distributor to three real analyzers, with
// its http() destination to POST /analyze and its elasticsearch-http() SCL destination to /_bulk.
// What each analyzer analyzed comes from its audit file (AUDIT_FILE: one JSON-encoded message per line).
//
// What syslog-ng does with an answer (modules/http/http-worker.c, 3.38.1), the same for both
// destinations since elasticsearch-http() is http() underneath:
// - 2xx: delivered. It reads no body, so a _bulk item refused inside a 200 is gone.
// - 503 (any 5xx but 504 and 508) and most 4xx, 400 included: "not connected"; it keeps the batch,
//   waits time-reopen() (default 60 s; 1 s here) and sends it again, forever. A 400 would so block
//   the destination for good: response-action(400 => drop) drops the refused batch instead.
// - 504: an error, retried retries() times (default 3) and then dropped.
// What an empty line becomes: with flags(empty-lines) it is a message with an empty $MSG. http()
// sends it as {"message": ""} (format-json keeps a key set explicitly), which the analyzers
// analyze as ""; elasticsearch-http()'s template leaves an empty MESSAGE out, so the document has
// no message and /_bulk refuses that one item (400 inside a 200 answer): nothing to analyze.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  type Agent,
  agentLines,
  expectEachOnceByWeight,
  requireAgents,
  shipped,
  startSyslogNg,
} from "../../testkit/agents.ts";
import { Rig } from "../../testkit/faults.ts";
import { distributorStats, eventually } from "../../testkit/http.ts";
import type { Service } from "../../testkit/procs.ts";

setDefaultTimeout(60_000); // see test/setup.ts

const WEIGHTS = [1, 2, 3];
/** Lines per run: enough for the chi-square to tell a 1:2:3 split from a wrong one. */
const N = 1000;
/** 50 ms polls: 60 s at most for an agent to ship what it was given. */
const POLLS = 1200;
/** A batch the distributor refuses with 400 (MAX_PACKET below it), and one it takes. */
const STRICT_MAX_PACKET = 5;
const DROP_400 = "response-action(400 => drop)";

type Destination = {
  name: string;
  /** The destination driver, sending to the distributor at `url`. */
  driver: (url: string, batch: { lines: number; timeoutMs: number }, extra?: string) => string;
  /** How many "" messages the analyzers get for an empty line. */
  empties: number;
};

// Both batch; a refused batch is dropped, not retried forever (see the top of this file).
const DESTINATIONS: Destination[] = [
  {
    name: "http() to /analyze",
    driver: (url, batch, extra = DROP_400) =>
      `http(url("${url}/analyze") method("POST") batch-lines(${batch.lines}) batch-timeout(${batch.timeoutMs})
        body("$(format-json time=$ISODATE host=$HOST level=$LEVEL message=$MSG)") ${extra})`,
    empties: 1,
  },
  {
    // What docs/agents.md suggests for an agent that reads only the status: answers without analyses.
    name: "http() to /analyze with Prefer: return=minimal",
    driver: (url, batch, extra = DROP_400) =>
      `http(url("${url}/analyze") method("POST") batch-lines(${batch.lines}) batch-timeout(${batch.timeoutMs})
        headers("Prefer: return=minimal")
        body("$(format-json time=$ISODATE host=$HOST level=$LEVEL message=$MSG)") ${extra})`,
    empties: 1,
  },
  {
    name: "elasticsearch-http() to /_bulk",
    driver: (url, batch, extra = DROP_400) =>
      `elasticsearch-http(url("${url}/_bulk") index("syslog-ng") type("")
        batch-lines(${batch.lines}) batch-timeout(${batch.timeoutMs}) ${extra})`,
    empties: 0,
  },
];

const STEADY = { lines: 100, timeoutMs: 100 };

let rig: Rig;
const agents: Agent[] = [];
const services: Service[] = [];

beforeAll(async () => {
  requireAgents();
  rig = await Rig.start(WEIGHTS);
}, 60_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await rig?.stop();
});

async function syslogNg(destination: string): Promise<Agent> {
  const agent = await startSyslogNg({ destination, options: "time-reopen(1);" });
  agents.push(agent);
  return agent;
}

describe.each(DESTINATIONS.map((d) => [d.name, d] as const))("syslog-ng %s", (name, destination) => {
  test("every line delivered once, split by weight; an empty line as the top of this file says", async () => {
    const prefix = `steady ${name}`;
    const sent = agentLines(prefix, N);
    const emptyBefore = rig.emptyMessages();
    const agent = await syslogNg(destination.driver(rig.distributor.url, STEADY));
    agent.write([...sent.slice(0, 500), "", ...sent.slice(500)]);
    await shipped(rig, agent, prefix, N);

    expect(rig.emptyMessages() - emptyBefore).toBe(destination.empties);
    expectEachOnceByWeight(`syslog-ng ${name}`, rig.messagesWith(prefix), sent, WEIGHTS);
  });

  test("while every analyzer is down the distributor answers 503; syslog-ng retries and all arrive once they are back", async () => {
    const prefix = `outage ${name}`;
    const sent = agentLines(prefix, 200);
    await rig.faultAll({ down: true });
    try {
      await rig.untilAll(false);
      const rejected = (await rig.stats()).rejected;
      const agent = await syslogNg(destination.driver(rig.distributor.url, STEADY));
      agent.write(sent);
      await eventually(async () => (await rig.stats()).rejected > rejected, "a 503 answered", POLLS);
      expect(rig.messagesWith(prefix).flat()).toEqual([]);
      await rig.faultAll({ down: false });
      await shipped(rig, agent, prefix, sent.length);
      expect(agent.output()).toMatch(/status_code='503'/);
    } finally {
      await rig.faultAll({ down: false });
    }
    const delivered = rig.messagesWith(prefix).flat();
    expect(delivered.length).toBe(sent.length);
    expect(delivered.toSorted()).toEqual(sent.toSorted());
  });

  describe("a batch the distributor refuses with 400 (more lines than MAX_PACKET)", () => {
    let strict: Service;
    beforeAll(async () => {
      strict = await rig.anotherDistributor({ MAX_PACKET: String(STRICT_MAX_PACKET) });
      services.push(strict);
    });
    afterAll(() => strict?.stop());

    // A batch is whatever lines wait when batch-timeout() ends: the refused 10 are written at once,
    // for one worker (elasticsearch-http() has 4 by default, each with a batch of its own).
    const batch = { lines: 2 * STRICT_MAX_PACKET, timeoutMs: 1000 };

    test("with response-action(400 => drop): dropped once, not retried, and the lines after it still go", async () => {
      const prefix = `refused ${name}`;
      const refused = agentLines(`${prefix} big`, 2 * STRICT_MAX_PACKET);
      const later = agentLines(`${prefix} small`, 3);
      const agent = await syslogNg(destination.driver(strict.url, batch, `workers(1) ${DROP_400}`));
      agent.write(refused);
      await eventually(async () => (await distributorStats(strict.url)).invalid >= 1, "the 400", POLLS);
      agent.write(later);
      await agent.child.whileRunning(
        eventually(() => rig.messagesWith(`${prefix} small`).flat().length === later.length, "the later lines", POLLS),
      );
      await agent.stop();

      expect((await distributorStats(strict.url)).invalid).toBe(1);
      expect(rig.messagesWith(`${prefix} big`).flat()).toEqual([]);
      expect(rig.messagesWith(`${prefix} small`).flat().toSorted()).toEqual(later.toSorted());
      expect(agent.output()).toMatch(/action='drop'.*status_code='400'/);
    });

    test("by default: it sends the refused batch again every time-reopen(), forever", async () => {
      const prefix = `refused forever ${name}`;
      const agent = await syslogNg(destination.driver(strict.url, batch, "workers(1)"));
      const invalid = (await distributorStats(strict.url)).invalid;
      agent.write(agentLines(prefix, 2 * STRICT_MAX_PACKET));
      await agent.child.whileRunning(
        eventually(
          async () => (await distributorStats(strict.url)).invalid >= invalid + 3,
          "the same batch refused 3 times",
          POLLS,
        ),
      );
      await agent.stop();
      expect(rig.messagesWith(prefix).flat()).toEqual([]);
      expect(agent.output()).toMatch(/status_code='400'/);
    });
  });
});
