import { expect, test } from "bun:test";
import { chiSquare } from "./chisquare.ts";
import { hashUniform, seededRandom } from "./random.ts";

test("the same seed replays the same sequence, another seed does not", () => {
  const a = seededRandom(42);
  const b = seededRandom(42);
  const c = seededRandom(43);
  const first = Array.from({ length: 5 }, a);
  expect(Array.from({ length: 5 }, b)).toEqual(first);
  expect(Array.from({ length: 5 }, c)).not.toEqual(first);
});

test("values stay in [0, 1) with a mean near one half", () => {
  const r = seededRandom(7);
  let sum = 0;
  for (let i = 0; i < 100_000; i++) {
    const x = r();
    expect(x >= 0 && x < 1).toBe(true);
    sum += x;
  }
  // 5 standard errors of the mean of U(0,1) over 1e5 draws: 5 * sqrt(1/12/1e5) ≈ 0.0046
  expect(Math.abs(sum / 100_000 - 0.5)).toBeLessThan(0.0046);
});

test("a non-integer seed is a TypeError that shows the value", () => {
  expect(() => seededRandom(1.5)).toThrow("seed must be an integer, got 1.5");
});

test("hashUniform: the same inputs give the same number, and consecutive rows spread uniformly", () => {
  expect(hashUniform(7, 12345, 3)).toBe(hashUniform(7, 12345, 3));
  expect(hashUniform(7, 12345, 3)).not.toBe(hashUniform(8, 12345, 3));
  expect(hashUniform(7, 2 ** 40 + 1, 0)).not.toBe(hashUniform(7, 1, 0)); // rows past 2^32 count
  // Rows 1..20000 with indices 0..4, as a spool numbers messages, into 20 equal bins.
  const bins = new Array(20).fill(0);
  for (let row = 1; row <= 20_000; row++)
    for (let i = 0; i < 5; i++) {
      const x = hashUniform(0xdeadbeef, row, i);
      expect(x >= 0 && x < 1).toBe(true);
      bins[Math.floor(x * 20)]++;
    }
  expect(chiSquare(bins, new Array(20).fill(100_000 / 20)).pValue).toBeGreaterThan(1e-4);
});
