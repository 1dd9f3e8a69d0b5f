// The bench's premise for HAProxy and nginx: they hand each request body to one analyzer whole, so
// the analyzers themselves must take every body the bench sends and count each log in it.

import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { AnalyzerCluster } from "./analyzers.ts";
import { BODY_KINDS, benchBody } from "./bodies.ts";

setDefaultTimeout(60_000); // see test/setup.ts

let cluster: AnalyzerCluster;
beforeAll(async () => {
  cluster = await AnalyzerCluster.start();
});
afterAll(() => cluster?.stop());

test.each(BODY_KINDS)("an analyzer takes the %s body whole and counts every log in it", async (kind) => {
  const { body, contentType, logs } = benchBody(kind);
  const before = await cluster.countersOf(1);
  const res = await fetch(`${cluster.analyzers[1]!.url}/analyze`, {
    method: "POST",
    headers: { "content-type": contentType },
    body,
  });
  expect({ status: res.status, body: res.ok ? "" : await res.text() }).toEqual({ status: 200, body: "" });
  await res.arrayBuffer();
  const after = await cluster.countersOf(1);
  expect({ processed: after.processed - before.processed, requests: after.requests - before.requests }).toEqual({
    processed: logs,
    requests: 1,
  });
});

test("the cluster reads every analyzer's counters in order, with the weights 1, 2, 3", async () => {
  expect(cluster.analyzers.map((a) => [a.id, a.weight])).toEqual([
    ["a1", 1],
    ["a2", 2],
    ["a3", 3],
  ]);
  const counters = await cluster.counters();
  expect(counters).toHaveLength(3);
  for (const c of counters) expect(c).toEqual({ processed: expect.any(Number), requests: expect.any(Number) });
});
