import { expect, test } from "bun:test";
import { fileStamp } from "./report.ts";

test("result file names sort by time and have no colons", () => {
  expect(fileStamp("2026-11-24T20:15:03.123Z")).toBe("2026-11-24T20-15-03Z");
});
