// The OpenTelemetry JS SDK as a real client: a LoggerProvider with a BatchLogRecordProcessor and the
// OTLP/HTTP exporters (JSON, protobuf, protobuf gzip-compressed) pointed at a real distributor's
// /v1/logs, three real analyzers behind it. What each analyzer analyzed comes from its audit file
// (AUDIT_FILE: one JSON-encoded message per line).
//
// What the SDK does (@opentelemetry/otlp-exporter-base 0.223.1, retrying-transport.js):
// - 429/502/503/504 or a network error: it retries the same batch up to 5 times, waiting what
//   Retry-After says (the distributor says 1 s) or else 1 s, 1.5 s, ... up to 5 s with jitter,
//   within the exporter's timeout (timeoutMillis, 10 s): a 503 for longer than ~5 s loses the batch.
// - any other 4xx/5xx (400 for bad data): no retry; the batch is dropped and the failure reported
//   through the global error handler (diag).
// - 200 with partialSuccess: a success, with a diag warning; the rejected records are not resent.
// A record without a body is refused on its own (src/protocol/formats/otlp.ts): nothing to analyze;
// an empty string body is a message, "", like an empty JSON string at POST /analyze.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { DiagLogLevel, diag } from "@opentelemetry/api";
import { type Logger, SeverityNumber } from "@opentelemetry/api-logs";
import { OTLPLogExporter as JsonExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { OTLPLogExporter as ProtobufExporter } from "@opentelemetry/exporter-logs-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchLogRecordProcessor, LoggerProvider } from "@opentelemetry/sdk-logs";
import type { AnalyzerStats } from "../../src/protocol/stats.ts";
import { shareLine } from "../../testkit/agents.ts";
import { Rig } from "../../testkit/faults.ts";
import { distributorStats, eventually, getJson } from "../../testkit/http.ts";
import { fitsWeights } from "../../testkit/shares.ts";

setDefaultTimeout(60_000); // see test/setup.ts

const WEIGHTS = [1, 2, 3];
/** Records per run: enough for the chi-square to tell a 1:2:3 split from a wrong one. */
const N = 1000;

type Compression = NonNullable<ConstructorParameters<typeof JsonExporter>[0]>["compression"];
type Client = { name: string; exporter: (url: string) => JsonExporter | ProtobufExporter };
const CLIENTS: Client[] = [
  { name: "http/json", exporter: (url) => new JsonExporter({ url }) },
  { name: "http/protobuf", exporter: (url) => new ProtobufExporter({ url }) },
  {
    name: "http/protobuf gzip",
    exporter: (url) => new ProtobufExporter({ url, compression: "gzip" as Compression }),
  },
];

// Severity numbers the records carry, in turn; their text never names a level, so only the
// supplied severity can give the analyzer one.
const SEVERITIES = [
  { number: SeverityNumber.INFO, text: "info", level: "INFO" },
  { number: SeverityNumber.WARN, text: "warn", level: "WARN" },
  { number: SeverityNumber.ERROR, text: "error", level: "ERROR" },
  { number: SeverityNumber.FATAL, text: "fatal", level: "FATAL" },
];

let rig: Rig;
/** What the SDK said through its diagnostics logger (retries, partial successes, failures). */
const said: string[] = [];

beforeAll(async () => {
  rig = await Rig.start(WEIGHTS);
  const note = (...args: unknown[]) => said.push(args.map(String).join(" "));
  diag.setLogger({ error: note, warn: note, info: note, debug: () => {}, verbose: note }, DiagLogLevel.VERBOSE);
}, 60_000);

afterAll(async () => {
  diag.disable();
  await rig?.stop();
});

/** `n` unique messages starting with `prefix`: quotes, backslashes, UTF-8, one of 8 KB. */
function messages(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) =>
    i === 7 ? `${prefix} ${i} ${"8 KB body ".repeat(820)}` : `${prefix} ${i} say "hi" \\ to ünïcödé ✓ \t tab`,
  );
}

/** An SDK pipeline to the distributor's /v1/logs. */
function sdk(client: Client, url: string) {
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ "service.name": "otel-test" }),
    processors: [
      new BatchLogRecordProcessor({
        exporter: client.exporter(`${url}/v1/logs`),
        maxExportBatchSize: 200,
        maxQueueSize: 10 * N, // the default (2048) drops records beyond it
      }),
    ],
  });
  return { provider, logger: provider.getLogger("otel.test", "1.0.0") };
}

function emit(logger: Logger, bodies: readonly string[]): void {
  bodies.forEach((body, i) => {
    const s = SEVERITIES[i % SEVERITIES.length];
    logger.emit({ body, severityNumber: s.number, severityText: s.text, attributes: { i } });
  });
}

/** Messages by level, over all analyzers (their /stats byLevel). */
async function levels(): Promise<Record<string, number>> {
  const total: Record<string, number> = {};
  for (const a of rig.analyzers) {
    const stats = await getJson<AnalyzerStats>(`${a.url}/stats`);
    for (const [level, n] of Object.entries(stats.byLevel)) total[level] = (total[level] ?? 0) + n;
  }
  return total;
}

describe("the OpenTelemetry JS SDK through the distributor", () => {
  test.each(CLIENTS.map((c) => [c.name, c] as const))(
    "%s: every record delivered once, split by weight, its severity analyzed; one without a body refused on its own",
    async (name, client) => {
      const prefix = `steady ${name}`;
      const sent = messages(prefix, N);
      const before = await levels();
      const empty = rig.emptyMessages();
      const heard = said.length;

      const { provider, logger } = sdk(client, rig.distributor.url);
      emit(logger, sent);
      logger.emit({ body: "", severityNumber: SeverityNumber.DEBUG }); // an empty line: a message
      logger.emit({ severityNumber: SeverityNumber.INFO, attributes: { no: "body" } }); // refused: partialSuccess
      await provider.forceFlush();
      await provider.shutdown();

      const perAnalyzer = rig.messagesWith(prefix);
      const delivered = perAnalyzer.flat();
      expect(delivered.length).toBe(N); // no duplicates
      expect(delivered.toSorted()).toEqual(sent.toSorted()); // nothing lost, nothing else
      const counts = perAnalyzer.map((m) => m.length);
      const fit = fitsWeights(counts, WEIGHTS);
      console.log(shareLine(`OpenTelemetry SDK ${name}`, N, delivered, counts, fit.pValue));
      expect(fit.ok, `counts ${counts} for weights ${WEIGHTS}: p = ${fit.pValue}`).toBe(true);

      const after = await levels();
      for (const [k, s] of SEVERITIES.entries()) {
        const expected = sent.filter((_, i) => i % SEVERITIES.length === k).length;
        expect({ level: s.level, n: (after[s.level] ?? 0) - (before[s.level] ?? 0) }).toEqual({
          level: s.level,
          n: expected,
        });
      }
      expect((after.DEBUG ?? 0) - (before.DEBUG ?? 0)).toBe(1); // the empty message
      expect((after.NONE ?? 0) - (before.NONE ?? 0)).toBe(0);
      expect(rig.emptyMessages() - empty).toBe(1);
      // The record without a body came back as a partial success, which the SDK logs and does not resend.
      const partial = said.slice(heard).filter((line) => line.includes("Partial Success"));
      expect(partial).toHaveLength(1);
      expect(partial[0]).toMatch(/"rejectedLogRecords":(1|"1")/);
    },
  );

  test.each(CLIENTS.slice(0, 2).map((c) => [c.name, c] as const))(
    "%s: while every analyzer is down the distributor answers 503 + Retry-After; the SDK retries and all arrive once they are back",
    async (name, client) => {
      const prefix = `outage ${name}`;
      const sent = messages(prefix, 300);
      await rig.faultAll({ down: true });
      await rig.untilAll(false);
      const rejected = (await rig.stats()).rejected;
      const heard = said.length;

      const { provider, logger } = sdk(client, rig.distributor.url);
      emit(logger, sent);
      const flushed = provider.forceFlush();
      await eventually(async () => (await rig.stats()).rejected > rejected, "a 503 answered");
      await rig.faultAll({ down: false });
      await flushed;
      await provider.shutdown();

      const delivered = rig.messagesWith(prefix).flat();
      expect(delivered.length).toBe(sent.length);
      expect(delivered.toSorted()).toEqual(sent.toSorted());
      // It waited what Retry-After said (1 s), not its own backoff.
      expect(said.slice(heard).some((line) => line.includes("Scheduling export retry in 1000ms"))).toBe(true);
    },
  );

  test("http/json: a 400 (more records than MAX_PACKET) is not retried; the batch is dropped and reported", async () => {
    const strict = await rig.anotherDistributor({ MAX_PACKET: "5" });
    const prefix = "too many http/json";
    const heard = said.length;
    const { provider, logger } = sdk(CLIENTS[0], strict.url);
    emit(logger, messages(prefix, 10)); // one batch of 10
    await provider.forceFlush();
    await provider.shutdown();

    expect((await distributorStats(strict.url)).invalid).toBe(1); // one request, no retry
    expect(rig.messagesWith(prefix).flat()).toEqual([]);
    expect(said.slice(heard).some((line) => /non-retryable/.test(line))).toBe(true);
    await strict.stop();
  });
});
