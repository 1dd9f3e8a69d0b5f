// The endpoints that take log messages, one per wire format: app.ts serves each with the handler of
// ingest.ts, so an endpoint gets the token, the limits, admission, delivery and the status codes
// agents act on by adding its format here. A format's decoding and answers live in
// src/protocol/formats/ (pure functions); this file only ties them to paths.

import { decodeOtlp, otlpResponse } from "../protocol/formats/otlp.ts";
import { createPayloadParser } from "../protocol/payload.ts";
import type { Decoded } from "../protocol/record.ts";
import { type Acceptance, deliveredJson, type IngestFormat, jsonText } from "./ingest.ts";

export type IngestRoute = {
  /** POST paths, in hono's syntax (`/:index/_bulk`). */
  readonly paths: readonly string[];
  // biome-ignore lint/suspicious/noExplicitAny: each route keeps its own decoded type
  readonly format: IngestFormat<any>;
};

export type FormatSettings = { maxPacket: number; maxBodyBytes: number };

export function ingestRoutes(settings: FormatSettings): IngestRoute[] {
  return [
    { paths: ["/analyze"], format: analyzeFormat(settings.maxPacket) },
    { paths: ["/v1/logs"], format: otlpFormat(settings.maxBodyBytes) },
  ];
}

type AnalyzeDecoded = Decoded & { single: boolean };

const utf8 = new TextDecoder();

/** POST /analyze: answers with every message's analysis, as one result for a single log. */
export function analyzeFormat(maxPacket: number): IngestFormat<AnalyzeDecoded> {
  const parse = createPayloadParser(maxPacket);
  return {
    name: "analyze",
    decode(body) {
      const payload = parse(utf8.decode(body));
      return { records: payload.logs, single: !payload.packet };
    },
    respond: analyzeAnswer,
    listsOutcomes: (decoded) => !decoded.single,
  };
}

function analyzeAnswer(decoded: AnalyzeDecoded, _req: Request, acceptance: Acceptance): Response {
  if (acceptance.async) return Response.json({ accepted: decoded.records.length }, { status: 202 });
  const { results } = acceptance;
  if (decoded.single) return jsonText(deliveredJson(results[0]));
  let body = '{"results":[';
  for (let i = 0; i < results.length; i++) body += (i === 0 ? "" : ",") + deliveredJson(results[i]);
  return jsonText(`${body}]}`);
}

/** POST /v1/logs, OTLP/HTTP logs: a gzip body counts against MAX_BODY_BYTES inflated too, as the spec asks. */
export function otlpFormat(maxBodyBytes: number): IngestFormat {
  return {
    name: "otlp",
    decode: (body, contentType, req) =>
      decodeOtlp(body, contentType, { contentEncoding: req.headers.get("content-encoding"), maxBytes: maxBodyBytes }),
    // OTLP has one success answer, respond-async or not: an ExportLogsServiceResponse.
    respond: (decoded, req) => otlpResponse(decoded, req.headers.get("content-type") ?? ""),
  };
}
