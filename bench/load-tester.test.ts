import { describe, expect, test } from "bun:test";
import { parseLoadTester } from "./load-tester.ts";

// The fields of load_tester.ts --json that the bench reads (times in milliseconds), trimmed.
const OUTPUT = JSON.stringify({
  summary: { successRate: 0.99, totalMs: 1001.296, requests: 10120, successes: 10100, failures: 20, packet: 1 },
  latencyPercentiles: { p10: 0.494, p50: 0.703, p99: 2.564, "p99.9": 5.14 },
  histogram: [],
  statusCodes: { "200": 10100, "503": 15 },
  errors: [
    { kind: "http", message: "503 no healthy analyzer", count: 15 },
    { kind: "connection", message: "ECONNRESET", count: 5 },
  ],
});

describe("parseLoadTester", () => {
  test("failures split into non-2xx answers and requests without an answer", () => {
    expect(parseLoadTester(OUTPUT)).toEqual({
      elapsedMs: 1001.296,
      responses: 10115,
      ok: 10100,
      non2xx: 15,
      socketErrors: 5,
      p50Ms: 0.703,
      p99Ms: 2.564,
      statusCodes: { "200": 10100, "503": 15 },
    });
  });

  test("output that is not its report is an error", () => {
    expect(() => parseLoadTester("{}")).toThrow("no summary.totalMs");
  });
});
