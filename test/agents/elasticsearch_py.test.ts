// The Python Elasticsearch client (7.17, Debian 12's python3-elasticsearch, unpacked by
// scripts/agents.sh and run by Debian's python3) as a real client: es.info() first (since 7.14 it
// refuses a server whose answers lack X-Elastic-Product: Elasticsearch), then helpers.bulk ships
// documents {"message"} to a real distributor's /_bulk, three real analyzers behind it.
//
// What it does with an answer (elasticsearch/transport.py and helpers/actions.py, 7.17):
// - 2xx: each item read; helpers.bulk raises BulkIndexError when an item failed (the distributor's
//   items all succeed or the request fails whole).
// - 502, 503, 504: the transport sends the request again, max_retries times (3 by default), then
//   raises a TransportError with the status: the application hears of it.
// - another 4xx (the 400 of more documents than MAX_PACKET): raised at once, not sent again.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  agentLines,
  DEBIAN_PYTHON,
  expectEachOnceByWeight,
  linesFile,
  PYTHON_PACKAGES,
  requireAgents,
} from "../../testkit/agents.ts";
import { Rig } from "../../testkit/faults.ts";
import { distributorStats } from "../../testkit/http.ts";
import { spawnChild } from "../../testkit/procs.ts";

setDefaultTimeout(60_000); // see test/setup.ts

const WEIGHTS = [1, 2, 3];
/** Documents per run: enough for the chi-square to tell a 1:2:3 split from a wrong one. */
const N = 1000;

// The app: checks the server, bulk-indexes the lines of a JSON file 500 to a request, prints what
// helpers.bulk returned or the error it raised.
const APP = `
import json, sys
from elasticsearch import Elasticsearch, helpers
from elasticsearch.exceptions import TransportError

es = Elasticsearch(sys.argv[1])
print("server", es.info()["version"]["number"], flush=True)
lines = json.load(open(sys.argv[2], encoding="utf-8"))
docs = ({"_op_type": "create", "_index": "py-logs", "_source": {"message": m}} for m in lines)
try:
    ok, errors = helpers.bulk(es, docs, chunk_size=500)
    print("bulk", ok, len(errors), flush=True)
except TransportError as e:
    print("raised", type(e).__name__, e.status_code, flush=True)
`;

let rig: Rig;
const dir = mkdtempSync(join(tmpdir(), "es-py-"));

beforeAll(async () => {
  requireAgents();
  rig = await Rig.start(WEIGHTS);
}, 60_000);

afterAll(async () => {
  await rig?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the app once against `url` with `sent`; resolves with what it printed. */
async function runApp(url: string, sent: readonly string[]): Promise<string> {
  const app = spawnChild("python es app", [DEBIAN_PYTHON, "-c", APP, url, linesFile(dir, sent)], {
    env: { PYTHONPATH: PYTHON_PACKAGES },
  });
  const code = await app.exited;
  expect(code, app.output()).toBe(0);
  return app.output();
}

describe("the Python Elasticsearch client's helpers.bulk through the distributor's /_bulk", () => {
  test("the server check passes; every document delivered once, split by weight", async () => {
    const prefix = "steady es-py";
    const sent = agentLines(prefix, N);
    const said = await runApp(rig.distributor.url, sent);
    expect(said).toContain("server 8.19.0");
    expect(said).toContain(`bulk ${N} 0`);
    await rig.settled();
    expectEachOnceByWeight("Elasticsearch Python client helpers.bulk", rig.messagesWith(prefix), sent, WEIGHTS);
  });

  test("while every analyzer is down: 503, sent again 3 times, then raised", async () => {
    await rig.faultAll({ down: true });
    await rig.untilAll(false);
    try {
      const rejected = (await rig.stats()).rejected;
      const said = await runApp(rig.distributor.url, agentLines("outage es-py", 50));
      expect(said).toContain("raised TransportError 503");
      expect((await rig.stats()).rejected - rejected).toBe(4 * 50); // the request and its 3 retries
      expect(rig.messagesWith("outage es-py").flat()).toEqual([]);
    } finally {
      await rig.faultAll({ down: false });
    }
  });

  test("a 400 (more documents in a request than MAX_PACKET) is raised at once, not sent again", async () => {
    const strict = await rig.anotherDistributor({ MAX_PACKET: "5" });
    try {
      const said = await runApp(strict.url, agentLines("too many es-py", 10)); // one request of 10
      expect(said).toMatch(/raised \w+Error 400/);
      expect((await distributorStats(strict.url)).invalid).toBe(1);
      expect(rig.messagesWith("too many es-py").flat()).toEqual([]);
    } finally {
      await strict.stop();
    }
  });
});
