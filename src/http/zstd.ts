// zstd request bodies (Content-Encoding: zstd). node:zlib decodes them, but Bun's decoder hands back
// what it got so far, without an error, when the input stops inside a frame, and ignores bytes after
// the last one: a cut body would pass as fewer messages, the last one cut short. So the frames are
// walked first (RFC 8878, section 3.1: headers and block sizes only, no decoding) and the body is
// decoded only when it is whole frames and nothing else.

import { zstdDecompressSync } from "node:zlib";

const ZSTD_MAGIC = 0xfd2fb528;
/** Skippable frames (RFC 8878, 3.1.2) use 16 magic numbers, 0x184D2A50 to 0x184D2A5F. */
const SKIPPABLE_MASK = 0xfffffff0;
const SKIPPABLE_MAGIC = 0x184d2a50;
const BLOCK_HEADER = 3;
const RLE_BLOCK = 1;
const RESERVED_BLOCK = 3;
const CHECKSUM = 4;

/** Why `body` is not whole zstd frames, or undefined when it is. */
export function zstdFramesProblem(body: Uint8Array): string | undefined {
  if (body.length === 0) return "no frame";
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  let pos = 0;
  while (pos < body.length) {
    if (pos + 4 > body.length) return `${body.length - pos} stray bytes after the last frame`;
    const magic = view.getUint32(pos, true);
    pos += 4;
    if ((magic & SKIPPABLE_MASK) >>> 0 === SKIPPABLE_MAGIC) {
      if (pos + 4 > body.length) return "a skippable frame cut short";
      pos += 4 + view.getUint32(pos, true);
      if (pos > body.length) return "a skippable frame cut short";
      continue;
    }
    if (magic !== ZSTD_MAGIC) return `no zstd frame at byte ${pos - 4}`;
    if (pos >= body.length) return "a frame header cut short";
    const descriptor = body[pos]!;
    pos += 1;
    const singleSegment = (descriptor & 0x20) !== 0;
    const contentSizeBytes = [singleSegment ? 1 : 0, 2, 4, 8][descriptor >> 6]!;
    const dictionaryIdBytes = [0, 1, 2, 4][descriptor & 3]!;
    pos += (singleSegment ? 0 : 1) + dictionaryIdBytes + contentSizeBytes;
    for (let last = false; !last; ) {
      if (pos + BLOCK_HEADER > body.length) return "a frame cut short";
      const header = body[pos]! | (body[pos + 1]! << 8) | (body[pos + 2]! << 16);
      pos += BLOCK_HEADER;
      last = (header & 1) === 1;
      const type = (header >> 1) & 3;
      if (type === RESERVED_BLOCK) return `a block of the reserved type at byte ${pos - BLOCK_HEADER}`;
      pos += type === RLE_BLOCK ? 1 : header >>> 3;
    }
    if ((descriptor & 0x04) !== 0) pos += CHECKSUM;
    if (pos > body.length) return "a frame cut short";
  }
  return undefined;
}

/** The decoded body, at most `maxBytes` of it (node:zlib's ERR_BUFFER_TOO_LARGE past that). */
export function decodeZstd(body: Uint8Array, maxBytes: number): Uint8Array {
  const problem = zstdFramesProblem(body);
  if (problem !== undefined) throw new Error(problem);
  return zstdDecompressSync(body, { maxOutputLength: maxBytes });
}
