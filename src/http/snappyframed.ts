// Snappy's framing format (github.com/google/snappy framing_format.txt): what the OpenTelemetry
// Collector sends as `Content-Encoding: snappy` before v0.125 and as `x-snappy-framed` since (its
// confighttp.framedSnappy gate; its own receiver tells the two apart by the stream identifier, as
// decodeSnappyAny does). A stream is chunks: a type byte, a 3-byte length, the data. The
// compressed ones hold a snappy block (decoded by snappy.ts), the uncompressed ones the bytes;
// both start with the masked CRC-32C of what they decode to, checked here. The format has no end
// marker: a stream cut exactly where a chunk ends reads as a shorter stream (in every reader of it);
// cut anywhere else, it is refused.

import { PayloadTooLargeError } from "./errors.ts";
import { decodeSnappy } from "./snappy.ts";

/** The stream identifier chunk every framed stream starts with: type 0xff, length 6, "sNaPpY". */
const STREAM_IDENTIFIER = [0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59];
const COMPRESSED = 0x00;
const UNCOMPRESSED = 0x01;
const PADDING = 0xfe;
/** 0x80 to 0xfd may be skipped; 0x02 to 0x7f are reserved and must not be. */
const FIRST_SKIPPABLE = 0x80;
/** What one chunk may decode to at most. */
const MAX_CHUNK = 65_536;

export function isSnappyFramed(body: Uint8Array): boolean {
  return body.length >= STREAM_IDENTIFIER.length && STREAM_IDENTIFIER.every((b, i) => body[i] === b);
}

/** A framed stream when it starts like one, else one snappy block. */
export function decodeSnappyAny(body: Uint8Array, maxBytes: number): Uint8Array {
  return isSnappyFramed(body) ? decodeSnappyFramed(body, maxBytes) : decodeSnappy(body, maxBytes);
}

/** The decoded stream, at most `maxBytes` of it (a 413 past that); throws on anything malformed or cut short. */
export function decodeSnappyFramed(body: Uint8Array, maxBytes: number): Uint8Array {
  if (!isSnappyFramed(body)) throw new Error("no snappy stream identifier at the start");
  const parts: Uint8Array[] = [];
  let total = 0;
  let pos = 0;
  while (pos < body.length) {
    if (pos + 4 > body.length) throw new Error(`a chunk header cut short at byte ${pos}`);
    const type = body[pos]!;
    const length = body[pos + 1]! | (body[pos + 2]! << 8) | (body[pos + 3]! << 16);
    const start = pos + 4;
    pos = start + length;
    if (pos > body.length) throw new Error(`a chunk cut short at byte ${start - 4}`);
    if (type === 0xff) {
      if (length !== 6 || !isSnappyFramed(body.subarray(start - 4))) throw new Error("a bad stream identifier");
      continue;
    }
    if (type === PADDING || type >= FIRST_SKIPPABLE) continue;
    if (type !== COMPRESSED && type !== UNCOMPRESSED) throw new Error(`a chunk of the reserved type ${type}`);
    if (length < 4) throw new Error(`a chunk too short for its checksum at byte ${start - 4}`);
    const data = body.subarray(start + 4, pos);
    const part = type === COMPRESSED ? chunkBlock(data) : data;
    if (part.length > MAX_CHUNK) throw new Error(`a chunk of more than ${MAX_CHUNK} bytes`);
    const expected =
      (body[start]! | (body[start + 1]! << 8) | (body[start + 2]! << 16) | (body[start + 3]! << 24)) >>> 0;
    if (maskedCrc32c(part) !== expected) throw new Error(`a chunk whose checksum does not match at byte ${start - 4}`);
    total += part.length;
    if (total > maxBytes) throw new PayloadTooLargeError(maxBytes);
    parts.push(part);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A compressed chunk's block: one that declares more than a chunk may hold is malformed, not a 413. */
function chunkBlock(data: Uint8Array): Uint8Array {
  try {
    return decodeSnappy(data, MAX_CHUNK);
  } catch (error) {
    if (error instanceof PayloadTooLargeError) throw new Error(`a chunk of more than ${MAX_CHUNK} bytes`);
    throw error;
  }
}

// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), table-driven; not the CRC-32 of zlib.
const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = CRC32C_TABLE[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** The framing format's checksum: the CRC rotated right by 15 bits plus a constant. */
export function maskedCrc32c(data: Uint8Array): number {
  const crc = crc32c(data);
  return (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;
}
