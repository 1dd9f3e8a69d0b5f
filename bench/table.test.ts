import { expect, test } from "bun:test";
import type { Row } from "./summary.ts";
import { renderTable } from "./table.ts";

const row = (r: Partial<Row>): Row => ({
  scenario: "single",
  target: "haproxy",
  supported: true,
  rounds: 3,
  requestsPerSec: 25_000.4,
  logsPerSec: 25_000.4,
  p50Ms: 2.345,
  p99Ms: 9,
  errors: 0,
  lost: 0,
  lostIsUpperBound: false,
  ratioToHaproxy: 1,
  ratioBase: "single",
  ...r,
});

test("a Markdown table: names left, numbers right, n/a for what a target cannot do, ≤ for a bound, a footnote for a borrowed base", () => {
  const text = renderTable([
    row({}),
    row({
      target: "distributor",
      requestsPerSec: 12_345.6,
      logsPerSec: 12_345.6,
      errors: 1_234,
      ratioToHaproxy: 0.49382,
    }),
    row({
      scenario: "async",
      target: "distributor",
      logsPerSec: 50_000,
      ratioToHaproxy: 2,
      ratioBase: "single",
      p99Ms: null,
    }),
    row({ scenario: "async", supported: false }),
    row({ scenario: "failover", ratioBase: "failover", lost: 5, lostIsUpperBound: true }),
    row({ scenario: "failover", ratioBase: "failover", target: "nginx", lost: 0, lostIsUpperBound: true }),
  ]);
  expect(text).toBe(
    [
      "| scenario | target      | requests/s | logs/s | p50 ms | p99 ms | errors | lost | vs HAProxy |",
      "|:---------|:------------|-----------:|-------:|-------:|-------:|-------:|-----:|-----------:|",
      "| single   | haproxy     |     25,000 | 25,000 |   2.35 |   9.00 |      0 |    0 |      1.00× |",
      "| single   | distributor |     12,346 | 12,346 |   2.35 |   9.00 |  1,234 |    0 |      0.49× |",
      "| async    | distributor |     25,000 | 50,000 |   2.35 |      - |      0 |    0 |     2.00×* |",
      "| async    | haproxy     |        n/a |    n/a |    n/a |    n/a |    n/a |  n/a |        n/a |",
      "| failover | haproxy     |     25,000 | 25,000 |   2.35 |   9.00 |      0 |   ≤5 |      1.00× |",
      "| failover | nginx       |     25,000 | 25,000 |   2.35 |   9.00 |      0 |    0 |      1.00× |",
      "* async: ratio to HAProxy's single logs/s (HAProxy has no async)",
      "",
    ].join("\n"),
  );
});
