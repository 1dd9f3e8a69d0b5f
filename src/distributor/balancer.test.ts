import { expect, test } from "bun:test";
import { Balancer } from "./balancer.ts";
import { chiSquare, expectedCounts } from "../math/chisquare.ts";
import { seededRandom } from "../math/random.ts";
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
  upstreams[0].delivered = 7;
  const added = createUpstream("http://127.0.0.1:6001", 3);
  balancer.setUpstreams([upstreams[0], added]);
  expect(balancer.healthyCount).toBe(1); // the new one counts once it is healthy
  expect(shares(balancer, 1000)).toEqual([1000, 0]);
  balancer.setHealthy(added, true, "probed");
  const counts = shares(balancer, 40_000);
  expect(chiSquare(counts, expectedCounts([1, 3], 40_000)).pValue).toBeGreaterThan(1e-4);
  expect(balancer.upstreams[0].delivered).toBe(7);
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
  expect(upstreams[0].rampStartedAt).toBeNull();
  balancer.stop();
});
