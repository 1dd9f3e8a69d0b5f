import { describe, expect, test } from "bun:test";
import type { LoadSpec } from "./generator.ts";
import { oha, parseOha } from "./oha.ts";

// The shape of `oha --output-format json` (times in seconds), trimmed.
const OUTPUT = JSON.stringify({
  summary: { successRate: 1, total: 5.0012, slowest: 0.09, fastest: 0.0001, average: 0.003, requestsPerSec: 21000.5 },
  responseTimeHistogram: { "0.001": 5000 },
  latencyPercentiles: { p10: 0.001, p50: 0.0025, p90: 0.006, p99: 0.0182, "p99.9": 0.05 },
  statusCodeDistribution: { "200": 104000, "502": 12, "503": 3 },
  errorDistribution: { "aborted due to deadline": 64, "connection closed before message completed": 2 },
});

describe("parseOha", () => {
  test("4xx/5xx are not successes here, whatever oha's successRate says", () => {
    expect(parseOha(OUTPUT)).toEqual({
      elapsedMs: 5001.2,
      responses: 104015,
      ok: 104000,
      non2xx: 15,
      socketErrors: 2,
      p50Ms: 2.5,
      p99Ms: 18.2,
      statusCodes: { "200": 104000, "502": 12, "503": 3 },
    });
  });

  test("requests cut off by the deadline are the run ending, not errors", () => {
    const onlyDeadline = JSON.stringify({
      summary: { total: 1 },
      statusCodeDistribution: { "200": 10 },
      errorDistribution: { "aborted due to deadline": 8 },
    });
    expect(parseOha(onlyDeadline).socketErrors).toBe(0);
  });

  test("a run without a response has no percentiles", () => {
    const none = JSON.stringify({
      summary: { total: 1 },
      latencyPercentiles: { p50: null, p99: null },
      statusCodeDistribution: {},
      errorDistribution: { "connection refused": 9 },
    });
    expect(parseOha(none)).toMatchObject({ responses: 0, socketErrors: 9, p50Ms: null, p99Ms: null });
  });

  test("output that is not oha's JSON is an error", () => {
    expect(() => parseOha('{"nope": 1}')).toThrow("no summary.total");
  });
});

describe("oha.command", () => {
  const spec = (contentType: string, async = false, minimal = false): LoadSpec => ({
    url: "http://127.0.0.1:6000/analyze",
    durationMs: 1500,
    connections: 8,
    body: "{}",
    bodyFile: "/tmp/body",
    contentType,
    packet: 1,
    async,
    minimal,
    dir: "/tmp",
  });

  test("POSTs the body file with the body's Content-Type; Prefer only as the spec asks", async () => {
    const argv = await oha.command(spec("application/x-ndjson"));
    expect(argv.join(" ")).toContain("-m POST -T application/x-ndjson");
    expect(argv.slice(-3)).toEqual(["-D", "/tmp/body", "http://127.0.0.1:6000/analyze"]);
    expect(argv).not.toContain("Prefer: respond-async");
    expect(await oha.command(spec("application/json", true))).toContain("Prefer: respond-async");
    expect(await oha.command(spec("application/x-ndjson", false, true))).toContain("Prefer: return=minimal");
  });
});
