// Content-Encoding of a request body, decoded within the same MAX_BODY_BYTES as the body on the
// wire, so a small bomb cannot grow into a large buffer; any other coding is a 415. The codings
// are those log agents compress with, as the OpenTelemetry Collector's own receiver takes them: gzip
// (Fluent Bit's `compress gzip`, Vector's and the Collector's default), deflate and zlib (Vector's
// and the Collector's zlib), zstd (Fluent Bit, Vector, the Collector), snappy in its block format
// (Fluent Bit's and Vector's `snappy`, the Collector's since v0.125) or framed (the Collector's
// `snappy` before, its `x-snappy-framed` now), told apart by the stream identifier as the
// Collector does. lz4 (the Collector's too) is not taken: a 415.

import { gunzipSync, inflateSync } from "node:zlib";
import { BadRequestError, HttpError, PayloadTooLargeError } from "./errors.ts";
import { decodeSnappyAny, decodeSnappyFramed } from "./snappyframed.ts";
import { decodeZstd } from "./zstd.ts";

type Decoder = (body: Uint8Array, maxBytes: number) => Uint8Array;

// node:zlib stops at maxOutputLength (ERR_BUFFER_TOO_LARGE) instead of inflating it all; snappy
// refuses a declared length past it up front, framed snappy a chunk that goes past it (a
// PayloadTooLargeError).
const gunzip: Decoder = (body, maxBytes) => gunzipSync(body, { maxOutputLength: maxBytes });
const inflate: Decoder = (body, maxBytes) => inflateSync(body, { maxOutputLength: maxBytes });

const DECODERS: Record<string, Decoder> = {
  gzip: gunzip,
  "x-gzip": gunzip,
  deflate: inflate,
  zlib: inflate,
  zstd: decodeZstd,
  snappy: decodeSnappyAny,
  "x-snappy-framed": decodeSnappyFramed,
};

/** The codings decodeContent takes, for its 415. */
const CONTENT_CODINGS = "gzip, deflate, zlib, zstd, snappy (block or framed), x-snappy-framed or none";

export function decodeContent(body: Uint8Array, contentEncoding: string | null, maxBytes: number): Uint8Array {
  const coding = (contentEncoding ?? "").trim().toLowerCase();
  if (coding === "" || coding === "identity") return body;
  const decode = Object.hasOwn(DECODERS, coding) ? DECODERS[coding]! : undefined;
  if (decode === undefined) {
    throw new HttpError(
      415,
      `Content-Encoding ${JSON.stringify(contentEncoding)} is not supported: send ${CONTENT_CODINGS}`,
    );
  }
  try {
    return decode(body, maxBytes);
  } catch (error) {
    if (error instanceof PayloadTooLargeError) throw error;
    if ((error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") throw new PayloadTooLargeError(maxBytes);
    throw new BadRequestError(
      `body is not valid ${coding} (${(error as Error).message}): compress it whole, or drop Content-Encoding`,
    );
  }
}
