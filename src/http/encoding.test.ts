import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { deflateSync, gzipSync, zstdCompressSync } from "node:zlib";
import { compress as snappyCompress } from "snappyjs";
import { decodeContent } from "./encoding.ts";
import { HttpError } from "./errors.ts";

const BODY = new TextEncoder().encode('{"log":"a line"}\n'.repeat(100));

/** The HttpError that decoding throws, or a failure naming what came back instead. */
function refusal(decode: () => unknown): HttpError {
  try {
    decode();
  } catch (error) {
    if (error instanceof HttpError) return error;
    throw error;
  }
  throw new Error("expected an HttpError");
}

describe("decodeContent", () => {
  test.each([
    ["gzip", gzipSync(BODY)],
    ["x-gzip", gzipSync(BODY)],
    [" GZIP ", gzipSync(BODY)],
    ["deflate", deflateSync(BODY)],
    ["zlib", deflateSync(BODY)],
    ["zstd", zstdCompressSync(BODY)],
    ["snappy", snappyCompress(BODY)],
    ["identity", BODY],
    ["", BODY],
    [null, BODY],
  ])("Content-Encoding %p: the body as sent", (coding, body) => {
    expect(decodeContent(body, coding, BODY.length)).toEqual(BODY);
  });

  // The OpenTelemetry Collector's framed snappy, as Go's snappy writer made it (snappyframed.test.ts).
  test.each([["snappy"], ["x-snappy-framed"]])("Content-Encoding %p with a framed stream: decoded", (coding) => {
    const framed = new Uint8Array(readFileSync(join(import.meta.dir, "testdata", "framed-two-chunks.sz")));
    const decoded = new TextDecoder().decode(decodeContent(framed, coding, 1 << 20));
    expect(decoded).toStartWith('{"log":"two chunks"}\n');
    expect(decoded).toHaveLength(70_000);
  });

  const ZEROS = new Uint8Array(10_000_000);
  const CODERS = [
    ["gzip", gzipSync],
    ["deflate", deflateSync],
    ["zstd", zstdCompressSync],
    ["snappy", snappyCompress],
  ] as const;

  test.each(CODERS)("%s bigger than maxBytes once decoded: 413", (coding, encode) => {
    const bomb = encode(ZEROS);
    expect(bomb.length).toBeLessThan(1_000_000); // 10 MB of zeros, small on the wire
    const error = refusal(() => decodeContent(bomb, coding, 1000));
    expect(error.status).toBe(413);
    expect(error.message).toContain("1000 bytes");
  });

  test.each(CODERS)("a cut %s body, or bytes that are not it: 400 with the reason", (coding, encode) => {
    for (const body of [encode(BODY).subarray(0, 20), new TextEncoder().encode("not compressed at all")]) {
      const error = refusal(() => decodeContent(body, coding, 1 << 20));
      expect(error.status).toBe(400);
      expect(error.message).toMatch(
        new RegExp(`^body is not valid ${coding} \\(.+\\): compress it whole, or drop Content-Encoding$`),
      );
    }
  });

  test.each([["br"], ["lz4"], ["gzip, br"], ["__proto__"], ["toString"]])(
    "Content-Encoding %p: 415 naming the codings taken",
    (coding) => {
      const error = refusal(() => decodeContent(BODY, coding, 1 << 20));
      expect(error.status).toBe(415);
      expect(error.message).toContain(
        "send gzip, deflate, zlib, zstd, snappy (block or framed), x-snappy-framed or none",
      );
    },
  );
});
