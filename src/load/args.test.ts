import { describe, expect, test } from "bun:test";
import { DEFAULT_CONCURRENCY, DEFAULT_REQUESTS, DEFAULT_URL, type LoadOptions, parseArgs, UsageError } from "./args.ts";

const SEED = 42;
const parse = (...argv: string[]) => parseArgs(argv, () => SEED);

function options(...argv: string[]): LoadOptions {
  const parsed = parse(...argv);
  if (parsed.kind !== "run") throw new Error(`expected a run, got ${parsed.kind}`);
  return parsed.options;
}

const DEFAULTS: LoadOptions = {
  url: DEFAULT_URL,
  requests: DEFAULT_REQUESTS,
  concurrency: DEFAULT_CONCURRENCY,
  durationMs: undefined,
  rate: undefined,
  packet: 1,
  async: false,
  json: false,
  seed: SEED,
  timeoutMs: 20_000,
  headers: [],
  tls: { caFile: undefined, certFile: undefined, keyFile: undefined, insecure: false },
};

describe("parseArgs", () => {
  test("no flags behave like the original tester: 500 logs, 50 at a time, to localhost:6000", () => {
    expect(options()).toEqual(DEFAULTS);
    expect(DEFAULTS.url).toBe("http://localhost:6000/analyze");
  });

  test.each<[string[], Partial<LoadOptions>]>([
    [["-n", "200", "-c", "8"], { requests: 200, concurrency: 8 }],
    [["--requests=7", "--concurrency", "3"], { requests: 7, concurrency: 3 }],
    [["-z", "10s"], { requests: undefined, durationMs: 10_000 }],
    [["-z", "500ms", "-n", "100"], { requests: 100, durationMs: 500 }],
    [["-q", "250"], { rate: 250 }],
    [["-q", "0.5"], { rate: 0.5 }],
    [["--packet", "5"], { packet: 5 }],
    [["--async", "--json"], { async: true, json: true }],
    [["--url", "http://127.0.0.1:9/analyze"], { url: "http://127.0.0.1:9/analyze" }],
    [["http://127.0.0.1:9/analyze"], { url: "http://127.0.0.1:9/analyze" }],
    [["--seed", "-3"], { seed: -3 }],
    [["--seed=0"], { seed: 0 }],
    [["-t", "2s"], { timeoutMs: 2_000 }],
    [["-H", "Authorization: Bearer s3cret"], { headers: [["Authorization", "Bearer s3cret"]] }],
    [
      ["-H", "X-A: 1", "--header", "X-B: 2", "-H", "X-A: 3"],
      {
        headers: [
          ["X-A", "1"],
          ["X-B", "2"],
          ["X-A", "3"],
        ],
      },
    ],
    [["--header=X-Trace:abc"], { headers: [["X-Trace", "abc"]] }],
    [["-H", "  X-Pad  :  spaced out  "], { headers: [["X-Pad", "spaced out"]] }],
    [["-H", "X-Origin: http://a:1/b"], { headers: [["X-Origin", "http://a:1/b"]] }],
    [["-H", "X-Empty:"], { headers: [["X-Empty", ""]] }],
    [["--cacert", "ca.pem"], { tls: { ...DEFAULTS.tls, caFile: "ca.pem" } }],
    [
      ["--cert", "c.pem", "--key=k.pem", "-k"],
      { tls: { caFile: undefined, certFile: "c.pem", keyFile: "k.pem", insecure: true } },
    ],
    [["--insecure"], { tls: { ...DEFAULTS.tls, insecure: true } }],
  ])("%j sets %j", (argv, expected) => {
    expect(options(...argv)).toEqual({ ...DEFAULTS, ...expected });
  });

  test.each([[["-h"]], [["--help"]], [["-n", "abc", "--help"]]])("%j asks for help, even beside a bad flag", (argv) => {
    expect(parse(...argv)).toEqual({ kind: "help" });
  });

  test.each([
    [["-c", "abc"], '-c must be a positive integer, got "abc"'],
    [["-c", "0"], '-c must be a positive integer, got "0"'],
    [["-c", "-5"], '-c must be a positive integer, got "-5"'],
    [["-n", "1.5"], '-n must be a positive integer, got "1.5"'],
    [["-n", "1e3"], '-n must be a positive integer, got "1e3"'],
    [["--requests", ""], '-n must be a positive integer, got ""'],
    [["--packet", "0"], '--packet must be a positive integer, got "0"'],
    [["-q", "fast"], '-q must be a positive number, got "fast"'],
    [["-q", "0"], '-q must be a positive number, got "0"'],
    [["-z", "10"], '-z must be a duration like 500ms, 10s or 1m, got "10"'],
    [["-t", "1d"], '-t must be a duration like 500ms, 10s or 1m, got "1d"'],
    [["--seed", "x"], '--seed must be an integer, got "x"'],
    [["--url", "localhost:6000"], '--url must be an http:// or https:// URL, got "localhost:6000"'],
    [["--url", "not a url"], '--url must be an http:// or https:// URL, got "not a url"'],
    [["--bogus"], 'unknown flag "--bogus"'],
    [["-x"], 'unknown flag "-x"'],
    [["--bogus=1"], 'unknown flag "--bogus"'],
    [["-n"], "-n needs a value"],
    [["-c", "2", "-c", "3"], '-c given twice ("2" and "3")'],
    [["--json=yes"], '--json takes no value, got "yes"'],
    [["-H", "x"], '-H must look like "Name: value", got "x"'],
    [["--header", "Authorization Bearer s3cret"], '-H must look like "Name: value", got "Authorization Bearer s3cret"'],
    [["-H", ": value"], '-H must look like "Name: value", got ": value"'],
    [["-H", "Bad Name: value"], '-H must look like "Name: value", got "Bad Name: value"'],
    [["-H", "X-A: 1\r\nX-Injected: 2"], '-H must look like "Name: value", got "X-A: 1\\r\\nX-Injected: 2"'],
    [["-H"], "-H needs a value"],
    [["--cert", "c.pem"], "--cert needs --key (its private key)"],
    [["--key", "k.pem"], "--key needs --cert (the certificate it belongs to)"],
    [["--cacert"], "--cacert needs a value"],
    [["http://a/", "http://b/"], 'unexpected argument "http://b/" (the url is already "http://a/")'],
    [
      ["--url", "http://a/", "http://b/"],
      'give the url once, either as --url or as an argument (got "http://a/" and "http://b/")',
    ],
  ])("%j is refused: %s", (argv, message) => {
    expect(() => parse(...argv)).toThrow(new UsageError(message));
  });

  test("mistakes are UsageErrors, so the entrypoint can tell them from bugs", () => {
    expect(() => parse("-c", "abc")).toThrow(UsageError);
  });

  test("without --seed the seed comes from the injected source", () => {
    expect(parseArgs([], () => 7)).toMatchObject({ kind: "run", options: { seed: 7 } });
  });
});
