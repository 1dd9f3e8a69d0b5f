// Content-Encoding of a request body: gzip (Fluent Bit's `compress gzip`, Vector's and the OTel
// Collector's compression) and deflate are inflated, within the same MAX_BODY_BYTES as the body
// on the wire, so a small bomb cannot grow into a large buffer; any other coding is a 415.

import { gunzipSync, inflateSync } from "node:zlib";
import { BadRequestError, HttpError, PayloadTooLargeError } from "./errors.ts";

export function decodeContent(body: Uint8Array, contentEncoding: string | null, maxBytes: number): Uint8Array {
  const coding = (contentEncoding ?? "").trim().toLowerCase();
  if (coding === "" || coding === "identity") return body;
  const inflate = coding === "gzip" || coding === "x-gzip" ? gunzipSync : coding === "deflate" ? inflateSync : null;
  if (inflate === null) {
    throw new HttpError(
      415,
      `Content-Encoding ${JSON.stringify(contentEncoding)} is not supported: send gzip, deflate or none`,
    );
  }
  try {
    return inflate(body, { maxOutputLength: maxBytes });
  } catch (error) {
    if ((error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") throw new PayloadTooLargeError(maxBytes);
    throw new BadRequestError(
      `body is not valid ${coding} (${(error as Error).message}): compress it whole, or drop Content-Encoding`,
    );
  }
}
