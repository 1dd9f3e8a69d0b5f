import { describe, expect, test } from "bun:test";
import { type BenchOptions, DEFAULT_OUT_DIR, parseArgs, UsageError } from "./args.ts";

const run = (...argv: string[]): BenchOptions => {
  const parsed = parseArgs(argv);
  if (parsed.kind !== "run") throw new Error("expected a run");
  return parsed.options;
};

describe("parseArgs", () => {
  test("defaults: every scenario, the three main targets, 3 rounds of 5 s with 64 connections", () => {
    expect(run()).toEqual({
      scenarios: ["single", "packet", "ndjson", "async", "failover", "tls"],
      targets: ["distributor", "haproxy", "nginx"],
      durationMs: 5_000,
      rounds: 3,
      connections: 64,
      warmupMs: 1_000,
      smoke: false,
      generator: undefined,
      outDir: DEFAULT_OUT_DIR,
    });
  });

  test("--smoke makes a tiny run, and explicit flags still win", () => {
    expect(run("--smoke")).toMatchObject({ smoke: true, durationMs: 1_000, rounds: 1, connections: 8, warmupMs: 0 });
    expect(run("--smoke", "--duration", "2s")).toMatchObject({ durationMs: 2_000, rounds: 1 });
  });

  test("lists keep the canonical order and drop repeats, whatever the spelling", () => {
    expect(run("--scenarios", "failover, single,single").scenarios).toEqual(["single", "failover"]);
    expect(run("--scenarios", "packet,ndjson").scenarios).toEqual(["packet", "ndjson"]);
    expect(run("--targets=nginx,distributor").targets).toEqual(["distributor", "nginx"]);
  });

  test("values can follow the flag or an equals sign", () => {
    expect(
      run(
        "--rounds=5",
        "--connections",
        "16",
        "--duration=500ms",
        "--warmup",
        "0",
        "--generator",
        "hey",
        "--out",
        "/tmp/x",
      ),
    ).toMatchObject({
      rounds: 5,
      connections: 16,
      durationMs: 500,
      warmupMs: 0,
      generator: "hey",
      outDir: "/tmp/x",
    });
  });

  test("help wins over everything else", () => {
    expect(parseArgs(["--rounds", "2", "-h"])).toEqual({ kind: "help" });
  });

  test.each([
    [["--scenarios", "bursty"], 'must be one of single, packet, ndjson, async, failover, tls, got "bursty"'],
    [["--targets", ","], "needs at least one of"],
    [["--rounds", "0"], '--rounds must be a positive integer, got "0"'],
    [["--connections", "1.5"], '--connections must be a positive integer, got "1.5"'],
    [["--duration", "5"], '--duration must be a duration like 500ms, 5s or 1m, got "5"'],
    [["--duration"], "--duration needs a value"],
    [["--rounds", "1", "--rounds", "2"], '--rounds given twice ("1" and "2")'],
    [["--smoke=yes"], '--smoke takes no value, got "yes"'],
    [["--fast"], 'unknown flag "--fast"'],
    [["haproxy"], 'unexpected argument "haproxy"'],
    [["--generator", "ab"], '--generator must be one of oha, wrk, hey, load_tester, got "ab"'],
  ])("%p is refused with one line naming the flag and the value", (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });
});

// The syntax itself is src/load/duration.ts's, tested beside it; these are the bench's flags using it.
describe("--duration and --warmup", () => {
  test.each([
    ["500ms", 500],
    ["5s", 5_000],
    ["1.5m", 90_000],
    [" 2s ", 2_000],
    ["1h", 3_600_000],
  ])("%p is %p ms", (text, ms) => {
    expect(run("--duration", text).durationMs).toBe(ms);
    expect(run("--warmup", text).warmupMs).toBe(ms);
  });

  test.each(["", "5", "0s", "-1s", "5 s", "1d"])("%p is refused", (text) => {
    expect(() => run("--duration", text)).toThrow(`--duration must be a duration like 500ms, 5s or 1m, got "${text}"`);
    expect(() => run("--warmup", text)).toThrow(`--warmup must be a duration like 500ms, 5s or 1m, got "${text}"`);
  });
});
