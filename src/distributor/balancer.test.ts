import { expect, test } from "bun:test";
import { chiSquare, expectedCounts } from "../math/chisquare.ts";
import { seededRandom } from "../math/random.ts";
import { Balancer } from "./balancer.ts";
import { createUpstream } from "./upstream.ts";

function balancerOf(weights: number[], seed = 1) {
  const upstreams = weights.map((w, i) => createUpstream(`http://127.0.0.1:${5001 + i}`, w));
  const balancer = new Balancer(upstreams, { random: seededRandom(seed) });
  for (const u of upstreams) balancer.setHealthy(u, true, "test");
  return { balancer, upstreams };
}

function shares(balancer: Balancer, picks: number) {
  const counts = new Map<string, number>();
  for (let i = 0; i < picks; i++) {
    const u = balancer.pick()!;
    counts.set(u.url, (counts.get(u.url) ?? 0) + 1);
  }
  return balancer.upstreams.map((u) => counts.get(u.url) ?? 0);
}

test("an analyzer's share goes to the survivors in proportion to their weights, and comes back", () => {
  const { balancer, upstreams } = balancerOf([1, 2, 3]);
  balancer.setHealthy(upstreams[0], false, "killed");
  const down = shares(balancer, 60_000);
  expect(down[0]).toBe(0);
  expect(chiSquare(down, expectedCounts([0, 2, 3], 60_000)).pValue).toBeGreaterThan(1e-4);
  balancer.setHealthy(upstreams[0], true, "back");
  const back = shares(balancer, 60_000);
  expect(chiSquare(back, expectedCounts([1, 2, 3], 60_000)).pValue).toBeGreaterThan(1e-4);
});

test("picks nothing when no analyzer is healthy, and wakes waiters when one returns", async () => {
  const { balancer, upstreams } = balancerOf([1, 1]);
  for (const u of upstreams) balancer.setHealthy(u, false, "down");
  expect(balancer.pick()).toBeUndefined();
  expect(balancer.healthyCount).toBe(0);
  let woke = false;
  const waiting = balancer.whenAvailable().then(() => (woke = true));
  await Promise.resolve();
  expect(woke).toBe(false);
  balancer.setHealthy(upstreams[1], true, "up");
  await waiting;
  expect(balancer.pick()).toBe(upstreams[1]);
});

test("listeners hear only real changes", () => {
  const { balancer, upstreams } = balancerOf([1, 1]);
  const heard: string[] = [];
  balancer.onChange(({ upstream, healthy }) => heard.push(`${upstream.url} ${healthy}`));
  balancer.setHealthy(upstreams[0], true, "still up");
  balancer.setHealthy(upstreams[0], false, "down");
  balancer.setHealthy(upstreams[0], false, "still down");
  expect(heard).toEqual([`${upstreams[0].url} false`]);
  expect(upstreams[0].lastError).toBe("still down");
});

test("a weight of 0 drains an analyzer without marking it unhealthy", () => {
  const { balancer, upstreams } = balancerOf([1, 1, 1]);
  balancer.setWeight(upstreams[2], 0);
  expect(upstreams[2].healthy).toBe(true);
  expect(shares(balancer, 10_000)[2]).toBe(0);
  expect(() => balancer.setWeight(upstreams[0], -1)).toThrow("weight must be a finite number >= 0, got -1");
});

test("replacing the analyzer set keeps the ones that stay, with their health and counters", () => {
  const { balancer, upstreams } = balancerOf([1, 2]);
  balancer.requestStarted(upstreams[0]);
  balancer.requestEnded(upstreams[0], 7, true);
  const next = balancer.setTargets([
    { url: upstreams[0].url, weight: 1 },
    { url: "http://127.0.0.1:6001", weight: 3 },
  ]);
  expect(next).toBe(balancer.upstreams);
  expect(next[0]).toBe(upstreams[0]);
  const added = next[1];
  expect(added).toMatchObject({ url: "http://127.0.0.1:6001", weight: 3, healthy: false, delivered: 0 });
  expect(balancer.healthyCount).toBe(1); // the new one counts once it is healthy
  expect(shares(balancer, 1000)).toEqual([1000, 0]);
  balancer.setHealthy(added, true, "probed");
  const counts = shares(balancer, 40_000);
  expect(chiSquare(counts, expectedCounts([1, 3], 40_000)).pValue).toBeGreaterThan(1e-4);
  expect(balancer.upstreams[0]).toMatchObject({ healthy: true, delivered: 7, requests: 1, inflight: 0 });
});

test("an analyzer that stays takes its new position's weight, unless an operator pinned one", () => {
  const { balancer, upstreams } = balancerOf([1, 2]);
  balancer.pinWeight(upstreams[1], 7);
  const next = balancer.setTargets([
    { url: upstreams[1].url, weight: 1 },
    { url: upstreams[0].url, weight: 2 },
  ]);
  expect(next).toEqual([upstreams[1], upstreams[0]]);
  expect(next.map((u) => u.weight)).toEqual([7, 2]);
  expect(chiSquare(shares(balancer, 40_000), expectedCounts([7, 2], 40_000)).pValue).toBeGreaterThan(1e-4);
});

test("a request's messages count as delivered or failed on its analyzer once it ends", () => {
  const { balancer, upstreams } = balancerOf([1]);
  const [u] = upstreams;
  balancer.requestStarted(u);
  balancer.requestStarted(u);
  expect(u).toMatchObject({ requests: 2, inflight: 2, delivered: 0, failed: 0 });
  balancer.requestEnded(u, 5, true);
  balancer.requestEnded(u, 3, false);
  expect(u).toMatchObject({ requests: 2, inflight: 0, delivered: 5, failed: 3 });
});

test("slow start ramps a returning analyzer's weight from a floor to full over the window", () => {
  let now = 0;
  const upstreams = [1, 1].map((w, i) => createUpstream(`http://127.0.0.1:${5001 + i}`, w));
  const balancer = new Balancer(upstreams, { random: seededRandom(3), slowStartMs: 1000, now: () => now });
  for (const u of upstreams) balancer.setHealthy(u, true, "startup");
  expect(balancer.effectiveWeight(upstreams[0])).toBe(1); // no ramp on the first time up
  balancer.setHealthy(upstreams[0], false, "killed");
  now = 5000;
  balancer.setHealthy(upstreams[0], true, "back");
  expect(balancer.effectiveWeight(upstreams[0])).toBe(0.05);
  now = 5500;
  expect(balancer.effectiveWeight(upstreams[0])).toBe(0.5);
  now = 6000;
  expect(balancer.effectiveWeight(upstreams[0])).toBe(1);
  balancer.stop();
});

test("reading an analyzer's weight changes nothing, not even when its ramp has just ended", () => {
  let now = 0;
  const upstreams = [1, 1].map((w, i) => createUpstream(`http://127.0.0.1:${5001 + i}`, w));
  const balancer = new Balancer(upstreams, { random: seededRandom(3), slowStartMs: 1000, now: () => now });
  for (const u of upstreams) balancer.setHealthy(u, true, "startup");
  balancer.setHealthy(upstreams[0], false, "killed");
  expect(balancer.effectiveWeight(upstreams[0])).toBe(0); // down
  balancer.setHealthy(upstreams[0], true, "back");
  now = 2000;
  const before = { ...upstreams[0] };
  expect(balancer.effectiveWeight(upstreams[0])).toBe(1);
  expect(balancer.effectiveWeight(upstreams[0])).toBe(1);
  expect({ ...upstreams[0] }).toEqual(before);
  balancer.stop();
});

// ANALYZER_GROUPS: main (weight 3) with `mains` instances, canary (weight 1) with `canaries`.
function groupsOf(mains: number, canaries: number, seed = 1) {
  const upstreams = [
    ...Array.from({ length: mains }, (_, i) => createUpstream(`http://10.0.0.${10 + i}:5000`, 1, "main")),
    ...Array.from({ length: canaries }, (_, i) => createUpstream(`http://10.0.1.${10 + i}:5000`, 1, "canary")),
  ];
  const groups = [
    { name: "main", weight: 3 },
    { name: "canary", weight: 1 },
  ];
  const balancer = new Balancer(upstreams, { random: seededRandom(seed), groups });
  for (const u of upstreams) balancer.setHealthy(u, true, "test");
  /** Picks per group, in the order main, canary. */
  const groupShares = (picks: number) => {
    const counts = shares(balancer, picks);
    const of = (g: string) => counts.reduce((sum, c, i) => sum + (balancer.upstreams[i].group === g ? c : 0), 0);
    return { counts, byGroup: [of("main"), of("canary")] };
  };
  return { balancer, upstreams, groupShares };
}

test.each([
  [1, 1],
  [2, 1],
  [5, 1],
  [1, 4],
])("a group's share is its weight however many instances it has (%i main, %i canary), shared evenly", (m, c) => {
  const { balancer, groupShares } = groupsOf(m, c);
  const { counts, byGroup } = groupShares(80_000);
  expect(chiSquare(byGroup, expectedCounts([3, 1], 80_000)).pValue).toBeGreaterThan(1e-4);
  const perInstance = balancer.upstreams.map((u) => (u.group === "main" ? 3 / m : 1 / c));
  expect(chiSquare(counts, expectedCounts(perInstance, 80_000)).pValue).toBeGreaterThan(1e-4);
  expect(balancer.upstreams.map((u) => balancer.effectiveWeight(u))).toEqual(perInstance);
});

test("an instance that goes down leaves its group's share to its siblings; a whole group down leaves it to the others", () => {
  const { balancer, upstreams, groupShares } = groupsOf(3, 1);
  balancer.setHealthy(upstreams[0], false, "killed");
  const one = groupShares(60_000);
  expect(one.counts[0]).toBe(0);
  expect(chiSquare(one.byGroup, expectedCounts([3, 1], 60_000)).pValue).toBeGreaterThan(1e-4);
  expect(chiSquare(one.counts, expectedCounts([0, 1.5, 1.5, 1], 60_000)).pValue).toBeGreaterThan(1e-4);
  balancer.setHealthy(upstreams[3], false, "killed");
  expect(groupShares(10_000).byGroup).toEqual([10_000, 0]);
  balancer.setHealthy(upstreams[3], true, "back");
  balancer.setHealthy(upstreams[0], true, "back");
  expect(chiSquare(groupShares(60_000).counts, expectedCounts([1, 1, 1, 1], 60_000)).pValue).toBeGreaterThan(1e-4);
});

test("an instance's part 0 drains it within its group; a group weight changes the groups' split at once", () => {
  const { balancer, upstreams, groupShares } = groupsOf(2, 1);
  balancer.pinWeight(upstreams[1], 0);
  const drained = groupShares(40_000);
  expect(drained.counts[1]).toBe(0);
  expect(chiSquare(drained.byGroup, expectedCounts([3, 1], 40_000)).pValue).toBeGreaterThan(1e-4);
  balancer.setGroupWeight("canary", 3);
  expect(balancer.groups.get("canary")).toBe(3);
  expect(chiSquare(groupShares(40_000).byGroup, expectedCounts([1, 1], 40_000)).pValue).toBeGreaterThan(1e-4);
  balancer.setGroupWeight("main", 0);
  expect(groupShares(1000).byGroup).toEqual([0, 1000]);
  expect(() => balancer.setGroupWeight("other", 1)).toThrow('no analyzer group "other"; known: main, canary');
  expect(() => balancer.setGroupWeight("main", -1)).toThrow("weight must be a finite number >= 0, got -1");
});

test("an address found under another group than before is a new analyzer, with nothing carried over", () => {
  const { balancer, upstreams } = groupsOf(1, 1);
  balancer.requestStarted(upstreams[0]);
  balancer.requestEnded(upstreams[0], 5, true);
  const next = balancer.setTargets([
    { url: upstreams[0].url, weight: 1, group: "canary" },
    { url: upstreams[1].url, weight: 1, group: "canary" },
  ]);
  expect(next[0]).not.toBe(upstreams[0]);
  expect(next[0]).toMatchObject({ group: "canary", delivered: 0, healthy: false });
  expect(next[1]).toBe(upstreams[1]);
  expect(() => balancer.setTargets([{ url: "http://10.0.0.1:5000", weight: 1, group: "nope" }])).toThrow(
    'no analyzer group "nope"',
  );
});

test("pickCounts(n) is n picks with the same draws, tallied per analyzer; none when nothing is healthy", () => {
  const one = balancerOf([1, 2, 3, 0], 7);
  const other = balancerOf([1, 2, 3, 0], 7);
  for (const n of [1, 2, 100, 4096]) {
    const tallied = new Map((one.balancer.pickCounts(n) ?? []).map(([u, count]) => [u.url, count]));
    expect(other.balancer.upstreams.map((u) => tallied.get(u.url) ?? 0)).toEqual(shares(other.balancer, n));
  }
  // A weight of 0 is never picked, and an analyzer with no picks is not listed.
  const counts = one.balancer.pickCounts(60_000)!;
  expect(counts.map(([u]) => u.weight).sort()).toEqual([1, 2, 3]);
  const byWeight = [1, 2, 3].map((w) => counts.find(([u]) => u.weight === w)![1]);
  expect(chiSquare(byWeight, expectedCounts([1, 2, 3], 60_000)).pValue).toBeGreaterThan(1e-4);
  for (const u of one.upstreams) one.balancer.setHealthy(u, false, "down");
  expect(one.balancer.pickCounts(10)).toBeUndefined();
});
