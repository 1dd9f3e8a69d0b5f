import { expect, test } from "bun:test";
import { minimalBatchAnswer, prefersMinimal } from "./batch.ts";

test.each([
  ["return=minimal", true],
  ["RETURN=MINIMAL", true],
  ['return="minimal"', true],
  ["respond-async, return=minimal", true],
  ["return=minimal; x=1", true],
  ["return=representation", false],
  ["return=minimalist", false],
  ["", false],
  [null, false],
])("Prefer: %p asks for a minimal answer: %p", (prefer, minimal) => {
  expect(prefersMinimal(prefer)).toBe(minimal);
});

test("a minimal batch answer counts the analyzed and lists the refused by index", () => {
  expect(minimalBatchAnswer('"a1"', [{ level: "INFO" }, { rejected: "bad" }, { duplicate: true }])).toBe(
    '"a1"\n{"analyzed":2,"rejected":[{"index":1,"reason":"bad"}]}',
  );
  expect(minimalBatchAnswer('"a1"', [{}])).toBe('"a1"\n{"analyzed":1}');
});
