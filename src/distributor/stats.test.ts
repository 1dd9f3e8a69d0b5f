import { expect, test } from "bun:test";
import { seededRandom } from "../math/random.ts";
import { DistributorStats, emptySpool } from "../protocol/stats.ts";
import { Balancer } from "./balancer.ts";
import { createCounters } from "./counters.ts";
import { describeAnalyzers, describeGroups, statsSnapshot } from "./stats.ts";
import { createUpstream } from "./upstream.ts";

function setup(weights: number[]) {
  let now = 0;
  const upstreams = weights.map((w, i) => createUpstream(`http://127.0.0.1:${5001 + i}`, w));
  const balancer = new Balancer(upstreams, { random: seededRandom(1), slowStartMs: 1000, now: () => now });
  for (const u of upstreams) balancer.setHealthy(u, true, "startup");
  return { balancer, upstreams, setNow: (t: number) => (now = t) };
}

test("an analyzer's share is its effective weight over all of them; a down one has 0 and says why", () => {
  const { balancer, upstreams } = setup([1, 3, 4]);
  balancer.setHealthy(upstreams[2], false, "health check answered 503");
  const described = describeAnalyzers(balancer);
  expect(described.map((a) => [a.weight, a.effectiveWeight, a.share, a.healthy, a.lastError])).toEqual([
    [1, 1, 0.25, true, null],
    [3, 3, 0.75, true, null],
    [4, 0, 0, false, "health check answered 503"],
  ]);
  expect(described[0]).toMatchObject({ id: "127.0.0.1:5001", url: "http://127.0.0.1:5001", healthChanges: 1 });
  balancer.stop();
});

test("while slow start ramps an analyzer up, its effective weight and share follow the ramp", () => {
  const { balancer, upstreams, setNow } = setup([1, 1]);
  balancer.setHealthy(upstreams[0], false, "killed");
  balancer.setHealthy(upstreams[0], true, "back");
  setNow(500);
  expect(describeAnalyzers(balancer).map((a) => [a.effectiveWeight, a.share])).toEqual([
    [0.5, 0.5 / 1.5],
    [1, 1 / 1.5],
  ]);
  balancer.stop();
});

test("with no analyzer healthy every share is 0, not NaN", () => {
  const { balancer, upstreams } = setup([1, 1]);
  for (const u of upstreams) balancer.setHealthy(u, false, "down");
  expect(describeAnalyzers(balancer).map((a) => a.share)).toEqual([0, 0]);
});

test("the snapshot is a DistributorStats as the load tester checks it, counters and all", () => {
  const { balancer, upstreams } = setup([1, 2]);
  const counters = createCounters();
  counters.received = 10;
  counters.delivered = 9;
  balancer.requestStarted(upstreams[1]);
  balancer.requestEnded(upstreams[1], 9, true);
  const snapshot = statsSnapshot({
    balancer,
    counters,
    channel: { size: 1, capacity: 100 },
    pool: { workers: 4, active: 1 },
    intake: { stats: () => ({ ...emptySpool("disk"), dir: "/var/spool", messages: 3 }) },
    startedAt: performance.now(),
  });
  expect(DistributorStats.parse(snapshot)).toEqual(snapshot);
  expect(snapshot).toMatchObject({
    received: 10,
    delivered: 9,
    queue: { depth: 1, capacity: 100 },
    spool: { kind: "disk", dir: "/var/spool", messages: 3 },
    workers: 4,
    activeWorkers: 1,
    uptimeSeconds: 0,
  });
  expect(snapshot.analyzers[1]).toMatchObject({ requests: 1, delivered: 9, failed: 0, inflight: 0 });
  balancer.stop();
});

test("groups are described from their instances: weight, instances, healthy ones, summed share and deliveries", () => {
  const upstreams = [
    createUpstream("http://10.0.0.3:5000", 1, "main"),
    createUpstream("http://10.0.0.4:5000", 1, "main"),
    createUpstream("http://10.0.0.5:5000", 1, "canary"),
  ];
  const groups = [
    { name: "main", weight: 9 },
    { name: "canary", weight: 1 },
    { name: "empty", weight: 5 },
  ];
  const balancer = new Balancer(upstreams, { random: seededRandom(1), groups });
  for (const u of upstreams) balancer.setHealthy(u, true, "startup");
  balancer.setHealthy(upstreams[0], false, "killed");
  balancer.requestStarted(upstreams[0]);
  balancer.requestEnded(upstreams[0], 4, true);
  balancer.requestStarted(upstreams[1]);
  balancer.requestEnded(upstreams[1], 6, true);
  const snapshot = statsSnapshot({
    balancer,
    counters: createCounters(),
    channel: { size: 0, capacity: 100 },
    pool: { workers: 1, active: 0 },
    intake: { stats: () => emptySpool() },
    startedAt: performance.now(),
  });
  expect(DistributorStats.parse(snapshot)).toEqual(snapshot);
  // A group with no instance found has no share: its weight is not dealt to anyone.
  expect(snapshot.groups).toEqual([
    { name: "main", weight: 9, instances: 2, healthy: 1, share: 0.9, delivered: 10 },
    { name: "canary", weight: 1, instances: 1, healthy: 1, share: 0.1, delivered: 0 },
    { name: "empty", weight: 5, instances: 0, healthy: 0, share: 0, delivered: 0 },
  ]);
  expect(describeGroups(balancer)).toEqual(snapshot.groups);
  expect(snapshot.analyzers.map((a) => [a.group, a.effectiveWeight])).toEqual([
    ["main", 0],
    ["main", 9],
    ["canary", 1],
  ]);
});
