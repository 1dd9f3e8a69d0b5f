import { describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { SeverityNumber } from "@opentelemetry/api-logs";
import { JsonLogsSerializer, ProtobufLogsSerializer } from "@opentelemetry/otlp-transformer";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { InMemoryLogRecordExporter, LoggerProvider, SimpleLogRecordProcessor } from "@opentelemetry/sdk-logs";
import { decodeContent } from "../../http/encoding.ts";
import { HttpError } from "../../http/errors.ts";
import type { Decoded, LogFields, LogRecord } from "../record.ts";
import { decodeOtlp, OTLP_JSON, OTLP_PROTOBUF, otlpEncoding, otlpError, otlpResponse } from "./otlp.ts";

const utf8 = new TextEncoder();
const json = (body: unknown) => utf8.encode(JSON.stringify(body));
const EXAMPLE = await Bun.file(new URL("./otlp-proto/examples/logs.json", import.meta.url)).bytes();

/** The HttpError that decoding throws, or a failure naming what came back instead. */
function refusal(decode: () => unknown): HttpError {
  let result: unknown;
  try {
    result = decode();
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
  throw new Error(`expected an HttpError, got ${JSON.stringify(result)}`);
}

function fieldsOf(record: LogRecord | undefined): LogFields {
  if (typeof record !== "object") throw new Error(`expected a record with fields, got ${JSON.stringify(record)}`);
  return record.fields;
}

/** An OTLP/JSON request with one resource and one scope holding `logRecords`. */
function request(logRecords: unknown[]) {
  return { resourceLogs: [{ scopeLogs: [{ logRecords }] }] };
}

/** Log records as the OpenTelemetry JS SDK emits them, and its own OTLP serializers' bodies for them. */
async function sdkBodies(emit: (logger: ReturnType<LoggerProvider["getLogger"]>) => void) {
  const exporter = new InMemoryLogRecordExporter();
  const provider = new LoggerProvider({
    resource: resourceFromAttributes({ "service.name": "checkout" }),
    processors: [new SimpleLogRecordProcessor({ exporter })],
  });
  emit(provider.getLogger("checkout.scope", "1.2.3"));
  await provider.forceFlush();
  const records = exporter.getFinishedLogRecords();
  await provider.shutdown();
  return {
    protobuf: ProtobufLogsSerializer.serializeRequest(records)!,
    json: JsonLogsSerializer.serializeRequest(records)!,
  };
}

describe("the official OTLP/JSON example (opentelemetry-proto examples/logs.json)", () => {
  test("is one record: its body, and its time, severity, ids, attributes, resource and scope as fields", () => {
    expect(decodeOtlp(EXAMPLE, OTLP_JSON)).toEqual({
      records: [
        {
          message: "Example log record",
          fields: {
            time: "2018-12-13T14:51:00.300000000Z",
            level: "INFO", // severityNumber 10 is INFO2
            severityText: "Information",
            severityNumber: 10,
            attributes: {
              "string.attribute": "some string",
              "boolean.attribute": true,
              "int.attribute": 10,
              "double.attribute": 637.704,
              "array.attribute": ["many", "values"],
              "map.attribute": { "some.map.key": "some value" },
            },
            resource: { "service.name": "my.service" },
            scope: "my.library",
            traceId: "5b8efff798038103d269b633813fc60c",
            spanId: "eee19b7ec3c1b174",
          },
        },
      ],
    });
  });

  test("decodes the same with a charset parameter", () => {
    expect(decodeOtlp(EXAMPLE, "Application/JSON; charset=utf-8")).toEqual(decodeOtlp(EXAMPLE, OTLP_JSON));
  });
});

describe("what the OpenTelemetry JS SDK's own serializers send", () => {
  const bodies = sdkBodies((logger) => {
    logger.emit({
      body: 'say "hi" \\ to ünïcödé ✓',
      severityNumber: SeverityNumber.WARN,
      severityText: "warning",
      timestamp: new Date("2026-01-02T03:04:05.678Z"),
      attributes: { "user.id": 42, ratio: 0.5, ok: false, tags: ["a", "b"], big: 2 ** 60 },
    });
    logger.emit({ body: { event: "login", user: { id: 7 } }, severityNumber: SeverityNumber.INFO });
    logger.emit({ body: ["a", 1] });
    logger.emit({ body: 12 });
    logger.emit({ body: true });
    logger.emit({ body: new Uint8Array([1, 2, 255]) });
    logger.emit({ body: "" });
    logger.emit({ severityText: "ERROR" });
  });

  test.each([["protobuf", OTLP_PROTOBUF] as const, ["json", OTLP_JSON] as const])(
    "%s: each record with a body is a record, the rest are counted as rejected",
    async (encoding, contentType) => {
      const decoded = decodeOtlp((await bodies)[encoding], contentType);
      const messages = decoded.records.map((r) => (typeof r === "string" ? r : r.message));
      expect(messages).toEqual([
        'say "hi" \\ to ünïcödé ✓',
        '{"event":"login","user":{"id":7}}',
        '["a",1]',
        "12",
        "true",
        "AQL/", // bytes in base64
        "", // an empty line is still a message
      ]);
      expect(decoded.rejected).toEqual({
        count: 1,
        reason: "1 of 8 log records have no body: nothing to analyze, so they were dropped",
      });
      expect(fieldsOf(decoded.records[0])).toMatchObject({
        time: "2026-01-02T03:04:05.678000000Z",
        level: "WARN",
        severityText: "warning",
        severityNumber: 13,
        attributes: { "user.id": 42, ratio: 0.5, ok: false, tags: ["a", "b"], big: String(2n ** 60n) },
        resource: { "service.name": "checkout" },
        scope: "checkout.scope",
      });
      // No time given: the SDK's observed time stands in.
      expect(fieldsOf(decoded.records[1]).time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    },
  );

  test("both encodings decode to the same records", async () => {
    const { protobuf, json } = await bodies;
    expect(decodeOtlp(protobuf, OTLP_PROTOBUF)).toEqual(decodeOtlp(json, OTLP_JSON));
  });

  test("gzip-encoded protobuf, as the exporters send with compression: 'gzip', inflated as the distributor does", async () => {
    const { protobuf } = await bodies;
    const inflated = decodeContent(gzipSync(protobuf), "gzip", 1 << 20);
    expect(decodeOtlp(inflated, OTLP_PROTOBUF)).toEqual(decodeOtlp(protobuf, OTLP_PROTOBUF));
  });
});

describe("fields", () => {
  test.each([
    ["a string body", { stringValue: "x" }, "x"],
    ["a map body, as its JSON text", { kvlistValue: { values: [{ key: "k", value: { intValue: 1 } }] } }, '{"k":1}'],
    ["an empty map body", { kvlistValue: {} }, "{}"],
    ["an array body", { arrayValue: { values: [{ boolValue: true }, {}] } }, "[true,null]"],
    ["a double body", { doubleValue: 1.5 }, "1.5"],
    ["an int64 body beyond 2^53", { intValue: "9007199254740993" }, "9007199254740993"],
  ])("%s", (_, body, message) => {
    expect(decodeOtlp(json(request([{ body }])), OTLP_JSON).records).toEqual([message]);
  });

  test("time: timeUnixNano, else observedTimeUnixNano, as numbers or strings; none when both are 0", () => {
    const decoded = decodeOtlp(
      json(
        request([
          { body: { stringValue: "a" }, timeUnixNano: "1", observedTimeUnixNano: "2000000000" },
          { body: { stringValue: "b" }, timeUnixNano: 0, observedTimeUnixNano: 1_000_000_123 },
          { body: { stringValue: "c" } },
        ]),
      ),
      OTLP_JSON,
    );
    expect(decoded.records).toEqual([
      { message: "a", fields: { time: "1970-01-01T00:00:00.000000001Z" } },
      { message: "b", fields: { time: "1970-01-01T00:00:01.000000123Z" } },
      "c",
    ]);
  });

  test.each([
    [1, "TRACE"],
    [4, "TRACE"],
    [5, "DEBUG"],
    [12, "INFO"],
    [13, "WARN"],
    [17, "ERROR"],
    [24, "FATAL"],
    ["SEVERITY_NUMBER_ERROR2", "ERROR"],
  ])("level: severityNumber %p is %s, whatever severityText says", (severityNumber, level) => {
    const [record] = decodeOtlp(
      json(request([{ body: { stringValue: "x" }, severityNumber, severityText: "custom" }])),
      OTLP_JSON,
    ).records;
    expect(record).toMatchObject({ fields: { level, severityText: "custom" } });
  });

  test("level: severityText when the number is unspecified or out of range", () => {
    const records = decodeOtlp(
      json(
        request([
          { body: { stringValue: "x" }, severityText: "notice" },
          { body: { stringValue: "y" }, severityText: "odd", severityNumber: 99 },
        ]),
      ),
      OTLP_JSON,
    ).records;
    expect(records).toEqual([
      { message: "x", fields: { level: "notice", severityText: "notice" } },
      { message: "y", fields: { level: "odd", severityText: "odd", severityNumber: 99 } },
    ]);
  });

  test("trace and span ids: only valid ones (hex in JSON, of 16 and 8 bytes, not all zeros)", () => {
    const records = decodeOtlp(
      json(
        request([
          { body: { stringValue: "valid" }, traceId: "0102030405060708090A0B0C0D0E0F10", spanId: "0102030405060708" },
          { body: { stringValue: "short" }, traceId: "0102", spanId: "01" },
          { body: { stringValue: "zeros" }, traceId: "0".repeat(32), spanId: "0".repeat(16) },
          { body: { stringValue: "base64" }, traceId: "AQIDBAUGBwgJCgsMDQ4PEA==", spanId: "not hex!" },
        ]),
      ),
      OTLP_JSON,
    ).records;
    expect(records).toEqual([
      { message: "valid", fields: { traceId: "0102030405060708090a0b0c0d0e0f10", spanId: "0102030405060708" } },
      "short",
      "zeros",
      "base64",
    ]);
  });

  test('an attribute named "__proto__" stays an attribute', () => {
    const [record] = decodeOtlp(
      json(request([{ body: { stringValue: "x" }, attributes: [{ key: "__proto__", value: { stringValue: "p" } }] }])),
      OTLP_JSON,
    ).records;
    const attributes = fieldsOf(record).attributes as object;
    expect(Object.getPrototypeOf(attributes)).toBe(Object.prototype);
    expect(Object.entries(attributes)).toEqual([["__proto__", "p"]]);
  });

  test("the resource's attributes and the scope's name go with each of their records; unknown JSON keys are ignored", () => {
    const body = {
      resourceLogs: [
        {
          resource: { attributes: [{ key: "service.name", value: { stringValue: "api" } }] },
          scopeLogs: [
            { scope: { name: "s1" }, logRecords: [{ body: { stringValue: "1" } }, { body: { stringValue: "2" } }] },
            { logRecords: [{ body: { stringValue: "3" }, someFutureField: 1 }] },
          ],
        },
        { scopeLogs: [{ scope: { name: "s2" }, logRecords: [{ body: { stringValue: "4" } }] }] },
      ],
    };
    expect(decodeOtlp(json(body), OTLP_JSON).records).toEqual([
      { message: "1", fields: { resource: { "service.name": "api" }, scope: "s1" } },
      { message: "2", fields: { resource: { "service.name": "api" }, scope: "s1" } },
      { message: "3", fields: { resource: { "service.name": "api" } } },
      { message: "4", fields: { scope: "s2" } },
    ]);
  });
});

describe("nothing to deliver", () => {
  test.each([
    ["an empty protobuf body", new Uint8Array(), OTLP_PROTOBUF],
    ["{}", json({}), OTLP_JSON],
    ["no log records", json({ resourceLogs: [{ scopeLogs: [{}] }] }), OTLP_JSON],
  ])("%s is an empty request: no records, nothing rejected", (_, body, contentType) => {
    expect(decodeOtlp(body, contentType)).toEqual({ records: [] });
  });

  test("records without a body, or with an empty AnyValue as one, are all rejected", () => {
    expect(decodeOtlp(json(request([{}, { body: {} }])), OTLP_JSON)).toEqual({
      records: [],
      rejected: { count: 2, reason: "2 of 2 log records have no body: nothing to analyze, so they were dropped" },
    });
  });

  test("an empty string body is a message", () => {
    expect(decodeOtlp(json(request([{ body: { stringValue: "" } }])), OTLP_JSON)).toEqual({ records: [""] });
  });
});

describe("refusals", () => {
  test.each([
    [
      "not protobuf",
      new Uint8Array([0x0a, 0xff, 0x01, 0x02]),
      OTLP_PROTOBUF,
      /^body is not a protobuf ExportLogsServiceRequest \(/,
    ],
    ["JSON sent as protobuf", EXAMPLE, OTLP_PROTOBUF, /^body is not a protobuf ExportLogsServiceRequest/],
    ["not JSON", utf8.encode("{resourceLogs"), OTLP_JSON, /^body is not valid JSON \(/],
    ["an empty JSON body", new Uint8Array(), OTLP_JSON, /^empty body/],
    ["a JSON array", json([]), OTLP_JSON, /^body must be a JSON object/],
    ["snake_case keys", json({ resource_logs: [] }), OTLP_JSON, /resourceLogs, not resource_logs/],
    ["a plain string body", json(request([{ body: "x" }])), OTLP_JSON, /LogRecord\.body: object expected/],
    ["resourceLogs not an array", json({ resourceLogs: {} }), OTLP_JSON, /resourceLogs: array expected/],
  ])("%s: 400 with the reason", (_, body, contentType, reason) => {
    const error = refusal(() => decodeOtlp(body, contentType));
    expect(error.status).toBe(400);
    expect(error.message).toMatch(reason);
  });

  test.each([["text/plain"], [""], ["application/x-ndjson"], ["application/jsonl"]])(
    "Content-Type %p: 415 naming the two that work",
    (contentType) => {
      const error = refusal(() => decodeOtlp(EXAMPLE, contentType));
      expect(error.status).toBe(415);
      expect(error.message).toContain("send Content-Type application/x-protobuf or application/json");
    },
  );
});

describe("otlpResponse", () => {
  const all: Decoded = { records: ["a"] };
  const partial: Decoded = { records: ["a"], rejected: { count: 2, reason: "2 had no body" } };

  test("protobuf, full success: an empty ExportLogsServiceResponse", async () => {
    const res = otlpResponse(all, OTLP_PROTOBUF);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe(OTLP_PROTOBUF);
    expect((await res.bytes()).length).toBe(0);
  });

  test("protobuf, partial success: the SDK's own deserializer reads the rejected count and the reason", async () => {
    const res = otlpResponse(partial, `${OTLP_PROTOBUF}; charset=binary`);
    expect(res.headers.get("content-type")).toBe(OTLP_PROTOBUF);
    const answer = ProtobufLogsSerializer.deserializeResponse(await res.bytes());
    expect(answer.partialSuccess).toEqual({ rejectedLogRecords: 2, errorMessage: "2 had no body" });
  });

  test("JSON, full success: {}", async () => {
    const res = otlpResponse(all, OTLP_JSON);
    expect(res.headers.get("content-type")).toBe(OTLP_JSON);
    expect(await res.text()).toBe("{}");
  });

  test("JSON, partial success: int64 as a decimal string, as proto3 JSON writes it", async () => {
    const res = otlpResponse(partial, OTLP_JSON);
    expect(await res.json()).toEqual({ partialSuccess: { rejectedLogRecords: "2", errorMessage: "2 had no body" } });
  });

  test("a request's Content-Type names its encoding", () => {
    expect(otlpEncoding("application/protobuf")).toBe("protobuf");
    expect(otlpEncoding(" application/x-protobuf ")).toBe("protobuf");
    expect(otlpEncoding("application/json;charset=UTF-8")).toBe("json");
  });
});

describe("otlpError: a google.rpc.Status in the request's encoding", () => {
  test.each([
    [400, 3],
    [401, 16],
    [413, 3],
    [415, 3],
    [429, 8],
    [500, 13],
    [502, 14],
    [503, 14],
    [504, 4],
  ])("HTTP %d keeps its status; Status.code %d (google.rpc.Code's mapping)", async (status, code) => {
    const res = otlpError(new HttpError(status, "why"), OTLP_JSON);
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({ code, message: "why" });
  });

  test("protobuf: code = field 1, message = field 2, the headers kept beside the Content-Type", async () => {
    const error = new HttpError(503, "no healthy analyzer", undefined, { "retry-after": "1" });
    const res = otlpError(error, `${OTLP_PROTOBUF}; charset=binary`);
    expect(res.headers.get("content-type")).toBe(OTLP_PROTOBUF);
    expect(res.headers.get("retry-after")).toBe("1");
    const message = utf8.encode("no healthy analyzer");
    expect([...(await res.bytes())]).toEqual([0x08, 14, 0x12, message.length, ...message]);
  });

  test("a Content-Type that is not OTLP's (a 415): JSON", async () => {
    const res = otlpError(new HttpError(415, "not OTLP"), "text/plain");
    expect(res.headers.get("content-type")).toBe(OTLP_JSON);
    expect(await res.json()).toEqual({ code: 3, message: "not OTLP" });
  });
});
