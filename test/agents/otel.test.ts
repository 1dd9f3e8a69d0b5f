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
// The refusals' bodies are google.rpc.Status messages in the request's encoding (OTLP/HTTP
// "Failures"); the exporters keep them as the error's data and act on the status alone.
// A record without a body is refused on its own (src/protocol/formats/otlp.ts): nothing to analyze;
// an empty string body is a message, "", like an empty JSON string at POST /analyze.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { DiagLogLevel, diag } from "@opentelemetry/api";
import { type Logger, SeverityNumber } from "@opentelemetry/api-logs";
import { OTLPLogExporter as JsonExporter } from "@opentelemetry/exporter-logs-otlp-http";
import { OTLPLogExporter as ProtobufExporter } from "@opentelemetry/exporter-logs-otlp-proto";
import { JsonLogsSerializer, ProtobufLogsSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchLogRecordProcessor,
  InMemoryLogRecordExporter,
  LoggerProvider,
  type ReadableLogRecord,
  SimpleLogRecordProcessor,
} from "@opentelemetry/sdk-logs";
import protobuf from "protobufjs";
import type { AnalyzerStats } from "../../src/protocol/stats.ts";
import { expectEachOnceByWeight } from "../../testkit/agents.ts";
import { Rig } from "../../testkit/faults.ts";
import { distributorStats, eventually, getJson } from "../../testkit/http.ts";

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
      const { invalidMessages } = await rig.stats();

      const { provider, logger } = sdk(client, rig.distributor.url);
      emit(logger, sent);
      logger.emit({ body: "", severityNumber: SeverityNumber.DEBUG }); // an empty line: a message
      logger.emit({ severityNumber: SeverityNumber.INFO, attributes: { no: "body" } }); // refused: partialSuccess
      await provider.forceFlush();
      await provider.shutdown();

      expectEachOnceByWeight(`OpenTelemetry SDK ${name}`, rig.messagesWith(prefix), sent, WEIGHTS);

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
      expect((await rig.stats()).invalidMessages - invalidMessages).toBe(1);
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

  test.each(CLIENTS.slice(0, 2).map((c) => [c.name, c] as const))(
    "%s: a 400 (more records than MAX_PACKET) is not retried; the batch is dropped and reported",
    async (name, client) => {
      const strict = await rig.anotherDistributor({ MAX_PACKET: "5" });
      const prefix = `too many ${name}`;
      const heard = said.length;
      const { provider, logger } = sdk(client, strict.url);
      emit(logger, messages(prefix, 10)); // one batch of 10
      await provider.forceFlush();
      await provider.shutdown();

      expect((await distributorStats(strict.url)).invalid).toBe(1); // one request, no retry
      expect(rig.messagesWith(prefix).flat()).toEqual([]);
      expect(said.slice(heard).some((line) => /non-retryable/.test(line))).toBe(true);

      // The exporter itself hands back the refusal: the status, and the google.rpc.Status body.
      const exporter = client.exporter(`${strict.url}/v1/logs`);
      const result = await exportOnce(exporter, await readableRecords(messages(`${prefix} direct`, 10)));
      await exporter.shutdown();
      expect(result.error?.code).toBe(400);
      const reason = "10 messages in one request, more than MAX_PACKET (5): split it";
      // The exporters keep the body as text: the protobuf Status's message shows in it as it is.
      if (name === "http/json") expect(JSON.parse(result.error?.data ?? "")).toEqual({ code: 3, message: reason });
      else expect(result.error?.data).toContain(reason);
      expect((await distributorStats(strict.url)).invalid).toBe(2); // again one request
      await strict.stop();
    },
  );
});

// OTLP/HTTP's "Failures": every 4xx and 5xx carries a google.rpc.Status, binary protobuf when the
// request was, JSON when it was JSON; 503 keeps its Retry-After. The bodies are read here with
// protobufjs' bare wire reader and the field numbers of google/rpc/status.proto, not with the
// schema the distributor encodes them with.
describe("refusals at /v1/logs as google.rpc.Status", () => {
  const post = (body: Uint8Array | string, headers: Record<string, string>, url = rig.distributor.url) =>
    fetch(`${url}/v1/logs`, { method: "POST", body, headers });
  const PROTOBUF = { "content-type": "application/x-protobuf" };
  const JSON_TYPE = { "content-type": "application/json" };

  test.each([
    [
      "a body that does not decode",
      400,
      new Uint8Array([0x0a, 0xff, 0x01, 0x02]),
      /^body is not a protobuf ExportLogsServiceRequest/,
    ],
    ["more than MAX_BODY_BYTES", 413, new Uint8Array(1024 * 1024 + 1), /MAX_BODY_BYTES/],
  ])("protobuf, %s: %d and a protobuf Status", async (_, expected, body, reason) => {
    const res = await post(body, PROTOBUF);
    expect(res.status).toBe(expected);
    expect(res.headers.get("content-type")).toBe("application/x-protobuf");
    const status = decodeStatus(await res.bytes());
    expect(status.message).toMatch(reason);
    expect(status.code).toBe(3); // INVALID_ARGUMENT
    expect(status.details).toBe(0);
  });

  test("JSON: a body that is not JSON gets 400 and a JSON Status", async () => {
    const res = await post("{resourceLogs", JSON_TYPE);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toBe("application/json");
    const status = (await res.json()) as { code: number; message: string };
    expect(status.code).toBe(3);
    expect(status.message).toMatch(/^body is not valid JSON \(/);
  });

  test("a Content-Type OTLP does not define: 415, and the Status in JSON", async () => {
    const res = await post("hello", { "content-type": "text/plain" });
    expect(res.status).toBe(415);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(((await res.json()) as { message: string }).message).toContain(
      "send Content-Type application/x-protobuf or application/json",
    );
  });

  test("no healthy analyzer: 503 + Retry-After with an UNAVAILABLE Status, in either encoding", async () => {
    const records = await readableRecords(["outage status"]);
    const bodies = {
      protobuf: ProtobufLogsSerializer.serializeRequest(records)!,
      json: JsonLogsSerializer.serializeRequest(records)!,
    };
    await rig.faultAll({ down: true });
    await rig.untilAll(false);
    try {
      const proto = await post(bodies.protobuf, PROTOBUF);
      expect(proto.status).toBe(503);
      expect(proto.headers.get("retry-after")).toBe("1");
      expect(proto.headers.get("content-type")).toBe("application/x-protobuf");
      expect(decodeStatus(await proto.bytes())).toEqual({ code: 14, message: "no healthy analyzer", details: 0 });

      const json = await post(bodies.json, JSON_TYPE);
      expect(json.status).toBe(503);
      expect(json.headers.get("retry-after")).toBe("1");
      expect(json.headers.get("content-type")).toBe("application/json");
      expect(await json.json()).toEqual({ code: 14, message: "no healthy analyzer" });
    } finally {
      await rig.faultAll({ down: false });
      await rig.untilAll(true);
    }
  });

  test("a wrong bearer token: 401 with its WWW-Authenticate, and the Status", async () => {
    const guarded = await rig.anotherDistributor({ AUTH_TOKEN: "s3cret" });
    try {
      const res = await post(new Uint8Array(), PROTOBUF, guarded.url);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe("Bearer");
      expect(decodeStatus(await res.bytes())).toMatchObject({
        code: 16,
        message: expect.stringMatching(/bearer token/),
      });
      // With the token, an empty export is a full success.
      const ok = await post(new Uint8Array(), { ...PROTOBUF, authorization: "Bearer s3cret" }, guarded.url);
      expect(ok.status).toBe(200);
    } finally {
      await guarded.stop();
    }
  });
});

type ExportOutcome = { code: number; error?: Error & { code?: number; data?: string } };

/** One export call straight to an exporter, without a processor's retries on top. */
function exportOnce(exporter: JsonExporter | ProtobufExporter, records: ReadableLogRecord[]): Promise<ExportOutcome> {
  return new Promise((resolve) => exporter.export(records, resolve));
}

/** The SDK's own records for `bodies`, as a processor hands them to an exporter. */
async function readableRecords(bodies: readonly string[]): Promise<ReadableLogRecord[]> {
  const memory = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ "service.name": "otel-test" }),
    processors: [new SimpleLogRecordProcessor({ exporter: memory })],
  });
  emit(provider.getLogger("otel.test"), bodies);
  await provider.forceFlush();
  const records = memory.getFinishedLogRecords();
  await provider.shutdown();
  return records;
}

/** A google.rpc.Status from its wire bytes: code = 1 (int32), message = 2 (string), details = 3 (Any, counted). */
function decodeStatus(bytes: Uint8Array): { code: number; message: string; details: number } {
  const reader = protobuf.Reader.create(bytes);
  const status = { code: 0, message: "", details: 0 };
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    if (tag >>> 3 === 1) status.code = reader.int32();
    else if (tag >>> 3 === 2) status.message = reader.string();
    else if (tag >>> 3 === 3) {
      reader.bytes();
      status.details++;
    } else reader.skipType(tag & 7);
  }
  return status;
}
