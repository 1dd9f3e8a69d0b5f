import { describe, expect, test } from "bun:test";
import { createPaint, shouldColour } from "./colour.ts";

describe("colour", () => {
  test("enabled paint wraps text in ANSI codes that reset only what they set", () => {
    expect(createPaint(true).red("x")).toBe("\x1b[31mx\x1b[39m");
    expect(createPaint(true).bold("x")).toBe("\x1b[1mx\x1b[22m");
  });

  test("disabled paint leaves text alone", () => {
    expect(createPaint(false).green("x")).toBe("x");
  });

  test.each([
    [true, {}, true],
    [true, { NO_COLOR: "1" }, false],
    [false, {}, false],
    [undefined, {}, false],
  ])("a stream with isTTY %p and env %j is coloured: %p", (isTTY, env, expected) => {
    expect(shouldColour({ isTTY }, env)).toBe(expected);
  });
});
