import { expect, test } from "bun:test";
import { RetryBudget } from "./retrybudget.ts";

function clock() {
  let t = 0;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

test("allows a burst up to its capacity, then only what successes and time pay for", () => {
  const c = clock();
  const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 10, now: c.now });
  expect(Array.from({ length: 500 }, () => budget.tryWithdraw()).filter(Boolean)).toHaveLength(100);
  for (let i = 0; i < 50; i++) budget.deposit(); // 50 successes pay for 10 retries
  expect(Array.from({ length: 20 }, () => budget.tryWithdraw()).filter(Boolean)).toHaveLength(10);
  c.advance(500); // half a second of the floor: 5 more
  expect(Array.from({ length: 20 }, () => budget.tryWithdraw()).filter(Boolean)).toHaveLength(5);
});

test("never holds more than its capacity", () => {
  const c = clock();
  const budget = new RetryBudget({ ratio: 1, minPerSecond: 1000, now: c.now });
  for (let i = 0; i < 10_000; i++) budget.deposit();
  c.advance(60_000);
  // The clock stands still from here: only what was saved up can be withdrawn.
  expect(Array.from({ length: 2 * budget.capacity }, () => budget.tryWithdraw()).filter(Boolean)).toHaveLength(
    budget.capacity,
  );
});

test("a ratio of 0 with no floor refuses every retry once the initial burst is spent", () => {
  const budget = new RetryBudget({ ratio: 0, minPerSecond: 0, now: () => 0 });
  for (let i = 0; i < 100; i++) expect(budget.tryWithdraw()).toBe(true);
  budget.deposit();
  expect(budget.tryWithdraw()).toBe(false);
});

test.each([
  [{ ratio: -1, minPerSecond: 0 }, "ratio must be a finite number >= 0, got -1"],
  [{ ratio: 0, minPerSecond: NaN }, "minPerSecond must be a finite number >= 0, got NaN"],
])("rejects %p", (options, message) => {
  expect(() => new RetryBudget(options)).toThrow(message);
});
