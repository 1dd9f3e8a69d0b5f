import { describe, expect, test } from "bun:test";
import { chiSquare, expectedCounts } from "../math/chisquare.ts";
import { seededRandom } from "../math/random.ts";
import { aliasProbabilities, buildAlias, pickAlias } from "./alias.ts";

function exactShares(weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  return weights.map((w) => w / sum);
}

function expectExact(weights: number[]) {
  const p = aliasProbabilities(buildAlias(weights), weights.length);
  const want = exactShares(weights);
  for (let i = 0; i < weights.length; i++) expect(Math.abs(p[i] - want[i])).toBeLessThan(1e-12);
}

/** Every non-empty subset of indices of an n-entry list, as bit masks. */
function* subsets(n: number): Generator<number[]> {
  for (let mask = 1; mask < 1 << n; mask++) {
    const picked: number[] = [];
    for (let i = 0; i < n; i++) if (mask & (1 << i)) picked.push(i);
    yield picked;
  }
}

describe("buildAlias", () => {
  const random = seededRandom(2026);
  const vectors: [string, number[]][] = [
    ["a single entry", [5]],
    ["equal weights", [1, 1, 1]],
    ["the original's 1:2:3", [1, 2, 3]],
    ["skewed weights", [1, 1000, 1e-3]],
    ["decimal weights", [0.4, 0.1, 0.25, 0.25]],
    ["zeros among the weights", [0, 3, 0, 1]],
    ["huge weights", [1e300, 2e300]],
    ["tiny weights", [1e-300, 3e-300]],
    ["64 random weights", Array.from({ length: 64 }, () => random() * 10)],
    ["64 weights with every third zero", Array.from({ length: 64 }, (_, i) => (i % 3 === 0 ? 0 : 1 + (i % 7)))],
  ];

  test.each(vectors)("encodes %s exactly (within 1e-12)", (_name, weights) => {
    expectExact(weights);
  });

  test("encodes every length from 1 to 64 exactly", () => {
    const r = seededRandom(1);
    for (let n = 1; n <= 64; n++) expectExact(Array.from({ length: n }, () => 0.01 + r() * 100));
  });

  test("encodes every healthy subset a failover can leave exactly", () => {
    const weights = [1, 2, 3, 0.5, 7, 0.25, 4, 1];
    for (const healthy of subsets(weights.length)) expectExact(healthy.map((i) => weights[i]));
  });

  test.each([
    [[], "at least one weight must be positive, got []"],
    [[0, 0], "at least one weight must be positive, got [0, 0]"],
    [[1, -1], "weight 1 must be a finite number >= 0, got -1"],
    [[NaN], "weight 0 must be a finite number >= 0, got NaN"],
    [[Infinity, 1], "weight 0 must be a finite number >= 0, got Infinity"],
  ])("rejects %p with a RangeError", (weights, message) => {
    expect(() => buildAlias(weights)).toThrow(new RangeError(message));
  });
});

describe("pickAlias", () => {
  test("never picks a zero-weight entry, even at the edges of [0, 1)", () => {
    const table = buildAlias([0, 2, 0, 1, 0]);
    const edges = [0, Number.EPSILON, 0.5 - Number.EPSILON, 0.5, 1 - Number.EPSILON];
    for (const u of edges) expect([1, 3]).toContain(pickAlias(table, () => u));
    const random = seededRandom(9);
    for (let i = 0; i < 10_000; i++) expect([1, 3]).toContain(pickAlias(table, random));
  });

  test.each([[[1, 2, 3]], [[0.4, 0.1, 0.25, 0.25]], [[1, 0, 5, 0, 2, 9, 1, 1]]])(
    "200k seeded picks from %p fit the weights (chi-square, p >= 1e-4)",
    (weights) => {
      const table = buildAlias(weights);
      const random = seededRandom(12345);
      const counts = new Array(weights.length).fill(0);
      const picks = 200_000;
      for (let i = 0; i < picks; i++) counts[pickAlias(table, random)]++;
      const { pValue } = chiSquare(counts, expectedCounts(weights, picks));
      expect(pValue).toBeGreaterThanOrEqual(1e-4);
    },
  );

  test("the chi-square check does reject picks from the wrong table", () => {
    const table = buildAlias([1, 1, 1]);
    const random = seededRandom(12345);
    const counts = [0, 0, 0];
    for (let i = 0; i < 200_000; i++) counts[pickAlias(table, random)]++;
    expect(chiSquare(counts, expectedCounts([1, 2, 3], 200_000)).pValue).toBeLessThan(1e-4);
  });
});
