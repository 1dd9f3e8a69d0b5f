import { afterAll, afterEach, describe, expect, spyOn, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PROMETHEUS_CONTENT_TYPE } from "../http/prometheus.ts";
import type { Analysis, AnalyzerTemplates } from "../protocol/analysis.ts";
import { NDJSON } from "../protocol/batch.ts";
import type { ErrorBody } from "../protocol/error.ts";
import { USAGE } from "../protocol/formats/generic.ts";
import type { AnalyzerFault, AnalyzerStats } from "../protocol/stats.ts";
import { analyzeLine } from "./analysis.ts";
import { type AnalyzerOptions, createAnalyzer } from "./app.ts";
import { loadAnalyzerConfig } from "./config.ts";
import { TemplateMiner } from "./miner.ts";

/** The admin token the analyzers here take, so that POST /fault is on (it is off by default). */
const ADMIN = { authorization: "Bearer t" };

/** An analyzer with the defaults a bare `bun analyzer.ts` has but ADMIN_TOKEN=t, id "a1", changed by `options`. */
function analyzer(options: Partial<AnalyzerOptions> = {}) {
  const { port: _, host: __, ...defaults } = loadAnalyzerConfig({});
  return createAnalyzer({ ...defaults, adminToken: "t", id: "a1", ...options });
}
type Analyzer = ReturnType<typeof analyzer>;

const analyze = (a: Analyzer, body: string, headers: Record<string, string> = {}) =>
  a.app.request("/analyze", { method: "POST", body, headers });
const setFault = (a: Analyzer, change: Partial<AnalyzerFault> | string, headers: Record<string, string> = ADMIN) =>
  a.app.request("/fault", {
    method: "POST",
    body: typeof change === "string" ? change : JSON.stringify(change),
    headers,
  });
const statsOf = async (a: Analyzer) => (await (await a.app.request("/stats")).json()) as AnalyzerStats;

// No syslog timestamps here: their year comes from the clock.
const LINES = ["2024-05-01T12:00:00Z ERROR disk full on 10.0.0.1", "INFO user 42 logged in", "no level at all"];

/** The analyses of `lines` by a fresh analyzer: the same lines through a miner of their own. */
function analysesOf(lines: readonly string[]) {
  const miner = new TemplateMiner();
  return lines.map((l) => analyzeLine(l, { miner }));
}

/** Resolves once `done()` holds, checking between turns of the event loop (the requests run in-process). */
async function until(done: () => boolean): Promise<void> {
  // setTimeout rather than Bun.sleep, which the latency test replaces.
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 1));
}

/** A promise's state without waiting for it. */
function settledFlag(p: Response | Promise<Response>): { settled: boolean } {
  const flag = { settled: false };
  Promise.resolve(p).then(
    () => (flag.settled = true),
    () => (flag.settled = true),
  );
  return flag;
}

describe("POST /analyze", () => {
  test.each([
    ["application/json"],
    ["text/plain"],
    ["application/x-www-form-urlencoded"], // what `curl -d` sends
    [""],
  ])("answers a single line with its analysis whatever the Content-Type (%p)", async (contentType) => {
    const res = await analyze(analyzer(), JSON.stringify({ log: LINES[0] }), { "content-type": contentType });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ analyzer: "a1", result: analyzeLine(LINES[0]) });
  });

  test("answers a packet with every line's analysis in order, as plain JSON", async () => {
    const res = await analyze(analyzer(), JSON.stringify({ logs: LINES }));
    expect(res.headers.get("content-type")).toStartWith("application/json");
    expect(await res.json()).toEqual({ analyzer: "a1", results: analysesOf(LINES) });
  });

  // The distributor's form (src/protocol/batch.ts), answered at once or after a wait, small or
  // larger than what Bun sends in one write.
  const big = Array.from({ length: 200 }, (_, i) => `WARN request ${i} took long on 10.0.0.${i % 256}`);
  test.each([
    ["a small packet at once", LINES, 0],
    ["a large packet at once", big, 0],
    ["a small packet after a simulated latency", LINES, 0.001],
    ["a large packet after a simulated latency", big, 0.001],
  ])("answers %s in NDJSON when asked: the id, then one result per line", async (_, logs, latencySeconds) => {
    const res = await analyze(analyzer({ latencySeconds }), JSON.stringify({ logs }), {
      accept: "application/x-ndjson, application/json",
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(NDJSON);
    const lines = (await res.text()).split("\n");
    expect(lines).toHaveLength(logs.length + 1);
    expect(JSON.parse(lines[0])).toBe("a1");
    expect(lines.slice(1).map((l) => JSON.parse(l))).toEqual(analysesOf(logs));
  });

  test("answers a single line in plain JSON even when NDJSON is asked for: batches are packets", async () => {
    const res = await analyze(analyzer(), JSON.stringify({ log: LINES[1] }), { accept: NDJSON });
    expect(res.headers.get("content-type")).toStartWith("application/json");
    expect(await res.json()).toEqual({ analyzer: "a1", result: analyzeLine(LINES[1]) });
  });

  describe("the NDJSON batch form", () => {
    const batch = (a: Analyzer, lines: string[], headers: Record<string, string> = {}) =>
      analyze(a, `${lines.join("\n")}\n`, { "content-type": NDJSON, accept: NDJSON, ...headers });

    test("reads each line on its own: a bad one is refused alone, the others analyzed in place", async () => {
      const a = analyzer();
      const lines = [
        JSON.stringify({ message: LINES[1], level: "warn" }),
        '{"message":',
        JSON.stringify("a string line"),
        '{"lvl":1}',
        "",
        JSON.stringify({ message: "m", fields: { level: "error" } }),
      ];
      const res = await batch(a, lines);
      expect(res.status).toBe(200);
      const out = (await res.text()).split("\n").map((l) => JSON.parse(l));
      expect(out).toHaveLength(6); // the id, then 5 messages: the blank line is not one
      expect(out[0]).toBe("a1");
      expect(out[1]).toMatchObject({ level: "WARN", template: "user <*> logged in" });
      expect(out[2].rejected).toStartWith("not valid JSON (JSON Parse error");
      expect(out[3]).toMatchObject({ template: "a string line" });
      expect(out[4].rejected).toStartWith("the line has no message: put it under one of log");
      expect(out[5]).toMatchObject({ level: "ERROR", template: "m" });
      expect(await statsOf(a)).toMatchObject({ requests: 1, processed: 3 });
    });

    test("with Prefer: return=minimal answers how many it analyzed and which it refused, not the analyses", async () => {
      const a = analyzer();
      const res = await batch(a, ['{"msg":"a"}', "nope", '{"msg":"b"}'], { prefer: "return=minimal" });
      expect(res.headers.get("content-type")).toBe(NDJSON);
      expect(await res.text()).toBe(
        '"a1"\n{"analyzed":2,"rejected":[{"index":1,"reason":"not valid JSON (JSON Parse error: Unexpected identifier \\"nope\\")"}]}',
      );
      expect(await statsOf(a)).toMatchObject({ processed: 2 });
    });

    test("without Accept: application/x-ndjson an NDJSON body is read whole, and refused whole", async () => {
      const res = await analyze(analyzer(), '{"msg":"a"}\n{"lvl":1}\n', { "content-type": NDJSON });
      expect(res.status).toBe(400);
    });
  });

  test.each([
    ["a single log", JSON.stringify({ log: LINES[0] }), 1],
    ["a packet", JSON.stringify({ logs: LINES }), 3],
    ["NDJSON", '{"msg":"a"}\n{"msg":"b"}\n', 2],
  ])("answers %s with only the count under Prefer: return=minimal", async (_, body, n) => {
    const res = await analyze(analyzer(), body, { prefer: "respond-async, return=minimal" });
    expect(await res.json()).toEqual({ analyzer: "a1", analyzed: n });
  });

  test.each([
    ["NDJSON", '{"msg":"a"}\n{"msg":"b"}\n', 2],
    ["a JSON array", '["a","b","c"]', 3],
    ["text lines", "a\nb\n", 2],
    ["one agent object", '{"message":"a","level":"info"}', 1],
  ])("answers an agent's body (%s) with only the count, unless Prefer: return=representation", async (_, body, n) => {
    const a = analyzer();
    expect(await (await analyze(a, body)).json()).toEqual({ analyzer: "a1", analyzed: n });
    const full = (await (await analyze(a, body, { prefer: "return=representation" })).json()) as Record<
      string,
      unknown
    >;
    expect(n === 1 ? [full.result] : (full.results as unknown[])).toHaveLength(n);
  });

  test("refuses a malformed body with a 400 and its details, without counting it", async () => {
    const a = analyzer();
    const res = await analyze(a, '{"logz":["a"]}');
    expect(res.status).toBe(400);
    expect((await res.json()) as ErrorBody).toEqual({
      error: `the object has no message: put it under one of log, message, msg, MESSAGE, short_message, body: ${USAGE}`,
    });
    expect(await statsOf(a)).toMatchObject({ requests: 0, processed: 0 });
  });

  test("refuses a body over MAX_BODY_BYTES with a 413", async () => {
    const res = await analyze(analyzer({ maxBodyBytes: 20 }), JSON.stringify({ log: "x".repeat(20) }));
    expect(res.status).toBe(413);
    expect(((await res.json()) as ErrorBody).error).toStartWith("body is larger than 20 bytes");
  });
});

describe("GET /stats and /metrics", () => {
  test("count requests, lines analyzed and lines by level", async () => {
    const a = analyzer();
    await analyze(a, JSON.stringify({ log: LINES[0] }));
    await analyze(a, JSON.stringify({ logs: LINES }), { accept: NDJSON });
    const stats: AnalyzerStats = await statsOf(a);
    expect(stats).toEqual({
      id: "a1",
      processed: 4,
      requests: 2,
      simulatedFailures: 0,
      byLevel: { ERROR: 2, INFO: 1, NONE: 1 },
      duplicates: 0,
      fault: { down: false, hang: false, failureRate: 0, latency: 0 },
    });

    const metrics = await a.app.request("/metrics");
    expect(metrics.headers.get("content-type")).toBe(PROMETHEUS_CONTENT_TYPE);
    const lines = (await metrics.text()).split("\n");
    for (const line of [
      'analyzer_messages_processed_total{analyzer="a1"} 4',
      'analyzer_requests_total{analyzer="a1"} 2',
      'analyzer_simulated_failures_total{analyzer="a1"} 0',
      'analyzer_messages_by_level_total{analyzer="a1",level="ERROR"} 2',
      'analyzer_messages_by_level_total{analyzer="a1",level="NONE"} 1',
      'analyzer_up{analyzer="a1"} 1',
    ]) {
      expect(lines).toContain(line);
    }
  });

  test("start from the configured fault", async () => {
    expect((await statsOf(analyzer({ failureRate: 0.25, latencySeconds: 2 }))).fault).toEqual({
      down: false,
      hang: false,
      failureRate: 0.25,
      latency: 2,
    });
  });
});

describe("POST /fault", () => {
  test("down answers 503 on /analyze and /health, and 0 on analyzer_up, until undone", async () => {
    const a = analyzer();
    const set = await setFault(a, { down: true });
    expect(await set.json()).toEqual({ id: "a1", fault: { down: true, hang: false, failureRate: 0, latency: 0 } });

    const refused = await analyze(a, JSON.stringify({ log: "x" }));
    expect(refused.status).toBe(503);
    expect((await refused.json()) as ErrorBody).toEqual({ error: "analyzer a1 is down (simulated with POST /fault)" });
    const health = await a.app.request("/health");
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ status: "unhealthy", id: "a1" });
    expect(await (await a.app.request("/metrics")).text()).toContain('analyzer_up{analyzer="a1"} 0\n');

    await setFault(a, { down: false });
    expect((await analyze(a, JSON.stringify({ log: "x" }))).status).toBe(200);
    const healthy = await a.app.request("/health");
    expect(healthy.status).toBe(200);
    expect(await healthy.json()).toEqual({ status: "healthy", id: "a1" });
  });

  test("failureRate 1 answers 500 to every request, counted as simulated failures and not as analyzed", async () => {
    const a = analyzer();
    await setFault(a, { failureRate: 1 });
    for (let i = 0; i < 3; i++) {
      const res = await analyze(a, JSON.stringify({ logs: LINES }));
      expect(res.status).toBe(500);
      expect((await res.json()) as ErrorBody).toEqual({ error: "simulated failure (failure rate 1)" });
    }
    expect(await statsOf(a)).toMatchObject({ requests: 3, simulatedFailures: 3, processed: 0, byLevel: {} });
  });

  test("a failure rate fails a request exactly when the random draw falls below it", async () => {
    const draws = [0.49, 0.5, 0.99, 0];
    const a = analyzer({ failureRate: 0.5, random: () => draws.shift()! });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await analyze(a, JSON.stringify({ log: "x" }))).status);
    expect(statuses).toEqual([500, 200, 200, 500]);
    expect((await statsOf(a)).simulatedFailures).toBe(2);
  });

  describe("latency", () => {
    afterEach(() => {
      (Bun.sleep as unknown as { mockRestore(): void }).mockRestore();
    });

    test("waits that many seconds after counting the request and before analyzing it", async () => {
      const a = analyzer();
      await setFault(a, { latency: 0.25 });
      const wake = Promise.withResolvers<void>();
      const sleep = spyOn(Bun, "sleep").mockImplementation(() => wake.promise);
      const answer = analyze(a, JSON.stringify({ log: LINES[0] }));
      await until(() => sleep.mock.calls.length > 0);
      expect(sleep.mock.calls).toEqual([[250]]);
      expect(a.counts).toMatchObject({ requests: 1, processed: 0 });
      wake.resolve();
      expect(await (await answer).json()).toEqual({ analyzer: "a1", result: analyzeLine(LINES[0]) });
      expect(a.counts.processed).toBe(1);
    });
  });

  test("hang leaves /analyze and /health unanswered until it is undone, then both answer", async () => {
    const a = analyzer();
    await setFault(a, { hang: true });
    const answer = analyze(a, JSON.stringify({ log: LINES[1] }));
    const health = a.app.request("/health");
    const answered = settledFlag(answer);
    const healthAnswered = settledFlag(health);
    await until(() => a.counts.requests === 1);
    await new Promise((resolve) => setTimeout(resolve, 5)); // a few more turns of the event loop: nothing may come out of them
    expect({ answered: answered.settled, health: healthAnswered.settled, processed: a.counts.processed }).toEqual({
      answered: false,
      health: false,
      processed: 0,
    });

    const undo = await setFault(a, { hang: false });
    expect(((await undo.json()) as { fault: AnalyzerFault }).fault.hang).toBe(false);
    expect(await (await answer).json()).toEqual({ analyzer: "a1", result: analyzeLine(LINES[1]) });
    expect((await health).status).toBe(200);
    // A request after that is answered at once.
    expect((await analyze(a, JSON.stringify({ log: "x" }))).status).toBe(200);
  });

  test("changes only the fields sent", async () => {
    const a = analyzer({ failureRate: 0.1 });
    await setFault(a, { latency: 0.5 });
    await setFault(a, { down: true });
    expect((await statsOf(a)).fault).toEqual({ down: true, hang: false, failureRate: 0.1, latency: 0.5 });
  });

  test.each([
    ["an unknown field", '{"slow": true}', /^unknown field\(s\): slow: send e\.g\. \{"down": true/],
    ["a failure rate over 1", '{"failureRate": 2}', /^failureRate /],
    ["a latency that is text", '{"latency": "1s"}', /^latency /],
    ["down that is a string", '{"down": "yes"}', /^down /],
    ["a body that is not JSON", "down", /^body must be JSON: send e\.g\./],
  ])("refuses %s with a 400 and changes nothing", async (_, body, message) => {
    const a = analyzer();
    const res = await setFault(a, body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error).toMatch(message);
    expect((await statsOf(a)).fault).toEqual({ down: false, hang: false, failureRate: 0, latency: 0 });
  });
});

describe("ADMIN_TOKEN", () => {
  test.each([
    ["no Authorization header", {}],
    ["a wrong token", { authorization: "Bearer guess" }],
    ["the token without Bearer", { authorization: "s3cret" }],
    ["another scheme", { authorization: "Basic czNjcmV0" }],
  ])("refuses POST /fault with %s: 401 with WWW-Authenticate, fault unchanged", async (_, headers) => {
    const a = analyzer({ adminToken: "s3cret" });
    const res = await setFault(a, { down: true }, headers);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe("Bearer");
    expect(((await res.json()) as ErrorBody).error).toStartWith("missing or wrong bearer token");
    expect(a.fault.down).toBe(false);
  });

  test("lets POST /fault through with the token, and protects nothing else", async () => {
    const a = analyzer({ adminToken: "s3cret" });
    expect((await setFault(a, { down: true }, { authorization: "Bearer s3cret" })).status).toBe(200);
    expect(a.fault.down).toBe(true);
    expect((await a.app.request("/stats")).status).toBe(200);
    expect((await a.app.request("/metrics")).status).toBe(200);
  });

  test("with neither ADMIN_TOKEN nor ADMIN_LOOPBACK, POST /fault is a 404 that says how to turn it on", async () => {
    const a = analyzer({ adminToken: undefined });
    const res = await setFault(a, { down: true }, {});
    expect(res.status).toBe(404);
    expect(((await res.json()) as ErrorBody).error).toBe(
      "fault injection (POST /fault) is off: set ADMIN_TOKEN to enable it for requests with Authorization: Bearer <token>, or ADMIN_LOOPBACK=true for clients on this machine only",
    );
    expect((await a.app.request("/fault")).status).toBe(404); // not even a 405 shows it exists
    expect(a.fault.down).toBe(false);
  });
});

describe("GET /templates", () => {
  const templatesOf = async (a: Analyzer, query = "") =>
    (await (await a.app.request(`/templates${query}`)).json()) as AnalyzerTemplates;

  test("lists the templates learnt, most lines first, with counts, first and last seen and levels", async () => {
    let now = Date.UTC(2026, 10, 30, 10, 0, 0);
    const a = analyzer({ now: () => now });
    await analyze(a, JSON.stringify({ logs: ["ERROR disk 1 full", "INFO user 7 logged in"] }));
    now += 1000;
    const res = await analyze(a, JSON.stringify({ logs: ["WARN disk 2 full"] }));
    const [joined] = ((await res.json()) as { results: Analysis[] }).results;
    const body = await templatesOf(a);
    expect(body).toEqual({
      id: "a1",
      size: 2,
      maxTemplates: 10_000,
      evicted: 0,
      templates: [
        {
          id: joined.templateId,
          template: "disk <*> full",
          count: 2,
          firstSeen: "2026-11-30T10:00:00.000Z",
          lastSeen: "2026-11-30T10:00:01.000Z",
          levels: { ERROR: 1, WARN: 1 },
        },
        {
          id: expect.any(Number),
          template: "user <*> logged in",
          count: 1,
          firstSeen: "2026-11-30T10:00:00.000Z",
          lastSeen: "2026-11-30T10:00:00.000Z",
          levels: { INFO: 1 },
        },
      ],
    });
  });

  test("limit keeps the most frequent; MAX_TEMPLATES bounds them, evictions counted here and in /metrics", async () => {
    const a = analyzer({ maxTemplates: 2 });
    await analyze(a, JSON.stringify({ logs: ["alpha one", "beta two", "alpha one", "gamma three"] }));
    const limited = await templatesOf(a, "?limit=1");
    // beta, the least recently seen, was evicted for gamma; alpha has the most lines.
    expect(limited.templates.map((t) => [t.template, t.count])).toEqual([["alpha one", 2]]);
    expect(limited).toMatchObject({ size: 2, maxTemplates: 2, evicted: 1 });
    const metrics = await (await a.app.request("/metrics")).text();
    expect(metrics).toContain('analyzer_templates{analyzer="a1"} 2\n');
    expect(metrics).toContain('analyzer_templates_evicted_total{analyzer="a1"} 1\n');
  });

  test.each(["?limit=0", "?limit=abc", "?limit=1.5", "?top=3"])("refuses %s with a 400 naming limit", async (query) => {
    const res = await analyzer().app.request(`/templates${query}`);
    expect(res.status).toBe(400);
    expect(((await res.json()) as ErrorBody).error).toContain("limit");
  });
});

describe("routing", () => {
  test.each([
    ["GET", "/analyze", "POST"],
    ["PUT", "/analyze", "POST"],
    ["POST", "/health", "GET"],
    ["POST", "/stats", "GET"],
    ["DELETE", "/metrics", "GET"],
    ["POST", "/templates", "GET"],
    ["GET", "/fault", "POST"],
  ])("%s %s is a 405 with Allow: %s and a JSON error", async (method, path, allow) => {
    // With the token: without it, /fault is a 401 before any 405.
    const res = await analyzer().app.request(path, { method, headers: ADMIN });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe(allow);
    expect((await res.json()) as ErrorBody).toEqual({ error: `${method} is not allowed on ${path}; use ${allow}` });
  });

  test.each([
    ["GET", "/nope"],
    ["POST", "/analyze/more"],
  ])("%s %s is a 404 with a JSON error", async (method, path) => {
    const res = await analyzer().app.request(path, { method });
    expect(res.status).toBe(404);
    expect((await res.json()) as ErrorBody).toEqual({ error: `no such endpoint: ${method} ${path}` });
  });
});

describe("AUDIT_FILE", () => {
  const dir = mkdtempSync(join(tmpdir(), "analyzer-audit-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("receives every analyzed line, one JSON string per line, and nothing refused or failed", async () => {
    const auditFile = join(dir, "audit.ndjson");
    const a = analyzer({ auditFile, random: () => 0 });
    const tricky = 'a line with "quotes",\na newline and é';
    await analyze(a, JSON.stringify({ log: LINES[0] }));
    await analyze(a, JSON.stringify({ logs: [tricky, LINES[2]] }), { accept: NDJSON });
    await analyze(a, '{"logz": "x"}'); // 400
    await setFault(a, { failureRate: 1 });
    await analyze(a, JSON.stringify({ log: "failed on purpose" })); // 500
    await setFault(a, { failureRate: 0 });
    await analyze(a, JSON.stringify({ log: LINES[1] }));
    // Records with fields, and text: the message alone is audited.
    await analyze(a, JSON.stringify({ logs: [{ message: "m1", fields: { level: "warn" } }, ""] }), { accept: NDJSON });
    await analyze(a, "t1\n\nt2\n");

    const audit = readFileSync(auditFile, "utf8");
    expect(audit.endsWith("\n")).toBe(true);
    expect(
      audit
        .slice(0, -1)
        .split("\n")
        .map((l) => JSON.parse(l)),
    ).toEqual([LINES[0], tricky, LINES[2], LINES[1], "m1", "", "t1", "t2"]);
    expect(a.counts.processed).toBe(8);
  });
});

describe("message ids (a distributor's spool)", () => {
  test("an id analyzed before is answered {duplicate: true}, counted as a duplicate, not analyzed or audited again", async () => {
    const auditFile = join(mkdtempSync(join(tmpdir(), "ids-")), "audit.jsonl");
    const a = analyzer({ auditFile, dedupeWindow: 10 });
    const body = JSON.stringify({ logs: ["first", "second", "third"], ids: ["s-1-0", null, "s-1-2"] });
    await analyze(a, body, { accept: NDJSON });
    const again = await analyze(a, body, { accept: NDJSON });
    const lines = (await again.text()).trim().split("\n").slice(1);
    expect(lines.map((l) => JSON.parse(l).duplicate === true)).toEqual([true, false, true]);
    expect(await statsOf(a)).toMatchObject({ processed: 4, duplicates: 2 });
    expect(readFileSync(auditFile, "utf8")).toBe('"first"\n"second"\n"third"\n"second"\n');
  });

  test("ids of a request that failed are not remembered: its retry is analyzed", async () => {
    const a = analyzer({ dedupeWindow: 10 });
    const body = JSON.stringify({ logs: ["x"], ids: ["s-2-0"] });
    await setFault(a, { down: true });
    expect((await analyze(a, body)).status).toBe(503);
    await setFault(a, { down: false });
    expect((await analyze(a, body)).status).toBe(200);
    expect(await statsOf(a)).toMatchObject({ processed: 1, duplicates: 0 });
  });

  test("ids that do not match logs are a 400 naming them", async () => {
    const res = await analyze(analyzer(), JSON.stringify({ logs: ["a", "b"], ids: ["only one"] }));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: "ids must be an array of strings (or null), one per message in logs" });
  });
});
