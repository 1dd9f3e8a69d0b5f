// Smoke test: the real bench script as a child process, on a PATH with no oha, wrk, hey, haproxy or
// nginx, so it falls back to load_tester.ts and must still print the table and write valid JSON
// (ndjson is n/a there: load_tester sends only its own {"log"}/{"logs"} bodies).
// No timing assertions: the figures of a one-second run mean nothing.

import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnChild } from "../testkit/procs.ts";
import type { BenchReport } from "./report.ts";

setDefaultTimeout(60_000); // see test/setup.ts

const scratch = mkdtempSync(join(tmpdir(), "bench-smoke-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

test("--smoke on one target prints the machine, the table and writes the same as JSON", async () => {
  const out = join(scratch, "results");
  const emptyPath = join(scratch, "bin"); // does not even exist: nothing is found on it
  const bench = spawnChild(
    "bench",
    [
      process.execPath,
      "bench/bench.ts",
      "--smoke",
      "--targets",
      "distributor",
      "--scenarios",
      "single,ndjson",
      "--out",
      out,
    ],
    { env: { PATH: emptyPath } },
  );
  // A bound against hangs. SIGTERM, not SIGKILL: the bench then stops its own children before exiting.
  const hung = setTimeout(() => bench.signal("SIGTERM"), 45_000);
  const code = await bench.exited;
  clearTimeout(hung);
  const [stdout, stderr] = [bench.stdout(), bench.stderr()];
  expect({ code, stderr }).toEqual({ code: 0, stderr: expect.any(String) });

  expect(stdout).toContain("machine:   ");
  expect(stdout).toContain("generator: load_tester");
  expect(stdout).toMatch(
    /^\| scenario \| target +\| requests\/s \| logs\/s \| p50 ms \| p99 ms \| errors \| lost \| vs HAProxy \|$/m,
  );
  expect(stdout).toMatch(/^\| single +\| distributor +\| +[\d,]+ \| +[\d,]+ \|/m);

  const latest = join(out, "latest.json");
  expect(existsSync(latest)).toBe(true);
  const report = JSON.parse(readFileSync(latest, "utf8")) as BenchReport;
  expect(report.generator.name).toBe("load_tester");
  expect(report.settings).toMatchObject({ smoke: true, scenarios: ["single", "ndjson"], targets: ["distributor"] });
  expect(report.rows).toHaveLength(2);
  expect(report.rows[0]).toMatchObject({ scenario: "single", target: "distributor", supported: true, rounds: 1 });
  expect(report.rows[0]!.logsPerSec).toBeGreaterThan(0);
  expect(report.rows[1]).toMatchObject({ scenario: "ndjson", target: "distributor", supported: false });
  expect(stdout).toMatch(/^\| ndjson +\| distributor +\| +n\/a \|/m);
  expect(stdout).toContain(
    'ndjson distributor: n/a (load_tester sends only its own {"log"}/{"logs"} bodies, not NDJSON)',
  );
  expect(report.measurements).toHaveLength(2);
  // the timestamped file holds the same report
  const stamped = stdout.match(/^results: +(\S+\.json)/m)![1]!;
  expect(readFileSync(stamped, "utf8")).toBe(readFileSync(latest, "utf8"));
});
