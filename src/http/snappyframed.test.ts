import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { compress } from "snappyjs";
import { PayloadTooLargeError } from "./errors.ts";
import { crc32c, decodeSnappyAny, decodeSnappyFramed, isSnappyFramed, maskedCrc32c } from "./snappyframed.ts";

// Streams written by github.com/golang/snappy's NewBufferedWriter, the writer the OpenTelemetry
// Collector compresses with (Go 1.19 and golang-github-golang-snappy-dev from Debian 12):
// - framed-two-chunks.sz: 70,000 bytes of the line {"log":"two chunks"}\n repeated, cut at 70,000:
//   two compressed chunks (a chunk holds 65,536 bytes);
// - framed-uncompressed.sz: the 64 bytes (i * 151 + 7) % 251, which do not compress: one
//   uncompressed chunk.
const fixture = (name: string) => new Uint8Array(readFileSync(join(import.meta.dir, "testdata", name)));
const TWO_CHUNKS = fixture("framed-two-chunks.sz");
const UNCOMPRESSED = fixture("framed-uncompressed.sz");
const LINE = '{"log":"two chunks"}\n';
const TWO_CHUNKS_TEXT = LINE.repeat(Math.ceil(70_000 / LINE.length)).slice(0, 70_000);
const RAW = Uint8Array.from({ length: 64 }, (_, i) => (i * 151 + 7) % 251);

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** A framed stream of `chunks` (type, data as the chunk holds it), after the stream identifier. */
function framedStream(...chunks: [type: number, data: Uint8Array][]): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.from([0xff, 6, 0, 0, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59])];
  for (const [type, data] of chunks) {
    parts.push(Uint8Array.from([type, data.length & 0xff, (data.length >> 8) & 0xff, data.length >> 16]), data);
  }
  return new Uint8Array(Buffer.concat(parts));
}

/** A compressed chunk for `content`: its masked CRC-32C (or `crc`), then the snappy block. */
function compressedChunk(content: Uint8Array, crc = maskedCrc32c(content)): [number, Uint8Array] {
  const head = new Uint8Array(4);
  new DataView(head.buffer).setUint32(0, crc, true);
  return [0x00, new Uint8Array(Buffer.concat([head, compress(content)]))];
}

/** `content` framed as a writer does it: compressed chunks of at most 65,536 bytes. */
function framedSnappy(content: Uint8Array): Uint8Array {
  const chunks: [number, Uint8Array][] = [];
  for (let at = 0; at < content.length; at += 65_536) chunks.push(compressedChunk(content.subarray(at, at + 65_536)));
  return framedStream(...chunks);
}

describe("decodeSnappyFramed", () => {
  test("CRC-32C is Castagnoli's: its check value for 123456789", () => {
    expect(crc32c(new TextEncoder().encode("123456789"))).toBe(0xe3069283);
  });

  test("what Go's snappy writer (the Collector's) wrote: two compressed chunks, and an uncompressed one", () => {
    expect(text(decodeSnappyFramed(TWO_CHUNKS, 1 << 20))).toBe(TWO_CHUNKS_TEXT);
    expect(decodeSnappyFramed(UNCOMPRESSED, 1 << 20)).toEqual(RAW);
  });

  test("decodeSnappyAny tells the two formats apart by the stream identifier", () => {
    expect(isSnappyFramed(TWO_CHUNKS)).toBe(true);
    expect(text(decodeSnappyAny(TWO_CHUNKS, 1 << 20))).toBe(TWO_CHUNKS_TEXT);
    const block = compress(new TextEncoder().encode("a block"));
    expect(isSnappyFramed(block)).toBe(false);
    expect(text(decodeSnappyAny(block, 1 << 20))).toBe("a block");
  });

  // The format has no end marker: a stream cut where a chunk ends is a shorter stream, and decodes to
  // the chunks before the cut (as in every reader of it, the Collector's too). Anywhere else: refused.
  test("a stream cut inside a chunk is refused, never decoded in part; cut between chunks, it is the chunks before", () => {
    // Where a chunk ends → bytes decoded up to there; the stream identifier alone is an empty stream.
    const boundaries = new Map<number, number>([[10, 0]]);
    for (let pos = 10, decoded = 0; pos < TWO_CHUNKS.length; ) {
      const length = TWO_CHUNKS[pos + 1]! | (TWO_CHUNKS[pos + 2]! << 8) | (TWO_CHUNKS[pos + 3]! << 16);
      pos += 4 + length;
      decoded = Math.min(decoded + 65_536, TWO_CHUNKS_TEXT.length);
      boundaries.set(pos, decoded);
    }
    expect([...boundaries.values()]).toEqual([0, 65_536, 70_000]);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: TWO_CHUNKS.length - 1 }), (cut) => {
        const cutShort = TWO_CHUNKS.subarray(0, cut);
        const whole = boundaries.get(cut);
        if (whole === undefined) expect(() => decodeSnappyFramed(cutShort, 1 << 20)).toThrow();
        else expect(text(decodeSnappyFramed(cutShort, 1 << 20))).toBe(TWO_CHUNKS_TEXT.slice(0, whole));
      }),
      { numRuns: 300 },
    );
    expect(text(decodeSnappyFramed(TWO_CHUNKS.subarray(0, [...boundaries.keys()][1]), 1 << 20))).toBe(
      TWO_CHUNKS_TEXT.slice(0, 65_536),
    );
  });

  test("padding and skippable chunks are skipped; a reserved one, a bad checksum or a too-big chunk refused", () => {
    const content = new TextEncoder().encode("kept");
    expect(
      text(
        decodeSnappyFramed(
          framedStream([0xfe, new Uint8Array(3)], compressedChunk(content), [0x80, new Uint8Array(2)]),
          100,
        ),
      ),
    ).toBe("kept");
    expect(() => decodeSnappyFramed(framedStream([0x02, new Uint8Array(2)]), 100)).toThrow(
      "a chunk of the reserved type 2",
    );
    expect(() => decodeSnappyFramed(framedStream(compressedChunk(content, 12345)), 100)).toThrow(
      /checksum does not match/,
    );
    const big = new Uint8Array(70_000);
    expect(() => decodeSnappyFramed(framedStream(compressedChunk(big)), 1 << 20)).toThrow(
      "a chunk of more than 65536 bytes",
    );
    expect(() => decodeSnappyFramed(compress(content), 100)).toThrow("no snappy stream identifier at the start");
  });

  test("any content framed as a writer does it round-trips", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 150_000 }), (content) => {
        expect(decodeSnappyFramed(framedSnappy(content), 150_000)).toEqual(content);
      }),
      { numRuns: 30 },
    );
  });

  test("more than maxBytes in all: 413", () => {
    expect(() => decodeSnappyFramed(TWO_CHUNKS, 65_536)).toThrow(PayloadTooLargeError);
  });
});
