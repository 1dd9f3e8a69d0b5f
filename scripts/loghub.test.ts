import { describe, expect, test } from "bun:test";
import { groupingAccuracy, parseCsv, readStructured } from "./loghub.ts";

describe("parseCsv", () => {
  test("reads quoted fields with commas, doubled quotes and newlines", () => {
    expect(parseCsv('a,b\n"x, y","say ""hi""\nthere"\r\n')).toEqual([
      ["a", "b"],
      ["x, y", 'say "hi"\nthere'],
    ]);
  });
});

describe("readStructured", () => {
  test("takes the Content and EventId columns in line order", () => {
    const csv = "LineId,Content,EventId,EventTemplate\n1,open a,E1,open <*>\n2,close b,E2,close <*>\n";
    expect(readStructured(csv)).toEqual({ content: ["open a", "close b"], eventIds: ["E1", "E2"] });
  });

  test("refuses a CSV without those columns", () => {
    expect(() => readStructured("a,b\n1,2\n")).toThrow(/no Content and EventId/);
  });
});

describe("groupingAccuracy", () => {
  test.each([
    ["a perfect grouping, whatever the labels", [7, 7, 9], ["E1", "E1", "E2"], 1],
    ["one event split in two: both of its parts are wrong", [1, 2, 3], ["E1", "E1", "E2"], 1 / 3],
    ["two events merged: all of their lines are wrong", [1, 1, 1, 2], ["E1", "E1", "E2", "E3"], 1 / 4],
    ["nothing", [], [], 1],
  ])("%s", (_name, predicted, truth, ga) => {
    expect(groupingAccuracy(predicted, truth)).toBeCloseTo(ga, 10);
  });

  test("refuses predictions and labels of different lengths", () => {
    expect(() => groupingAccuracy([1], [])).toThrow(RangeError);
  });
});
