import { describe, expect, test } from "bun:test";
import { deflateSync, gzipSync } from "node:zlib";
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
    ["identity", BODY],
    ["", BODY],
    [null, BODY],
  ])("Content-Encoding %p: the body as sent", (coding, body) => {
    expect(decodeContent(body, coding, BODY.length)).toEqual(BODY);
  });

  test("bigger than maxBytes once inflated: 413, without inflating it all", () => {
    const bomb = gzipSync(new Uint8Array(10_000_000));
    const error = refusal(() => decodeContent(bomb, "gzip", 1000));
    expect(error.status).toBe(413);
    expect(error.message).toContain("1000 bytes");
  });

  test("a cut gzip body, or bytes that are not gzip: 400 with the reason", () => {
    for (const body of [gzipSync(BODY).subarray(0, 20), BODY]) {
      const error = refusal(() => decodeContent(body, "gzip", 1 << 20));
      expect(error.status).toBe(400);
      expect(error.message).toMatch(/^body is not valid gzip \(.+\): compress it whole, or drop Content-Encoding$/);
    }
  });

  test.each([["br"], ["zstd"], ["gzip, br"]])("Content-Encoding %p: 415", (coding) => {
    const error = refusal(() => decodeContent(BODY, coding, 1 << 20));
    expect(error.status).toBe(415);
    expect(error.message).toContain("send gzip, deflate or none");
  });
});
