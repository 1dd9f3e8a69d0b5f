// /metrics parses as Prometheus text and agrees with /stats; weights change at run time.

import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { ErrorBody } from "../src/protocol/error.ts";
import type { AnalyzerChanged, AnalyzerList, DistributorStats } from "../src/protocol/stats.ts";
import { type Cluster, startCluster } from "../testkit/cluster.ts";
import { getJson, postJson } from "../testkit/http.ts";
import { stopAll } from "../testkit/procs.ts";
import { fitsWeights } from "../testkit/shares.ts";

setDefaultTimeout(60_000); // see test/setup.ts

afterAll(stopAll);

type Sample = { name: string; labels: Record<string, string>; value: number };

/** A strict parser for the text format: every line a comment, blank, or `name{labels} value`. */
function parseExposition(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1], type[2]);
      continue;
    }
    if (/^# HELP [a-zA-Z_:][a-zA-Z0-9_:]* .+$/.test(line)) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+]+|\+Inf|NaN)$/.exec(line);
    if (!m) throw new Error(`not a valid exposition line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/g)) labels[l[1]] = l[2];
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return { samples, types };
}

const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

let cluster: Cluster;
const admin = { authorization: "Bearer adm1n" };

async function send(n: number) {
  for (let i = 0; i < n / 50; i++) {
    const res = await postJson(`${cluster.distributor.url}/analyze`, {
      logs: Array.from({ length: 50 }, (_, j) => `INFO message ${i * 50 + j}`),
    });
    expect(res.status).toBe(200);
  }
}

describe("observability", () => {
  test("/metrics parses and agrees with /stats", async () => {
    cluster = await startCluster([1, 2, 3], { ADMIN_TOKEN: "adm1n" });
    await send(3000);
    await postJson(`${cluster.distributor.url}/analyze`, { nope: 1 });
    const res = await fetch(`${cluster.distributor.url}/metrics`);
    expect(res.headers.get("content-type")).toContain("text/plain; version=0.0.4");
    const { samples, types } = parseExposition(await res.text());
    const stats = await getJson<DistributorStats>(`${cluster.distributor.url}/stats`);

    expect(types.get("distributor_messages_delivered_total")).toBe("counter");
    expect(types.get("distributor_request_duration_seconds")).toBe("histogram");
    expect(value(samples, "distributor_messages_received_total")).toBe(3000);
    expect(value(samples, "distributor_requests_invalid_total")).toBe(1);
    for (const a of stats.analyzers) {
      expect(value(samples, "distributor_messages_delivered_total", { analyzer: a.id })).toBe(a.delivered);
      expect(value(samples, "distributor_analyzer_up", { analyzer: a.id })).toBe(1);
      expect(value(samples, "distributor_analyzer_weight", { analyzer: a.id })).toBe(a.weight);
      const count = value(samples, "distributor_upstream_request_duration_seconds_count", { analyzer: a.id })!;
      expect(
        value(samples, "distributor_upstream_request_duration_seconds_bucket", { analyzer: a.id, le: "+Inf" }),
      ).toBe(count);
      expect(count).toBeGreaterThan(0);
    }
    // 60 packets + 1 bad request were timed
    expect(value(samples, "distributor_request_duration_seconds_count")).toBe(61);
    expect(value(samples, "distributor_queue_capacity")).toBe(stats.queue.capacity);

    const analyzerMetrics = parseExposition(await (await fetch(`${cluster.analyzers[0].url}/metrics`)).text());
    expect(value(analyzerMetrics.samples, "analyzer_messages_processed_total", { analyzer: "a1" })).toBe(
      stats.analyzers[0].delivered,
    );
    expect(value(analyzerMetrics.samples, "analyzer_messages_by_level_total", { analyzer: "a1", level: "INFO" })).toBe(
      stats.analyzers[0].delivered,
    );
  });

  test("admin endpoints require the admin token", async () => {
    const list = await fetch(`${cluster.distributor.url}/admin/analyzers`);
    expect(list.status).toBe(401);
    expect(list.headers.get("www-authenticate")).toBe("Bearer");
    const put = await fetch(`${cluster.distributor.url}/admin/analyzers/a1`, {
      method: "PUT",
      body: '{"weight": 0}',
      headers: { authorization: "Bearer wrong" },
    });
    expect(put.status).toBe(401);
  });

  test.each([
    ['{"weight": -1}', 400, /weight must be >= 0/],
    ['{"weight": "2"}', 400, /weight must be a number/],
    ['{"weight": 1, "x": 2}', 400, /unknown field/],
    ["not json", 400, /must be JSON/],
  ])("a bad weight change %s gets %i", async (body, status, message) => {
    const res = await fetch(`${cluster.distributor.url}/admin/analyzers/a1`, { method: "PUT", body, headers: admin });
    expect(res.status).toBe(status);
    expect(((await res.json()) as ErrorBody).error).toMatch(message);
  });

  test("an unknown analyzer is a 404 that lists the known ones", async () => {
    const res = await fetch(`${cluster.distributor.url}/admin/analyzers/zz`, {
      method: "PUT",
      body: '{"weight": 1}',
      headers: admin,
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as ErrorBody).error).toContain("known: a1, a2, a3");
  });

  test("weight 0 drains an analyzer at once; a new weight shows in /stats and /metrics and the shares follow it", async () => {
    const drain = await fetch(`${cluster.distributor.url}/admin/analyzers/a3`, {
      method: "PUT",
      body: '{"weight": 0}',
      headers: admin,
    });
    expect(drain.status).toBe(200);
    expect(((await drain.json()) as AnalyzerChanged).analyzer.weight).toBe(0);
    const before = await getJson<DistributorStats>(`${cluster.distributor.url}/stats`);
    await send(1000);
    const mid = await getJson<DistributorStats>(`${cluster.distributor.url}/stats`);
    expect(mid.analyzers[2].delivered).toBe(before.analyzers[2].delivered);

    // Now 1:4:0, addressed by URL this time.
    const url = encodeURIComponent(cluster.analyzers[1].url);
    expect(
      (
        await fetch(`${cluster.distributor.url}/admin/analyzers/${url}`, {
          method: "PUT",
          body: '{"weight": 4}',
          headers: admin,
        })
      ).status,
    ).toBe(200);
    const listed = await getJson<AnalyzerList>(`${cluster.distributor.url}/admin/analyzers`, admin);
    expect(listed.analyzers.map((a) => a.weight)).toEqual([1, 4, 0]);
    await send(5000);
    const after = await getJson<DistributorStats>(`${cluster.distributor.url}/stats`);
    const d = after.analyzers.map((a, i) => a.delivered - mid.analyzers[i].delivered);
    expect(d[2]).toBe(0);
    expect(fitsWeights(d.slice(0, 2), [1, 4])).toMatchObject({ ok: true });
    const { samples } = parseExposition(await (await fetch(`${cluster.distributor.url}/metrics`)).text());
    expect(value(samples, "distributor_analyzer_weight", { analyzer: "a2" })).toBe(4);
    expect(after.analyzers[1].weight).toBe(4);
  });
});
