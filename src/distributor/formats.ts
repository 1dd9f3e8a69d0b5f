// The endpoints that take log messages, one per wire format: app.ts serves each with the handler of
// ingest.ts, so an endpoint gets the token, the limits, admission, delivery and the status codes
// agents act on by adding its format here. A format's decoding and answers live in
// src/protocol/formats/ (pure functions); this file only ties them to paths.

import { decodeContent } from "../http/encoding.ts";
import { answersMinimal } from "../protocol/batch.ts";
import { type BulkDecoded, bulkFailure, bulkIndexOf, bulkResponse, decodeBulk } from "../protocol/formats/bulk.ts";
import { decodeGeneric, type GenericDecoded, ndjsonLines } from "../protocol/formats/generic.ts";
import { decodeLoki, LOKI_PUSH_PATH, lokiResponse } from "../protocol/formats/loki.ts";
import { decodeOtlp, otlpError, otlpResponse } from "../protocol/formats/otlp.ts";
import type { Routable } from "../protocol/record.ts";
import { type Acceptance, deliveredJson, type IngestFormat, jsonText, prefersAsync } from "./ingest.ts";

export type IngestRoute = {
  /** POST paths, in hono's syntax (`/:index/_bulk`). */
  readonly paths: readonly string[];
  // biome-ignore lint/suspicious/noExplicitAny: each route keeps its own decoded type
  readonly format: IngestFormat<any>;
};

export type FormatSettings = { maxPacket: number; maxBodyBytes: number };

export function ingestRoutes(settings: FormatSettings): IngestRoute[] {
  return [
    { paths: ["/analyze"], format: analyzeFormat(settings.maxBodyBytes) },
    { paths: ["/v1/logs"], format: otlpFormat(settings.maxBodyBytes) },
    { paths: ["/_bulk", "/:index/_bulk"], format: bulkFormat(settings.maxBodyBytes) },
    { paths: [LOKI_PUSH_PATH], format: lokiFormat(settings.maxBodyBytes) },
  ];
}

/** What POST /analyze decoded: records, or an NDJSON body's lines as they came; `minimal`: answered without analyses (answersMinimal). */
export type AnalyzeDecoded = Omit<GenericDecoded, "records"> & { records: Routable[]; minimal: boolean };

/**
 * POST /analyze: our own bodies and the generic ones agents send (src/protocol/formats/generic.ts),
 * compressed or not; answers with every message's analysis, as one result for a single log or
 * object, or only how many were analyzed: for an agent's body unless it asks for the analyses with
 * `Prefer: return=representation`, for ours with `Prefer: return=minimal` (answersMinimal).
 * A waiting client's NDJSON is routed line by line unparsed (the analyzers read the lines, and
 * refuse a bad one alone); an async one is parsed here, so that the spool stores only records and
 * a bad line refuses the body before its 202.
 */
export function analyzeFormat(maxBodyBytes: number): IngestFormat<AnalyzeDecoded> {
  return {
    name: "analyze",
    decode(body, contentType, req) {
      const inflated = inflate(body, req, maxBodyBytes);
      const prefer = req.headers.get("prefer");
      const lines = prefersAsync(prefer) ? undefined : ndjsonLines(inflated, contentType);
      if (lines) return { records: lines, single: false, minimal: answersMinimal(prefer, false) };
      const decoded = decodeGeneric(inflated, contentType);
      return Object.assign(decoded, { minimal: answersMinimal(prefer, decoded.ours === true) });
    },
    respond: analyzeAnswer,
    // Not in a minimal answer: a list of 1000 outcomes is past what Fluent Bit reads (answersMinimal).
    listsOutcomes: (decoded) => !decoded.single && !decoded.minimal,
    wantsResults: (decoded) => !decoded.minimal,
  };
}

function analyzeAnswer(decoded: AnalyzeDecoded, _req: Request, acceptance: Acceptance): Response {
  if (acceptance.async) return Response.json({ accepted: decoded.records.length }, { status: 202 });
  const { results } = acceptance;
  if (decoded.minimal) return jsonText(`{"analyzed":${results.length}}`);
  if (decoded.single) return jsonText(deliveredJson(results[0]));
  let body = '{"results":[';
  for (let i = 0; i < results.length; i++) body += (i === 0 ? "" : ",") + deliveredJson(results[i]);
  return jsonText(`${body}]}`);
}

/**
 * POST /v1/logs, OTLP/HTTP logs: a gzip body counts against MAX_BODY_BYTES inflated too, as the spec
 * asks; every refusal is a google.rpc.Status in the request's encoding.
 */
export function otlpFormat(maxBodyBytes: number): IngestFormat {
  return {
    name: "otlp",
    decode: (body, contentType, req) => decodeOtlp(inflate(body, req, maxBodyBytes), contentType),
    // OTLP has one success answer, respond-async or not: an ExportLogsServiceResponse.
    respond: (decoded, req) => otlpResponse(decoded, req.headers.get("content-type") ?? ""),
    refusal: (error, req) => otlpError(error, req.headers.get("content-type") ?? ""),
  };
}

/**
 * POST /_bulk and /<index>/_bulk, Elasticsearch's bulk API: gzip too (Filebeat's default). Each
 * item answers for itself; the same answer whether the client waited or said respond-async. A 5xx
 * keeps its status and Retry-After but comes as a bulk reply, every accepted item failed: the form
 * rsyslog's omelasticsearch can retry item by item (it reads only the body).
 */
export function bulkFormat(maxBodyBytes: number): IngestFormat<BulkDecoded> {
  return {
    name: "bulk",
    decode: (body, contentType, req) =>
      decodeBulk(inflate(body, req, maxBodyBytes), contentType, { index: bulkIndexOf(new URL(req.url).pathname) }),
    respond: (decoded) => bulkResponse(decoded),
    failure: (decoded, error) => bulkFailure(decoded, error.status, error.message, error.headers),
  };
}

/** POST /loki/api/v1/push: JSON (gzip too) or snappy protobuf, answered 204 as Loki does. */
export function lokiFormat(maxBodyBytes: number): IngestFormat {
  return {
    name: "loki",
    decode(body, contentType, req) {
      // Loki snappy-decodes protobuf whatever Content-Encoding says, and some clients say "snappy".
      const snappy = req.headers.get("content-encoding")?.trim().toLowerCase() === "snappy";
      return decodeLoki(snappy ? body : inflate(body, req, maxBodyBytes), contentType, { maxBytes: maxBodyBytes });
    },
    respond: () => lokiResponse(),
  };
}

/** The body as sent, or inflated by its Content-Encoding (gzip, deflate) within `maxBodyBytes`. */
function inflate(body: Uint8Array, req: Request, maxBodyBytes: number): Uint8Array {
  const encoding = req.headers.get("content-encoding");
  return encoding === null ? body : decodeContent(body, encoding, maxBodyBytes);
}
