// End to end: the real load_tester.ts as a child process against a real distributor in front of
// two real analyzers (weights 1:3), all on port 0.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Report } from "../src/load/report.ts";
import { type Cluster, startCluster } from "../testkit/cluster.ts";
import { spawnChild, stopAll } from "../testkit/procs.ts";

setDefaultTimeout(60_000); // see test/setup.ts

let cluster: Cluster;
let analyzeUrl: string;

beforeAll(async () => {
  cluster = await startCluster([1, 3]);
  analyzeUrl = `${cluster.distributor.url}/analyze`;
});

afterAll(stopAll);

type Outcome = { code: number; stdout: string; stderr: string };

async function loadTester(...args: string[]): Promise<Outcome> {
  const tester = spawnChild("load_tester.ts", [process.execPath, "load_tester.ts", ...args]);
  const code = await tester.exited;
  return { code, stdout: tester.stdout(), stderr: tester.stderr() };
}

async function jsonRun(...args: string[]): Promise<Report> {
  const { code, stdout, stderr } = await loadTester(...args, "--json");
  expect({ code, stderr: code === 0 ? "" : stderr }).toEqual({ code: 0, stderr: "" });
  // --json prints exactly one JSON document to stdout, nothing before or after it.
  return JSON.parse(stdout) as Report;
}

function measured(report: Report) {
  const d = report.distribution;
  if (d.skipped !== undefined) throw new Error(`distribution report skipped: ${d.skipped}`);
  return d;
}

/** A port with nothing listening: bind one, then let it go. */
function closedPort(): number {
  const server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = server.port!;
  server.stop(true);
  return port;
}

describe("load_tester.ts against a real distributor", () => {
  test("200 requests from 8 workers all succeed and every message is found at an analyzer", async () => {
    const report = await jsonRun("--url", analyzeUrl, "-n", "200", "-c", "8", "--seed", "1");
    expect(report.summary).toMatchObject({
      requests: 200,
      successes: 200,
      failures: 0,
      successRate: 1,
      logsAccepted: 200,
      packet: 1,
    });
    expect(report.statusCodes).toEqual({ "200": 200 });
    expect(report.errors).toEqual([]);
    expect(report.histogram.reduce((sum, b) => sum + b.count, 0)).toBe(200);
    expect(Object.keys(report.latencyPercentiles)).toEqual(["p10", "p25", "p50", "p75", "p90", "p95", "p99", "p99.9"]);

    const d = measured(report);
    expect(d.analyzers.map((a) => [a.id, a.weight, a.expectedShare])).toEqual([
      ["a1", 1, 0.25],
      ["a2", 3, 0.75],
    ]);
    expect(d.total).toBe(200);
    expect(d.analyzers.reduce((sum, a) => sum + a.received, 0)).toBe(200);
    expect(["consistent", "inconsistent"]).toContain(d.verdict);
    expect(d.notes).toEqual([]);
  });

  test("packets of 5 count as 5 messages each, in logs/s and in the distribution", async () => {
    const report = await jsonRun("--url", analyzeUrl, "-n", "200", "-c", "8", "--packet", "5");
    expect(report.summary).toMatchObject({ requests: 200, successes: 200, logsAccepted: 1000 });
    expect(report.summary.logsPerSec).toBeCloseTo(report.summary.requestsPerSec * 5, 0);
    expect(report.statusCodes).toEqual({ "200": 200 });
    expect(measured(report).total).toBe(1000);
  });

  test("async requests are accepted with 202 and the report waits until they are delivered", async () => {
    const report = await jsonRun("--url", analyzeUrl, "-n", "100", "-c", "8", "--packet", "3", "--async");
    expect(report.statusCodes).toEqual({ "202": 100 });
    const d = measured(report);
    expect(d.settled).toBe(true);
    expect(d.total).toBe(300);
  });

  test("an open-loop run at a set rate sends the count asked for", async () => {
    const report = await jsonRun("--url", analyzeUrl, "-n", "50", "-q", "500", "-c", "4");
    expect(report.summary).toMatchObject({ requests: 50, successes: 50, rate: 500 });
    expect(measured(report).total).toBe(50);
  });

  test("the text report has every section, no colour off a TTY, and progress only on stderr", async () => {
    const { code, stdout, stderr } = await loadTester("--url", analyzeUrl, "-n", "200", "-c", "8");
    expect(code).toBe(0);
    for (const heading of [
      "Summary:",
      "Response time histogram:",
      "Response time distribution:",
      "Status code distribution:",
      "Distribution across analyzers",
    ]) {
      expect(stdout).toContain(heading);
    }
    expect(stdout).toContain("  Success rate:  100.00%  (success = a 2xx response)");
    expect(stdout).toContain("  [200] 200 responses");
    expect(stdout).toMatch(/chi-square \S+, 1 df, p = \S+: (NOT )?consistent with weights/);
    expect(stdout + stderr).not.toContain("\x1b[");
    expect(stderr).not.toContain("\r");
  });
});

describe("load_tester.ts against a distributor that wants a bearer token", () => {
  const TOKEN = "s3cret";
  let securedUrl: string;

  beforeAll(async () => {
    // Its own cluster, so the token does not change the runs above; the afterAll above stops it.
    const secured = await startCluster([1, 3], { AUTH_TOKEN: TOKEN });
    securedUrl = `${secured.distributor.url}/analyze`;
  });

  test.each([
    ["no Authorization header", []],
    ["a wrong token", ["-H", "Authorization: Bearer guess"]],
  ])("with %s every request gets a 401, shown in the error distribution, and it exits 1", async (_, headerArgs) => {
    const { code, stdout } = await loadTester("--url", securedUrl, "-n", "20", "-c", "4", ...headerArgs);
    expect(code).toBe(1);
    expect(stdout).toContain("  Success rate:  0.00%");
    expect(stdout).toContain("Status code distribution:\n  [401] 20 responses\n");
    expect(stdout).toContain("Error distribution:\n  [20] HTTP error: 401 missing or wrong bearer token");
  });

  test('with -H "Authorization: Bearer <token>" every request succeeds and it exits 0', async () => {
    const report = await jsonRun("--url", securedUrl, "-n", "50", "-c", "4", "-H", `Authorization: Bearer ${TOKEN}`);
    expect(report.summary).toMatchObject({ requests: 50, successes: 50, failures: 0 });
    expect(report.statusCodes).toEqual({ "200": 50 });
    expect(measured(report).total).toBe(50);
  });

  test("a malformed -H exits 2 before sending anything", async () => {
    const { code, stderr } = await loadTester("--url", securedUrl, "-H", "Authorization Bearer s3cret");
    expect(code).toBe(2);
    expect(stderr.split("\n")[0]).toBe(
      'load_tester: -H must look like "Name: value", got "Authorization Bearer s3cret"',
    );
  });
});

describe("load_tester.ts when things go wrong", () => {
  test("with nothing listening it exits 1, counts connection errors and skips the distribution", async () => {
    const port = closedPort();
    const { code, stdout } = await loadTester(
      "--url",
      `http://127.0.0.1:${port}/analyze`,
      "-n",
      "20",
      "-c",
      "4",
      "--json",
    );
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as Report;
    expect(report.summary).toMatchObject({ requests: 20, successes: 0, failures: 20 });
    expect(report.statusCodes).toEqual({});
    expect(report.errors).toEqual([{ kind: "connection", message: expect.any(String), count: 20 }]);
    expect(report.distribution).toEqual({
      statsUrl: `http://127.0.0.1:${port}/stats`,
      skipped: expect.stringContaining(`could not reach http://127.0.0.1:${port}/stats`),
    });
  });

  test("the text report names connection errors", async () => {
    const { code, stdout } = await loadTester(
      "--url",
      `http://127.0.0.1:${closedPort()}/analyze`,
      "-n",
      "5",
      "-c",
      "1",
    );
    expect(code).toBe(1);
    expect(stdout).toContain("Error distribution:\n  [5] connection error: ");
    expect(stdout).toContain("  Success rate:  0.00%");
  });

  test.each([
    [["-c", "abc"], 'load_tester: -c must be a positive integer, got "abc"'],
    [["--frobnicate"], 'load_tester: unknown flag "--frobnicate"'],
    [["-z", "10"], 'load_tester: -z must be a duration like 500ms, 10s or 1m, got "10"'],
  ])("bad flags %j exit 2 with one line and the usage on stderr", async (args, message) => {
    const { code, stdout, stderr } = await loadTester(...args);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr.split("\n")[0]).toBe(message);
    expect(stderr).toContain("Usage: bun load_tester.ts [flags] [url]");
  });

  test("--help prints the usage to stdout and exits 0", async () => {
    const { code, stdout } = await loadTester("--help");
    expect(code).toBe(0);
    expect(stdout).toStartWith("Usage: bun load_tester.ts");
  });
});
