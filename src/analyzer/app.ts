// The analyzer's HTTP API: POST /analyze, /health, /stats, /templates, /metrics and POST /fault,
// which makes it slow, failing, down or hung at run time so that users can watch the distributor
// route around it (off unless ADMIN_TOKEN or ADMIN_LOOPBACK turns it on).

import { appendFileSync } from "node:fs";
import { z } from "zod";
import { allowOnly, createJsonApp, limitBody, readJsonBody, readLimitedBytes, textResponse } from "../http/app.ts";
import { controlGate } from "../http/control.ts";
import { HttpError } from "../http/errors.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../http/prometheus.ts";
import type { ServerLimits } from "../http/server.ts";
import type { Random } from "../math/random.ts";
import type { AnalyzerTemplates } from "../protocol/analysis.ts";
import {
  answersMinimal,
  batchAnswer,
  minimalBatchAnswer,
  NDJSON,
  prefersMinimal,
  type Rejected,
} from "../protocol/batch.ts";
import { decodeGeneric, recordOfLine } from "../protocol/formats/generic.ts";
import { type LogRecord, messageOf } from "../protocol/record.ts";
import type { AnalyzerStats } from "../protocol/stats.ts";
import { type Analysis, analyzeRecord } from "./analysis.ts";
import type { AnalyzerConfig } from "./config.ts";
import { SeenIds } from "./dedupe.ts";
import { renderAnalyzerMetrics } from "./metrics.ts";
import { TemplateMiner } from "./miner.ts";

export type AnalyzerOptions = Omit<AnalyzerConfig, "port" | "host" | "id" | "tls" | keyof ServerLimits> & {
  id: string;
  random?: Random;
  /** Clock for the templates' first and last seen, in epoch ms. */
  now?: () => number;
};

/** Templates GET /templates lists when it is given no `limit`. */
export const DEFAULT_TEMPLATES_LIMIT = 100;

const templatesQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1_000_000).default(DEFAULT_TEMPLATES_LIMIT),
});

const faultSchema = z.strictObject({
  down: z.boolean().optional(),
  failureRate: z.number().min(0).max(1).optional(),
  latency: z.number().min(0).max(3600).optional(),
  hang: z.boolean().optional(),
});

const DUPLICATE = { duplicate: true } as const;

/** The lines of an NDJSON batch, each a record or the reason it was refused; blank lines are skipped. */
function batchLines(body: Uint8Array): (LogRecord | Rejected)[] {
  const records: (LogRecord | Rejected)[] = [];
  for (const line of utf8.decode(body).split("\n")) if (line.trim() !== "") records.push(recordOfLine(line));
  return records;
}

function isRejected(r: LogRecord | Rejected): r is Rejected {
  return typeof r === "object" && "rejected" in r;
}

const utf8 = new TextDecoder();

export function createAnalyzer(options: AnalyzerOptions) {
  const { id, maxBodyBytes } = options;
  const random = options.random ?? Math.random;
  const fault = { down: false, hang: false, failureRate: options.failureRate, latency: options.latencySeconds };
  // Requests that arrive while hanging wait here until {"hang": false}, then answer late.
  let hung: { promise: Promise<void>; resolve: () => void } | undefined;
  const untilUnhung = () => {
    hung ??= Promise.withResolvers<void>();
    return hung.promise;
  };
  const counts = {
    processed: 0,
    requests: 0,
    simulatedFailures: 0,
    byLevel: {} as Record<string, number>,
    duplicates: 0,
  };
  const seen = new SeenIds(options.dedupeWindow);
  const idJson = JSON.stringify(id);
  const miner = new TemplateMiner({ maxTemplates: options.maxTemplates, now: options.now });

  function analyze(record: LogRecord): Analysis {
    const analysis = analyzeRecord(record, { miner });
    const level = analysis.level ?? "NONE";
    counts.byLevel[level] = (counts.byLevel[level] ?? 0) + 1;
    return analysis;
  }

  const app = createJsonApp();
  // The same bodies as the distributor's POST /analyze (src/protocol/formats/generic.ts), records
  // with their fields included; it takes whatever batch the distributor sends: MAX_BODY_BYTES is its limit.
  app.post("/analyze", async (c) => {
    const body = await readLimitedBytes(c.req.raw, maxBodyBytes);
    const contentType = c.req.header("content-type") ?? "";
    const batchForm = c.req.header("accept")?.includes(NDJSON) ?? false;
    // The distributor's NDJSON batch (src/protocol/batch.ts): each line read on its own, a bad one
    // refused alone. Any other body is read whole, and refused whole when part of it is bad.
    const { records, single, ours, ids } =
      batchForm && contentType.startsWith(NDJSON)
        ? { records: batchLines(body), single: false, ours: true, ids: undefined }
        : decodeGeneric(body, contentType);
    // The distributor's batches say what they want; anyone else's bodies get POST /analyze's default.
    const prefer = c.req.header("prefer");
    const minimal = batchForm ? prefersMinimal(prefer) : answersMinimal(prefer, ours === true);
    counts.requests++;
    // An answer sent after a wait leaves Bun's cork: big ones then need textResponse (src/http/app.ts).
    const late = fault.hang || fault.latency > 0;
    if (fault.hang) await untilUnhung();
    if (fault.down) throw new HttpError(503, `analyzer ${id} is down (simulated with POST /fault)`);
    if (fault.failureRate > 0 && random() < fault.failureRate) {
      counts.simulatedFailures++;
      throw new HttpError(500, `simulated failure (failure rate ${fault.failureRate})`);
    }
    if (fault.latency > 0) await Bun.sleep(fault.latency * 1000);
    // A message whose id was analyzed before is a replay (src/protocol/batch.ts): answered, not counted.
    const repeats = ids?.map((id) => id !== null && seen.has(id));
    const results: (Analysis | Rejected | typeof DUPLICATE)[] = new Array(records.length);
    const fresh: LogRecord[] = [];
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      if (repeats?.[i]) results[i] = DUPLICATE;
      else if (isRejected(r)) results[i] = r;
      else {
        results[i] = analyze(r);
        fresh.push(r);
      }
    }
    counts.duplicates += repeats ? repeats.filter(Boolean).length : 0;
    // Written before answering, so it survives a kill -9 that comes before the answer arrives: one
    // line per message, its text JSON-encoded (fields are not audited).
    if (options.auditFile && fresh.length > 0)
      appendFileSync(options.auditFile, fresh.map((r) => `${JSON.stringify(messageOf(r))}\n`).join(""));
    // Remembered once analyzed: a request that failed before this is analyzed when it is retried.
    if (ids) for (const id of ids) if (id !== null) seen.add(id);
    counts.processed += fresh.length;
    if (!single && batchForm) {
      // The distributor's form (src/protocol/batch.ts): the id, then one result per line, or a summary.
      const body = minimal ? minimalBatchAnswer(idJson, results) : batchAnswer(idJson, results);
      return late ? textResponse(body, NDJSON) : c.body(body, 200, { "content-type": NDJSON });
    }
    if (minimal) return c.json({ analyzer: id, analyzed: fresh.length });
    return single ? c.json({ analyzer: id, result: results[0] }) : c.json({ analyzer: id, results });
  });
  allowOnly(app, "/analyze", ["POST"]);
  app.get("/health", async (c) => {
    if (fault.hang) await untilUnhung();
    return fault.down ? c.json({ status: "unhealthy", id }, 503) : c.json({ status: "healthy", id });
  });
  allowOnly(app, "/health", ["GET"]);
  app.get("/stats", (c) => c.json({ id, ...counts, fault } satisfies AnalyzerStats));
  allowOnly(app, "/stats", ["GET"]);
  app.get("/templates", (c) => {
    const query = templatesQuery.safeParse(c.req.query());
    if (!query.success) {
      throw new HttpError(400, "the query takes limit, a whole number from 1 to 1000000: e.g. /templates?limit=20");
    }
    const templates = miner.top(query.data.limit).map((t) => ({
      id: t.id,
      template: t.template,
      count: t.count,
      firstSeen: new Date(t.firstSeen).toISOString(),
      lastSeen: new Date(t.lastSeen).toISOString(),
      levels: { ...t.levels },
    }));
    return c.json({
      id,
      size: miner.size,
      maxTemplates: miner.options.maxTemplates,
      evicted: miner.evicted,
      templates,
    } satisfies AnalyzerTemplates);
  });
  allowOnly(app, "/templates", ["GET"]);
  app.get("/metrics", (c) =>
    c.body(renderAnalyzerMetrics(id, counts, fault.down, miner), 200, { "content-type": PROMETHEUS_CONTENT_TYPE }),
  );
  allowOnly(app, "/metrics", ["GET"]);
  // For demos and fault-injection tests: {"down": true} fails /health and /analyze until undone,
  // {"hang": true} leaves them unanswered until undone.
  // Off unless ADMIN_TOKEN or ADMIN_LOOPBACK turns it on (src/http/control.ts); the 405 sits behind it too.
  app.use(
    "/fault",
    controlGate({ token: options.adminToken, loopback: options.adminLoopback, what: "fault injection (POST /fault)" }),
  );
  app.post("/fault", limitBody(4096), async (c) => {
    const change = await readJsonBody(
      c,
      faultSchema,
      'send e.g. {"down": true, "hang": false, "failureRate": 0.1, "latency": 0.05}',
    );
    Object.assign(fault, Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined)));
    if (!fault.hang && hung) {
      hung.resolve();
      hung = undefined;
    }
    return c.json({ id, fault });
  });
  allowOnly(app, "/fault", ["POST"]);
  return { app, counts, fault, miner };
}
