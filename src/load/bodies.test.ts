import { describe, expect, test } from "bun:test";
import { createBodies } from "./bodies.ts";

function counter(): () => string {
  let n = 0;
  return () => `line ${++n}`;
}

const decode = (body: Uint8Array) => JSON.parse(new TextDecoder().decode(body));

describe("createBodies", () => {
  test("a packet of one is a single {log} message", () => {
    expect(createBodies(counter(), 2, 1).map(decode)).toEqual([{ log: "line 1" }, { log: "line 2" }]);
  });

  test("larger packets are {logs} arrays of that many lines, none repeated", () => {
    expect(createBodies(counter(), 2, 3).map(decode)).toEqual([
      { logs: ["line 1", "line 2", "line 3"] },
      { logs: ["line 4", "line 5", "line 6"] },
    ]);
  });

  test("lines with quotes, backslashes and non-ASCII survive encoding", () => {
    const line = 'msg="caf\u00e9 \\ 10.0.0.1" \u2713';
    expect(decode(createBodies(() => line, 1, 1)[0]!)).toEqual({ log: line });
  });

  test.each([
    [0, 1, "count must be a positive integer, got 0"],
    [1, 0, "packet must be a positive integer, got 0"],
    [1.5, 1, "count must be a positive integer, got 1.5"],
  ])("count %p and packet %p are refused", (count, packet, message) => {
    expect(() => createBodies(counter(), count, packet)).toThrow(message);
  });
});
