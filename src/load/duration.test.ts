import { describe, expect, test } from "bun:test";
import { formatDuration, parseDuration } from "./duration.ts";

describe("parseDuration", () => {
  test.each([
    ["500ms", 500],
    ["10s", 10_000],
    ["1.5s", 1_500],
    ["1m", 60_000],
    ["2h", 7_200_000],
    [" 3s ", 3_000],
  ])("%p is %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  test.each(["10", "s", "-1s", "0s", "0ms", "1d", "1 s", "1e3ms", "", "ten seconds"])(
    "%p is not a duration",
    (text) => {
      expect(parseDuration(text)).toBeUndefined();
    },
  );
});

describe("formatDuration", () => {
  test.each([
    [850, "850ms"],
    [0.25, "0.3ms"],
    [12_500, "12.5s"],
    [60_000, "1m"],
    [150_000, "2m30s"],
  ])("%d ms reads as %p", (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
