// OTLP/HTTP logs, POST /v1/logs: an ExportLogsServiceRequest as binary protobuf
// (application/x-protobuf) or OTLP/JSON (application/json) (a gzip body is inflated before, by
// src/http/encoding.ts), decoded by protobufjs against the official .proto files in otlp-proto/
// (see its README), not by hand. The answer is an ExportLogsServiceResponse in the request's encoding;
// a refusal (any 4xx or 5xx) is a google.rpc.Status in that encoding, as the specification's
// "Failures" asks, its message the same sentence the other endpoints' JSON errors carry.
//
// Each LogRecord becomes one record: the message is its body (a string body as it is; a map or an
// array as its JSON text; a number, bool or bytes as its text, bytes in base64), and its fields are
// - time: timeUnixNano, else observedTimeUnixNano, as an ISO 8601 time with nanoseconds (none if 0);
// - level: the severityNumber's name (TRACE, DEBUG, INFO, WARN, ERROR, FATAL), else severityText;
//   severityText and severityNumber as sent;
// - attributes: the record's attributes as a plain object (an AnyValue as its JSON value: an int64
//   beyond 2^53 as a decimal string, bytes in base64); resource: the resource's attributes
//   (service.name, ...); scope: the instrumentation scope's name; eventName;
// - traceId, spanId: lowercase hex, only when valid (16 and 8 bytes, not all zero).
// An empty string body is a message, "", as an empty JSON string is at POST /analyze. A record
// without a body (or with an empty AnyValue) has nothing to analyze: it is refused on its own and
// counted in the answer's partialSuccess.rejectedLogRecords, which the client must not retry; the
// others go on.

import protobuf from "protobufjs";
import { BadRequestError, HttpError } from "../../http/errors.ts";
import type { Decoded, LogFields, LogRecord } from "../record.ts";

export const OTLP_PROTOBUF = "application/x-protobuf";
export const OTLP_JSON = "application/json";

export type OtlpEncoding = "protobuf" | "json";

const ACCEPTED = `send Content-Type ${OTLP_PROTOBUF} or ${OTLP_JSON}`;

/** The encoding a Content-Type names; a 415 for one OTLP/HTTP does not define. */
export function otlpEncoding(contentType: string): OtlpEncoding {
  const media = contentType.split(";", 1)[0].trim().toLowerCase();
  if (media === OTLP_PROTOBUF || media === "application/protobuf") return "protobuf";
  if (media === OTLP_JSON) return "json";
  throw new HttpError(415, `Content-Type ${JSON.stringify(contentType)} is not OTLP/HTTP: ${ACCEPTED}`);
}

/** The records of an ExportLogsServiceRequest body (already inflated); throws 400 (malformed) or 415. */
export function decodeOtlp(body: Uint8Array, contentType: string): Decoded {
  const request = otlpEncoding(contentType) === "json" ? fromJson(body) : fromProtobuf(body);
  return recordsOf(request);
}

/** The ExportLogsServiceResponse for a request whose records were all accepted, in the request's encoding. */
export function otlpResponse(decoded: Decoded, contentType: string): Response {
  const { response } = schema();
  // The spec: partial_success stays unset on full success.
  const rejected = decoded.rejected && decoded.rejected.count > 0 ? decoded.rejected : undefined;
  const message = response.fromObject(
    rejected ? { partialSuccess: { rejectedLogRecords: rejected.count, errorMessage: rejected.reason } } : {},
  );
  if (otlpEncoding(contentType) === "protobuf") {
    return new Response(response.encode(message).finish(), { headers: { "content-type": OTLP_PROTOBUF } });
  }
  // proto3 JSON: int64 as a decimal string.
  const json = JSON.stringify(response.toObject(message, { longs: String }));
  return new Response(json, { headers: { "content-type": OTLP_JSON } });
}

/**
 * A refused request's answer: a google.rpc.Status with the error's message, in the request's
 * encoding (JSON when its Content-Type is not OTLP's, e.g. a 415), the status and headers kept.
 */
export function otlpError(error: HttpError, contentType: string): Response {
  const { status } = schema();
  const message = status.fromObject({ code: grpcCode(error.status), message: error.message });
  const headers = new Headers(error.headers);
  let body: Uint8Array | string;
  if (isProtobuf(contentType)) {
    headers.set("content-type", OTLP_PROTOBUF);
    body = status.encode(message).finish();
  } else {
    headers.set("content-type", OTLP_JSON);
    body = JSON.stringify(status.toObject(message));
  }
  return new Response(body, { status: error.status, headers });
}

function isProtobuf(contentType: string): boolean {
  try {
    return otlpEncoding(contentType) === "protobuf";
  } catch {
    return false;
  }
}

// OTLP does not use Status.code (clients must not act on it); it is set as google.rpc.Code maps
// HTTP statuses, for whoever logs it.
function grpcCode(httpStatus: number): number {
  if (httpStatus === 401) return 16; // UNAUTHENTICATED
  if (httpStatus === 429) return 8; // RESOURCE_EXHAUSTED
  if (httpStatus < 500) return 3; // INVALID_ARGUMENT: the request, as sent, will not be taken
  if (httpStatus === 502 || httpStatus === 503) return 14; // UNAVAILABLE
  if (httpStatus === 504) return 4; // DEADLINE_EXCEEDED
  return 13; // INTERNAL
}

// The schema, loaded once on first use from the official .proto files.

type Schema = { request: protobuf.Type; response: protobuf.Type; status: protobuf.Type };
const PROTO_DIR = `${import.meta.dir}/otlp-proto/`;
let loaded: Schema | undefined;

function schema(): Schema {
  if (loaded) return loaded;
  const root = new protobuf.Root();
  // The files import each other by their path from the repository's root (opentelemetry/proto/...).
  root.resolvePath = (_origin, target) => PROTO_DIR + target;
  root.loadSync(["opentelemetry/proto/collector/logs/v1/logs_service.proto", "google/rpc/status.proto"]).resolveAll();
  loaded = {
    request: root.lookupType("opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest"),
    response: root.lookupType("opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse"),
    status: root.lookupType("google.rpc.Status"),
  };
  return loaded;
}

// The request as a plain object (protobufjs' toObject: camelCase names, int64 as decimal strings,
// bytes in base64, the AnyValue oneof named in `value`), whichever encoding it came in.

type AnyValue = {
  value?: string;
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string;
  doubleValue?: number;
  bytesValue?: string;
  arrayValue?: { values?: AnyValue[] };
  kvlistValue?: { values?: KeyValue[] };
};
type KeyValue = { key?: string; value?: AnyValue };
type LogRecordObject = {
  timeUnixNano?: string;
  observedTimeUnixNano?: string;
  severityNumber?: number;
  severityText?: string;
  body?: AnyValue;
  attributes?: KeyValue[];
  traceId?: string;
  spanId?: string;
  eventName?: string;
};
type RequestObject = {
  resourceLogs?: {
    resource?: { attributes?: KeyValue[] };
    scopeLogs?: { scope?: { name?: string }; logRecords?: LogRecordObject[] }[];
  }[];
};

const TO_OBJECT: protobuf.IConversionOptions = { longs: String, bytes: String, enums: Number, oneofs: true };

function fromProtobuf(bytes: Uint8Array): RequestObject {
  const { request } = schema();
  try {
    return request.toObject(request.decode(bytes), TO_OBJECT) as RequestObject;
  } catch (error) {
    throw new BadRequestError(
      `body is not a protobuf ExportLogsServiceRequest (${(error as Error).message}): ${ACCEPTED} to match the body`,
    );
  }
}

const utf8 = new TextDecoder();

function fromJson(bytes: Uint8Array): RequestObject {
  const text = utf8.decode(bytes);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof SyntaxError ? error.message : "nested too deeply";
    throw new BadRequestError(
      text.trim() === ""
        ? "empty body: send an OTLP/JSON ExportLogsServiceRequest"
        : `body is not valid JSON (${reason})`,
    );
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new BadRequestError(
      'body must be a JSON object: an OTLP/JSON ExportLogsServiceRequest, {"resourceLogs": [...]}',
    );
  }
  // OTLP/JSON takes only lowerCamelCase keys; unknown keys are ignored, which would turn this
  // common mistake into a silent "nothing to export".
  if (!("resourceLogs" in body) && "resource_logs" in body) {
    throw new BadRequestError("OTLP/JSON keys are lowerCamelCase: resourceLogs, not resource_logs");
  }
  hexIdsToBytes(body as RequestObject);
  const { request } = schema();
  try {
    return request.toObject(request.fromObject(body), TO_OBJECT) as RequestObject;
  } catch (error) {
    throw new BadRequestError(`body is not an OTLP/JSON ExportLogsServiceRequest: ${(error as Error).message}`);
  }
}

// OTLP/JSON deviates from the proto3 mapping here: traceId and spanId are hex, not base64. An id
// that is not hex is dropped, as the spec says to treat an invalid id as absent.
function hexIdsToBytes(body: RequestObject): void {
  for (const resourceLogs of arrayOr(body.resourceLogs)) {
    for (const scopeLogs of arrayOr(resourceLogs?.scopeLogs)) {
      for (const record of arrayOr(scopeLogs?.logRecords)) {
        if (typeof record !== "object" || record === null) continue;
        const r = record as Record<string, unknown>;
        for (const key of ["traceId", "spanId"]) {
          if (typeof r[key] !== "string") continue;
          const hex = r[key] as string;
          if (hex.length % 2 === 0 && /^[0-9a-f]*$/i.test(hex)) r[key] = Buffer.from(hex, "hex");
          else delete r[key];
        }
      }
    }
  }
}

function arrayOr<T>(x: T[] | undefined): T[] {
  return Array.isArray(x) ? x : [];
}

// Records.

function recordsOf(request: RequestObject): Decoded {
  const records: LogRecord[] = [];
  let noBody = 0;
  for (const resourceLogs of request.resourceLogs ?? []) {
    const resource = attributesOf(resourceLogs.resource?.attributes);
    for (const scopeLogs of resourceLogs.scopeLogs ?? []) {
      const scope = scopeLogs.scope?.name || undefined;
      for (const r of scopeLogs.logRecords ?? []) {
        const message = bodyText(r.body);
        if (message === undefined) {
          noBody++;
          continue;
        }
        const fields: LogFields = {};
        const time = isoTime(r.timeUnixNano) ?? isoTime(r.observedTimeUnixNano);
        if (time) fields.time = time;
        const level = SEVERITY_NAMES[Math.ceil((r.severityNumber ?? 0) / 4)] ?? (r.severityText || undefined);
        if (level) fields.level = level;
        if (r.severityText) fields.severityText = r.severityText;
        if (r.severityNumber) fields.severityNumber = r.severityNumber;
        if (r.eventName) fields.eventName = r.eventName;
        const attributes = attributesOf(r.attributes);
        if (attributes) fields.attributes = attributes;
        if (resource) fields.resource = resource; // shared by the resource's records, never changed
        if (scope) fields.scope = scope;
        const traceId = idHex(r.traceId, 16);
        if (traceId) fields.traceId = traceId;
        const spanId = idHex(r.spanId, 8);
        if (spanId) fields.spanId = spanId;
        records.push(hasAny(fields) ? { message, fields } : message);
      }
    }
  }
  if (noBody === 0) return { records };
  const total = records.length + noBody;
  return {
    records,
    rejected: {
      count: noBody,
      reason: `${noBody} of ${total} log records have no body: nothing to analyze, so they were dropped`,
    },
  };
}

function hasAny(fields: LogFields): boolean {
  for (const _ in fields) return true;
  return false;
}

// The data model's severity ranges, 1-4 TRACE ... 21-24 FATAL; index 0 (unspecified) is none.
const SEVERITY_NAMES = [undefined, "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"] as const;

/** The text to analyze; undefined when the body is absent or an empty AnyValue. */
function bodyText(body: AnyValue | undefined): string | undefined {
  if (body?.value === "stringValue") return body.stringValue;
  const value = plain(body);
  if (value === null) return undefined;
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** An AnyValue as a JSON value; null when empty. */
function plain(v: AnyValue | undefined): unknown {
  switch (v?.value) {
    case "stringValue":
      return v.stringValue;
    case "boolValue":
      return v.boolValue;
    case "intValue": {
      const n = Number(v.intValue);
      return Number.isSafeInteger(n) ? n : v.intValue;
    }
    case "doubleValue":
      return v.doubleValue;
    case "bytesValue":
      return v.bytesValue;
    case "arrayValue":
      return (v.arrayValue?.values ?? []).map(plain);
    case "kvlistValue":
      return attributesOf(v.kvlistValue?.values) ?? {};
    default:
      return null; // empty, or the profiling signal's string-table index
  }
}

/** KeyValues as a plain object (Object.fromEntries: a key like "__proto__" stays a key); undefined when none. */
function attributesOf(list: KeyValue[] | undefined): Record<string, unknown> | undefined {
  if (!list?.length) return undefined;
  return Object.fromEntries(list.map((kv) => [kv.key ?? "", plain(kv.value)]));
}

/** Nanoseconds since the epoch as ISO 8601 with all nine digits; undefined for 0 (unknown). */
function isoTime(nanos: string | undefined): string | undefined {
  if (!nanos || nanos === "0") return undefined;
  const ns = BigInt(nanos);
  const seconds = new Date(Number(ns / 1_000_000_000n) * 1000).toISOString().slice(0, -5); // drops ".000Z"
  return `${seconds}.${String(ns % 1_000_000_000n).padStart(9, "0")}Z`;
}

/** A trace or span id (base64 here) as hex, when it has its length and is not all zeros. */
function idHex(base64: string | undefined, length: number): string | undefined {
  if (!base64) return undefined;
  const bytes = Buffer.from(base64, "base64");
  if (bytes.length !== length || bytes.every((b) => b === 0)) return undefined;
  return bytes.toString("hex");
}
