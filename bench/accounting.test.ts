import { describe, expect, test } from "bun:test";
import { countedDuring, reconcile } from "./accounting.ts";

describe("countedDuring", () => {
  test("sums every analyzer's counter delta", () => {
    expect(countedDuring([10, 20, 30], [110, 220, 330])).toBe(600);
  });

  test("a killed analyzer counts up to its kill, plus its successor's counter from 0", () => {
    // a3 went 30 → 250 before the kill; its restarted process then analyzed 40
    expect(countedDuring([10, 20, 30], [110, 220, 40], { index: 2, atKill: 250 })).toBe(100 + 200 + 220 + 40);
  });

  test("counter lists of different lengths are a mistake", () => {
    expect(() => countedDuring([1, 2], [1, 2, 3])).toThrow(RangeError);
  });
});

describe("reconcile", () => {
  test.each([
    [1000, 1000, { lost: 0, unacknowledged: 0 }],
    [1000, 1064, { lost: 0, unacknowledged: 64 }],
    [1000, 990, { lost: 10, unacknowledged: 0 }],
  ])("%p acknowledged and %p analyzed", (acknowledged, processed, expected) => {
    expect(reconcile(acknowledged, processed)).toEqual(expected);
  });
});
