import { describe, expect, test } from "bun:test";
import { classifyError, ErrorTally } from "./errors.ts";

function fetchError(code: string, message: string): Error {
  return Object.assign(new TypeError(message), { code });
}

describe("classifyError", () => {
  test.each([
    [fetchError("ECONNREFUSED", "ECONNREFUSED: Unable to connect."), "connection", "ECONNREFUSED: Unable to connect."],
    [fetchError("ECONNRESET", "socket hang up"), "connection", "socket hang up"],
    [
      fetchError("ENOTFOUND", "getaddrinfo ENOTFOUND nowhere.invalid"),
      "connection",
      "getaddrinfo ENOTFOUND nowhere.invalid",
    ],
    [new DOMException("The operation timed out.", "TimeoutError"), "timeout", "The operation timed out."],
    [new Error("boom"), "other", "boom"],
    ["a string", "other", "a string"],
  ])("%p is a %s error reading %p", (error, kind, message) => {
    expect(classifyError(error)).toEqual({ kind: kind as never, message });
  });

  test("a real refused connection from fetch is a connection error", async () => {
    // Port 1 is privileged and unused on test machines, so nothing answers there.
    const error = await fetch("http://127.0.0.1:1/").then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(classifyError(error).kind).toBe("connection");
  });
});

describe("ErrorTally", () => {
  test("counts by kind and message, most frequent first", () => {
    const tally = new ErrorTally();
    tally.add("timeout", "timed out");
    tally.add("connection", "refused");
    tally.add("connection", "refused");
    tally.add("http", "503: queue is full");
    expect(tally.total).toBe(4);
    expect(tally.entries()).toEqual([
      { kind: "connection", message: "refused", count: 2 },
      { kind: "timeout", message: "timed out", count: 1 },
      { kind: "http", message: "503: queue is full", count: 1 },
    ]);
  });

  test("the same message under different kinds is counted apart", () => {
    const tally = new ErrorTally();
    tally.add("other", "x");
    tally.add("http", "x");
    expect(tally.entries()).toHaveLength(2);
  });

  test("past 50 distinct messages the rest are grouped, and nothing is lost", () => {
    const tally = new ErrorTally();
    for (let i = 0; i < 60; i++) tally.add("http", `500: error ${i}`);
    const entries = tally.entries();
    expect(entries).toHaveLength(51);
    expect(entries[0]).toEqual({ kind: "http", message: "(other messages)", count: 10 });
    expect(entries.reduce((sum, e) => sum + e.count, 0)).toBe(60);
  });

  test("entries are copies, so callers cannot change the counts", () => {
    const tally = new ErrorTally();
    tally.add("other", "x");
    tally.entries()[0]!.count = 99;
    expect(tally.entries()[0]!.count).toBe(1);
  });
});
