import { describe, expect, test } from "bun:test";
import { constants, zstdCompressSync } from "node:zlib";
import fc from "fast-check";
import { decodeZstd, zstdFramesProblem } from "./zstd.ts";

const text = (s: string) => new TextEncoder().encode(s);
const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
/** Lines unlike each other, so that zstd writes compressed blocks, several past 128 KiB. */
const LINES = text(Array.from({ length: 20_000 }, (_, i) => `{"log":"line ${i} ${(i * 7919) % 104729}"}`).join("\n"));

/** A skippable frame (RFC 8878, 3.1.2): magic 0x184D2A5?, a 4-byte size, that many bytes. */
function skippable(content: Uint8Array): Uint8Array {
  const head = new DataView(new ArrayBuffer(8));
  head.setUint32(0, 0x184d2a53, true);
  head.setUint32(4, content.length, true);
  return concat(new Uint8Array(head.buffer), content);
}

describe("decodeZstd", () => {
  test("a body of several blocks, one frame: decoded whole", () => {
    const frame = zstdCompressSync(LINES);
    expect(zstdFramesProblem(frame)).toBeUndefined();
    expect(decodeZstd(frame, 1 << 22)).toEqual(LINES);
  });

  test("frames one after another, a skippable frame between them: their contents in order", () => {
    const body = concat(zstdCompressSync(text("ab")), skippable(text("ignored")), zstdCompressSync(text("cd")));
    expect(new TextDecoder().decode(decodeZstd(body, 100))).toBe("abcd");
  });

  // Bun's own decoder returns what it decoded so far for these, without an error (see zstd.ts).
  test("a frame cut anywhere is refused, never decoded in part", () => {
    const frame = zstdCompressSync(LINES);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: frame.length - 1 }), (cut) => {
        expect(() => decodeZstd(frame.subarray(0, cut), 1 << 22)).toThrow();
      }),
      { numRuns: 300 },
    );
    for (const cut of [0, 1, 4, 5, 6, frame.length - 4, frame.length - 1]) {
      expect(zstdFramesProblem(frame.subarray(0, cut))).toBeString();
    }
  });

  test("bytes after the last frame, or none at all: refused with the reason", () => {
    const frame = zstdCompressSync(text("ab"));
    expect(zstdFramesProblem(concat(frame, text("xyz")))).toBe("3 stray bytes after the last frame");
    expect(zstdFramesProblem(concat(frame, text("more than four")))).toBe(`no zstd frame at byte ${frame.length}`);
    expect(zstdFramesProblem(text('{"log":1}'))).toBe("no zstd frame at byte 0");
    expect(zstdFramesProblem(new Uint8Array())).toBe("no frame");
    expect(zstdFramesProblem(skippable(text("abc")).subarray(0, 10))).toBe("a skippable frame cut short");
  });

  test("any content round-trips; with a checksum too", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), fc.boolean(), (content, checksum) => {
        const frame = zstdCompressSync(content, { params: { [constants.ZSTD_c_checksumFlag]: checksum ? 1 : 0 } });
        expect(decodeZstd(frame, 5000)).toEqual(content);
      }),
      { numRuns: 200 },
    );
  });
});
