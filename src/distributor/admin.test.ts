// The admin API in-process (app.request), over a real Balancer: listing the analyzers and changing
// one's weight at run time, with the picks following at once. The gate in front of it (ADMIN_TOKEN,
// ADMIN_LOOPBACK) is tested in src/http/control.test.ts and test/control.test.ts.

import { describe, expect, test } from "bun:test";
import { z } from "zod";
import { createJsonApp } from "../http/app.ts";
import { chiSquare, expectedCounts } from "../math/chisquare.ts";
import { seededRandom } from "../math/random.ts";
import type { ErrorBody } from "../protocol/error.ts";
import {
  type AnalyzerChanged,
  type AnalyzerList,
  AnalyzerStatsEntry,
  type GroupChanged,
  type GroupList,
  GroupStatsEntry,
} from "../protocol/stats.ts";
import { registerAdmin } from "./admin.ts";
import { Balancer } from "./balancer.ts";
import { describeAnalyzers } from "./stats.ts";
import { createUpstream } from "./upstream.ts";

const URLS = ["http://127.0.0.1:5001", "http://127.0.0.1:5002", "http://127.0.0.1:5003"];

function rig() {
  const upstreams = URLS.map((url) => createUpstream(url, 1));
  const balancer = new Balancer(upstreams, { random: seededRandom(3) });
  upstreams.forEach((u, i) => {
    balancer.setHealthy(u, true, "startup");
    balancer.learnId(u, `a${i + 1}`);
  });
  const app = createJsonApp();
  registerAdmin(app, { balancer });
  const put = (analyzer: string, body: string, headers: Record<string, string> = {}) =>
    app.request(`/admin/analyzers/${analyzer}`, { method: "PUT", body, headers });
  /** How `n` seeded picks fall over the analyzers, in their order. */
  const picks = (n: number) => {
    const counts = balancer.upstreams.map(() => 0);
    for (let i = 0; i < n; i++) counts[balancer.upstreams.indexOf(balancer.pick()!)]++;
    return counts;
  };
  return { app, balancer, upstreams, put, picks };
}

const errorOf = async (res: Response) => ((await res.json()) as ErrorBody).error;

describe("GET /admin/analyzers", () => {
  test("lists every analyzer, in order, as /stats describes it", async () => {
    const { app, balancer, upstreams } = rig();
    balancer.setHealthy(upstreams[1], false, "connection refused");
    const res = await app.request("/admin/analyzers");
    expect(res.status).toBe(200);
    const body = (await res.json()) as AnalyzerList;
    expect(z.strictObject({ analyzers: z.array(AnalyzerStatsEntry.strict()) }).parse(body)).toEqual(body);
    expect(body.analyzers).toEqual(describeAnalyzers(balancer));
    expect(body.analyzers.map((a) => [a.id, a.url, a.healthy, a.effectiveWeight, a.lastError])).toEqual([
      ["a1", URLS[0], true, 1, null],
      ["a2", URLS[1], false, 0, "connection refused"],
      ["a3", URLS[2], true, 1, null],
    ]);
  });
});

describe("PUT /admin/analyzers/<id or url>", () => {
  test.each([
    ["its id", "a2"],
    ["its url", encodeURIComponent(URLS[1])],
  ])("addressed by %s, takes the new weight at once: the next picks follow it", async (_, key) => {
    const { put, picks, upstreams } = rig();
    const res = await put(key, '{"weight": 4}');
    expect(res.status).toBe(200);
    const { analyzer } = (await res.json()) as AnalyzerChanged;
    expect(analyzer).toMatchObject({ id: "a2", url: URLS[1], weight: 4, effectiveWeight: 4, share: 4 / 6 });
    expect(upstreams[1]).toMatchObject({ weight: 4, weightPinned: true });
    expect(chiSquare(picks(30_000), expectedCounts([1, 4, 1], 30_000)).pValue).toBeGreaterThan(1e-4);
  });

  test("weight 0 drains the analyzer: it stays healthy and gets no new message", async () => {
    const { put, picks, upstreams } = rig();
    const res = await put("a3", '{"weight": 0}');
    expect(res.status).toBe(200);
    expect(((await res.json()) as AnalyzerChanged).analyzer).toMatchObject({ weight: 0, healthy: true, share: 0 });
    expect(upstreams[2].healthy).toBe(true);
    const counts = picks(10_000);
    expect(counts[2]).toBe(0);
    expect(chiSquare(counts, expectedCounts([1, 1, 0], 10_000)).pValue).toBeGreaterThan(1e-4);
  });

  test("the weight set is pinned: discovery dealing weights again leaves it, and sets the others", async () => {
    const { put, balancer, picks } = rig();
    expect((await put("a1", '{"weight": 5}')).status).toBe(200);
    balancer.setTargets([
      { url: URLS[0], weight: 1 },
      { url: URLS[1], weight: 2 },
      { url: URLS[2], weight: 3 },
    ]);
    expect(balancer.upstreams.map((u) => u.weight)).toEqual([5, 2, 3]);
    expect(chiSquare(picks(30_000), expectedCounts([5, 2, 3], 30_000)).pValue).toBeGreaterThan(1e-4);
  });

  test("an unknown analyzer is a 404 that names the known ones, and changes nothing", async () => {
    const { put, upstreams } = rig();
    const res = await put("zz", '{"weight": 2}');
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toBe('no analyzer with id or url "zz"; known: a1, a2, a3');
    expect(upstreams.map((u) => [u.weight, u.weightPinned])).toEqual(Array(3).fill([1, false]));
  });

  const usage = ': send {"weight": <number >= 0>}';
  test.each([
    ["a body that is not JSON", "{weight: 2", `body must be JSON${usage}`],
    ["an empty body", "", `body must be JSON${usage}`],
    ["a negative weight", '{"weight": -1}', `weight must be >= 0 (0 drains the analyzer)${usage}`],
    ["a weight that is a string", '{"weight": "2"}', `weight must be a number${usage}`],
    ["a weight too large to be finite", '{"weight": 1e999}', `weight must be a number${usage}`],
    ["no weight", "{}", `weight must be a number${usage}`],
    ["an unknown field", '{"weight": 1, "drain": true}', `unknown field(s): drain${usage}`],
    ["a body that is not an object", "[2]", `body Invalid input: expected object, received array${usage}`],
  ])("%s is a 400 that says what is wrong, and changes nothing", async (_, body, error) => {
    const { put, upstreams } = rig();
    const res = await put("a1", body);
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toBe(error);
    expect(upstreams[0]).toMatchObject({ weight: 1, weightPinned: false });
  });

  test("a body over 4 KiB is refused with 413", async () => {
    const { put, upstreams } = rig();
    const res = await put("a1", `{"weight": 2, "pad": "${"x".repeat(5000)}"}`);
    expect(res.status).toBe(413);
    expect(upstreams[0].weight).toBe(1);
  });
});

// ANALYZER_GROUPS: main (weight 3) with two instances, canary (weight 1) with one.
function groupRig() {
  const upstreams = [
    createUpstream("http://10.0.0.3:5000", 1, "main"),
    createUpstream("http://10.0.0.4:5000", 1, "main"),
    createUpstream("http://10.0.0.5:5000", 1, "canary"),
  ];
  const groups = [
    { name: "main", weight: 3 },
    { name: "canary", weight: 1 },
  ];
  const balancer = new Balancer(upstreams, { random: seededRandom(5), groups });
  for (const u of upstreams) balancer.setHealthy(u, true, "startup");
  const app = createJsonApp();
  registerAdmin(app, { balancer });
  const put = (path: string, body: string, headers: Record<string, string> = {}) =>
    app.request(path, { method: "PUT", body, headers });
  const picks = (n: number) => {
    const counts = upstreams.map(() => 0);
    for (let i = 0; i < n; i++) counts[upstreams.indexOf(balancer.pick()!)]++;
    return counts;
  };
  return { app, balancer, upstreams, put, picks };
}

describe("groups: GET /admin/groups and PUT /admin/groups/<name>", () => {
  test("lists each group with its weight, instances and share", async () => {
    const { app, balancer, upstreams } = groupRig();
    balancer.setHealthy(upstreams[1], false, "connection refused");
    const res = await app.request("/admin/groups");
    expect(res.status).toBe(200);
    const body = (await res.json()) as GroupList;
    expect(z.strictObject({ groups: z.array(GroupStatsEntry.strict()) }).parse(body)).toEqual(body);
    expect(body.groups).toEqual([
      { name: "main", weight: 3, instances: 2, healthy: 1, share: 0.75, delivered: 0 },
      { name: "canary", weight: 1, instances: 1, healthy: 1, share: 0.25, delivered: 0 },
    ]);
    const analyzers = ((await (await app.request("/admin/analyzers")).json()) as AnalyzerList).analyzers;
    expect(analyzers.map((a) => [a.group, a.weight, a.effectiveWeight])).toEqual([
      ["main", 1, 3],
      ["main", 1, 0],
      ["canary", 1, 1],
    ]);
  });

  test("a group's new weight is shared among its instances at once; the answer shows the group and them", async () => {
    const { put, picks } = groupRig();
    const res = await put("/admin/groups/canary", '{"weight": 3}');
    expect(res.status).toBe(200);
    const body = (await res.json()) as GroupChanged;
    expect(body.group).toEqual({ name: "canary", weight: 3, instances: 1, healthy: 1, share: 0.5, delivered: 0 });
    expect(body.analyzers.map((a) => [a.url, a.effectiveWeight])).toEqual([["http://10.0.0.5:5000", 3]]);
    expect(chiSquare(picks(30_000), expectedCounts([1.5, 1.5, 3], 30_000)).pValue).toBeGreaterThan(1e-4);
  });

  test("an instance's weight 0 drains it, and its sibling takes the group's whole share", async () => {
    const { put, picks } = groupRig();
    const res = await put("/admin/analyzers/10.0.0.3:5000", '{"weight": 0}');
    expect(res.status).toBe(200);
    expect(((await res.json()) as AnalyzerChanged).analyzer).toMatchObject({ group: "main", weight: 0, share: 0 });
    const counts = picks(20_000);
    expect(counts[0]).toBe(0);
    expect(chiSquare(counts, expectedCounts([0, 3, 1], 20_000)).pValue).toBeGreaterThan(1e-4);
  });

  test("an unknown group is a 404 that names the known ones; a bad weight is a 400; both change nothing", async () => {
    const { put, balancer } = groupRig();
    const unknown = await put("/admin/groups/zz", '{"weight": 2}');
    expect(unknown.status).toBe(404);
    expect(await errorOf(unknown)).toBe('no analyzer group "zz"; known: main, canary');
    const bad = await put("/admin/groups/main", '{"weight": -2}');
    expect(bad.status).toBe(400);
    expect(await errorOf(bad)).toBe('weight must be >= 0 (0 drains the group): send {"weight": <number >= 0>}');
    expect([...balancer.groups]).toEqual([
      ["main", 3],
      ["canary", 1],
    ]);
  });

  test("without ANALYZER_GROUPS there are no groups: an empty list, and a 404 that says why", async () => {
    const { app } = rig();
    expect(await (await app.request("/admin/groups")).json()).toEqual({ groups: [] });
    const res = await app.request("/admin/groups/main", { method: "PUT", body: '{"weight": 1}' });
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toBe('no analyzer group "main"; known: none (ANALYZER_GROUPS is not set)');
  });
});

describe("other methods", () => {
  test.each([
    ["POST", "/admin/groups", "GET"],
    ["GET", "/admin/groups/main", "PUT"],
    ["POST", "/admin/analyzers", "GET"],
    ["DELETE", "/admin/analyzers", "GET"],
    ["GET", "/admin/analyzers/a1", "PUT"],
    ["POST", "/admin/analyzers/a1", "PUT"],
    ["DELETE", "/admin/analyzers/a1", "PUT"],
  ])("%s %s is a 405 that allows %s", async (method, path, allow) => {
    const { app } = rig();
    const res = await app.request(path, { method });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe(allow);
  });
});
