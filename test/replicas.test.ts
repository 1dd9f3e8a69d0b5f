// Several distributors (docs/scale-out.md): N replicas with the same config, each with its own
// randomness, behind a load balancer that splits the traffic unevenly. Each replica picks every
// message from the same distribution whatever share of the traffic it gets, so the summed counts
// follow the weights exactly: checked by chi-square on the sum. And while replicas briefly disagree
// on the healthy set (one has seen an analyzer go down, another not yet), the summed shares stray
// from the weights by at most the messages picked under a differing view, weighted by how far
// that view's shares are from the agreed ones: checked against that bound.
// In-process Balancers with seeded randomness: exact and repeatable, no processes.

import { describe, expect, test } from "bun:test";
import { Balancer } from "../src/distributor/balancer.ts";
import { createUpstream, type Upstream } from "../src/distributor/upstream.ts";
import { chiSquare } from "../src/math/chisquare.ts";
import { type Random, seededRandom } from "../src/math/random.ts";
import { fitsWeights, SIGMAS, withinSigmas } from "../testkit/shares.ts";

// The local overlay's topology (deploy/k8s/overlays/local): main (weight 3) with two instances,
// canary (weight 1) with one.
const GROUPS = [
  { name: "analyzer-main", weight: 3 },
  { name: "analyzer-canary", weight: 1 },
];
const INSTANCES = [
  { url: "http://10.0.0.3:5000", group: "analyzer-main" },
  { url: "http://10.0.0.4:5000", group: "analyzer-main" },
  { url: "http://10.0.0.5:5000", group: "analyzer-canary" },
];
/** Each instance's share when all are healthy: its group's weight over its group's healthy instances. */
const AGREED = [1.5 / 4, 1.5 / 4, 1 / 4];

/** A distributor replica as far as picking goes: its own Balancer over its own Upstreams, its own seed. */
function replica(seed: number, groups = GROUPS) {
  const upstreams = INSTANCES.map((i) => createUpstream(i.url, 1, i.group));
  const balancer = new Balancer(upstreams, { random: seededRandom(seed), groups });
  for (const u of upstreams) balancer.setHealthy(u, true, "probe");
  return { balancer, upstreams };
}

/** Which replica gets each request: shares `split`, drawn with `random` (a load balancer's uneven spread). */
function router(split: readonly number[], random: Random): () => number {
  const cumulative = split.map((_, i) => split.slice(0, i + 1).reduce((a, b) => a + b, 0));
  return () => {
    const x = random() * cumulative.at(-1)!;
    const i = cumulative.findIndex((c) => x < c);
    return i === -1 ? split.length - 1 : i;
  };
}

const indexOf = (u: Upstream) => INSTANCES.findIndex((i) => i.url === u.url);

describe("several distributors behind an uneven traffic split", () => {
  const SPLIT = [0.62, 0.3, 0.08];
  const MESSAGES = 150_000;

  function run(replicas: ReturnType<typeof replica>[]) {
    const next = router(SPLIT, seededRandom(99));
    const summed = INSTANCES.map(() => 0);
    const perReplica = replicas.map(() => 0);
    for (let m = 0; m < MESSAGES; m++) {
      const r = next();
      perReplica[r]++;
      summed[indexOf(replicas[r].balancer.pick()!)]++;
    }
    return { summed, perReplica };
  }

  test("independent replicas with the same config give the weights' shares in sum, by chi-square", () => {
    const { summed, perReplica } = run([replica(1), replica(2), replica(3)]);
    // The split really is uneven: the busiest replica handles several times the quietest one's messages.
    expect(Math.max(...perReplica) / Math.min(...perReplica)).toBeGreaterThan(5);
    const fit = fitsWeights(summed, AGREED);
    expect(fit.ok).toBe(true);
    expect(withinSigmas(summed, AGREED).ok).toBe(true);
    // Per group too: 3 : 1, whatever the replicas' traffic.
    expect(fitsWeights([summed[0] + summed[1], summed[2]], [3, 1]).ok).toBe(true);
    console.log(
      `replicas: split ${perReplica.join(" / ")} messages; summed per instance ${summed.join(" / ")}; chi-square p=${fit.pValue.toFixed(3)}`,
    );
  });

  test("the same check catches one replica whose weights differ (stale config), so it can fail", () => {
    const stale = [
      { name: "analyzer-main", weight: 1 },
      { name: "analyzer-canary", weight: 1 },
    ];
    const { summed } = run([replica(1), replica(2, stale), replica(3)]);
    expect(fitsWeights(summed, AGREED).ok).toBe(false);
  });
});

describe("replicas that briefly disagree on the healthy set", () => {
  const SPLIT = [0.5, 0.3, 0.2];
  const MESSAGES = 200_000;
  /**
   * Per replica, a window of its own messages (from, to: fractions of them) during which it sees
   * one instance down while the others see it up: the first has seen a main instance fail, the
   * second the canary; the third agrees throughout.
   */
  const WINDOWS = [
    { replica: 0, instance: 0, from: 0.1, to: 0.25 },
    { replica: 1, instance: 2, from: 0.4, to: 0.5 },
  ];
  /** Shares with `down` out: its group's weight goes to its siblings, or to the other groups. */
  const VIEWS: Record<number, number[]> = {
    0: [0, 3 / 4, 1 / 4],
    2: [1 / 2, 1 / 2, 0],
  };

  test("the summed shares stray from the weights by no more than the messages picked under a differing view", () => {
    const next = router(SPLIT, seededRandom(7));
    const replicas = [replica(11), replica(12), replica(13)];
    // Which replica serves each message is drawn first, so each replica's window is a fraction of its own messages.
    const order = Array.from({ length: MESSAGES }, () => next());
    const total = replicas.map((_, r) => order.filter((o) => o === r).length);
    const seen = replicas.map(() => 0);
    const observed = INSTANCES.map(() => 0);
    const expected = INSTANCES.map(() => 0); // the mixture of the views each message was picked under
    for (const r of order) {
      const { balancer, upstreams } = replicas[r];
      const at = seen[r]++ / total[r];
      const window = WINDOWS.find((w) => w.replica === r && at >= w.from && at < w.to);
      const down = window?.instance;
      // The replica's view changes through the balancer, as a health check would change it.
      for (const [i, u] of upstreams.entries()) balancer.setHealthy(u, i !== down, "view");
      observed[indexOf(balancer.pick()!)]++;
      const view = down === undefined ? AGREED : VIEWS[down];
      for (let i = 0; i < view.length; i++) expected[i] += view[i];
    }

    // Picks follow each replica's view exactly: chi-square against the mixture of views.
    const mixture = chiSquare(observed, expected);
    expect(mixture.pValue).toBeGreaterThan(1e-4);

    // The bound: each disagreeing message moves instance i's expected share by at most
    // |view_i − agreed_i| / MESSAGES; sampling adds at most SIGMAS binomial deviations on top.
    const disagreeing = WINDOWS.map((w) => Math.round((w.to - w.from) * total[w.replica]));
    const fraction = disagreeing.reduce((a, b) => a + b, 0) / MESSAGES;
    const rows = INSTANCES.map((_, i) => {
      const bound = WINDOWS.reduce(
        (sum, w, k) => sum + (disagreeing[k] / MESSAGES) * Math.abs(VIEWS[w.instance][i] - AGREED[i]),
        0,
      );
      const slack = SIGMAS * Math.sqrt((AGREED[i] * (1 - AGREED[i])) / MESSAGES);
      const error = observed[i] / MESSAGES - AGREED[i];
      return { bound, slack, error };
    });
    for (const row of rows) expect(Math.abs(row.error)).toBeLessThanOrEqual(row.bound + row.slack);
    // Every per-instance bound is within the fraction of messages picked while disagreeing.
    for (const row of rows) expect(row.bound).toBeLessThanOrEqual(fraction);
    // And the disagreement shows: these windows are long enough to fail the agreed weights outright,
    // which is what the bound is for (a test that holds only because nothing moved proves nothing).
    expect(fitsWeights(observed, AGREED).ok).toBe(false);
    console.log(
      `replicas disagreeing on ${(fraction * 100).toFixed(1)}% of ${MESSAGES} messages: share errors ${rows
        .map(
          (r) =>
            `${(r.error * 100).toFixed(2)}% (bound ±${(r.bound * 100).toFixed(2)}% + ${(r.slack * 100).toFixed(2)}%)`,
        )
        .join(", ")}; chi-square against the views' mixture p=${mixture.pValue.toFixed(3)}`,
    );
  });
});
