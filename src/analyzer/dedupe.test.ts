import { expect, test } from "bun:test";
import { SeenIds } from "./dedupe.ts";

test("remembers ids up to the window, forgetting the oldest first", () => {
  const seen = new SeenIds(3);
  for (const id of ["a", "b", "c"]) seen.add(id);
  expect(["a", "b", "c"].map((id) => seen.has(id))).toEqual([true, true, true]);
  seen.add("d");
  expect(seen.has("a")).toBe(false);
  expect(["b", "c", "d"].map((id) => seen.has(id))).toEqual([true, true, true]);
  expect(seen.size).toBe(3);
});

test("adding an id it holds changes nothing", () => {
  const seen = new SeenIds(2);
  seen.add("a");
  seen.add("b");
  seen.add("a");
  expect([seen.has("a"), seen.has("b"), seen.size]).toEqual([true, true, 2]);
});

test("a window of 0 remembers nothing; a bad window is a RangeError showing it", () => {
  const seen = new SeenIds(0);
  seen.add("a");
  expect(seen.has("a")).toBe(false);
  expect(() => new SeenIds(-1)).toThrow("window must be a whole number, got -1");
});
