import { describe, expect, test } from "bun:test";
import type { Scenario, TargetName } from "./args.ts";
import { type Measurement, median, summarize } from "./summary.ts";

function m(
  round: number,
  scenario: Scenario,
  target: TargetName,
  logsPerSec: number,
  extra: Partial<Measurement> = {},
): Measurement {
  return {
    round,
    scenario,
    target,
    supported: true,
    elapsedMs: 5000,
    requestsPerSec: scenario === "packet" || scenario === "ndjson" ? logsPerSec / 100 : logsPerSec,
    logsPerSec,
    p50Ms: 1,
    p99Ms: 10,
    responses: 0,
    ok: 0,
    non2xx: 0,
    socketErrors: 0,
    errors: 0,
    acknowledgedLogs: 0,
    processedLogs: 0,
    analyzerRequests: 0,
    lost: 0,
    lostIsUpperBound: false,
    unacknowledged: 0,
    statusCodes: {},
    notes: [],
    ...extra,
  };
}

describe("median", () => {
  test.each([
    [[], null],
    [[3], 3],
    [[5, 1, 3], 3],
    [[4, 1, 3, 2], 2.5],
  ])("of %p is %p", (values, expected) => expect(median(values)).toBe(expected));
});

describe("summarize", () => {
  const rounds = [
    m(1, "single", "haproxy", 30_000, { p99Ms: 4 }),
    m(2, "single", "haproxy", 20_000, { p99Ms: 9 }),
    m(3, "single", "haproxy", 25_000, { p99Ms: 5 }),
    m(1, "single", "distributor", 15_000, { errors: 2, lost: 1 }),
    m(2, "single", "distributor", 10_000),
    m(3, "single", "distributor", 5_000, { errors: 3 }),
  ];

  test("rates and latencies are medians over rounds; errors and lost are totals", () => {
    const [distributor, haproxy] = summarize(rounds, ["single"], ["distributor", "haproxy"]);
    expect(haproxy).toMatchObject({
      target: "haproxy",
      rounds: 3,
      logsPerSec: 25_000,
      p99Ms: 5,
      errors: 0,
      ratioToHaproxy: 1,
    });
    expect(distributor).toMatchObject({
      target: "distributor",
      logsPerSec: 10_000,
      errors: 5,
      lost: 1,
      ratioToHaproxy: 0.4,
      ratioBase: "single",
    });
  });

  test("async is n/a for the proxies, and the distributor's async is compared with HAProxy's single", () => {
    const rows = summarize(
      [...rounds, m(1, "async", "distributor", 50_000), { ...m(1, "async", "haproxy", 0), supported: false }],
      ["single", "async"],
      ["distributor", "haproxy"],
    );
    const haproxyAsync = rows.find((r) => r.scenario === "async" && r.target === "haproxy")!;
    expect(haproxyAsync).toMatchObject({ supported: false, logsPerSec: null, errors: null, ratioToHaproxy: null });
    const async = rows.find((r) => r.scenario === "async" && r.target === "distributor")!;
    expect(async).toMatchObject({ ratioToHaproxy: 2, ratioBase: "single" });
  });

  test("ndjson is compared with HAProxy's ndjson, not with its {logs} packets", () => {
    const rows = summarize(
      [
        m(1, "packet", "haproxy", 500_000),
        m(1, "packet", "distributor", 350_000),
        m(1, "ndjson", "haproxy", 400_000),
        m(1, "ndjson", "distributor", 440_000),
      ],
      ["packet", "ndjson"],
      ["distributor", "haproxy"],
    );
    const ndjson = rows.find((r) => r.scenario === "ndjson" && r.target === "distributor")!;
    expect(ndjson).toMatchObject({ ratioToHaproxy: 1.1, ratioBase: "ndjson" });
  });

  test("without HAProxy there is no ratio", () => {
    const [row] = summarize([m(1, "packet", "distributor", 70_000)], ["packet"], ["distributor"]);
    expect(row).toMatchObject({ logsPerSec: 70_000, requestsPerSec: 700, ratioToHaproxy: null, ratioBase: null });
  });

  test("rows follow the given scenario and target order and skip pairs never measured", () => {
    const rows = summarize(rounds, ["packet", "single"], ["nginx", "haproxy", "distributor"]);
    expect(rows.map((r) => `${r.scenario}/${r.target}`)).toEqual(["single/haproxy", "single/distributor"]);
  });
});
