// Snappy's block format (Content-Encoding: snappy from Fluent Bit and Vector; Loki's protobuf push).
// snappyjs decodes it, but does not check that the elements fill the length the body declares: a
// body cut short comes back whole-sized, its tail zeros. So the elements are walked first (the
// format's description, github.com/google/snappy format_description.txt: tags and lengths only)
// and the body is decoded only when they add up to exactly the declared length.

import { uncompress } from "snappyjs";
import { PayloadTooLargeError } from "./errors.ts";

/** The declared length and where the elements start; undefined for a bad varint. */
function preamble(body: Uint8Array): { length: number; start: number } | undefined {
  let length = 0;
  for (let i = 0, shift = 0; i < body.length && i < 5; i++, shift += 7) {
    length += (body[i]! & 0x7f) * 2 ** shift;
    if ((body[i]! & 0x80) === 0) return length <= 0xffffffff ? { length, start: i + 1 } : undefined;
  }
  return undefined;
}

/** Why `body` is not one whole snappy block, or undefined when it is. */
export function snappyProblem(body: Uint8Array): string | undefined {
  const head = preamble(body);
  if (head === undefined) return "no length at the start";
  let pos = head.start;
  let produced = 0;
  while (pos < body.length) {
    const tag = body[pos]!;
    pos += 1;
    if ((tag & 3) === 0) {
      // A literal: its length - 1 in the tag, or in the 1 to 4 bytes after it.
      let length = (tag >> 2) + 1;
      if (length > 60) {
        const bytes = length - 60;
        if (pos + bytes > body.length) return "cut short";
        length = 1;
        for (let i = 0; i < bytes; i++) length += body[pos + i]! * 2 ** (8 * i);
        pos += bytes;
      }
      pos += length;
      produced += length;
    } else {
      // A copy of earlier output: 1, 2 or 4 bytes of offset after the tag.
      const offsetBytes = [0, 1, 2, 4][tag & 3]!;
      if (pos + offsetBytes > body.length) return "cut short";
      const length = (tag & 3) === 1 ? ((tag >> 2) & 7) + 4 : (tag >> 2) + 1;
      let offset = (tag & 3) === 1 ? (tag >> 5) << 8 : 0;
      for (let i = 0; i < offsetBytes; i++) offset += body[pos + i]! * 2 ** (8 * i);
      pos += offsetBytes;
      if (offset === 0 || offset > produced) return "a copy from before the start";
      produced += length;
    }
    if (produced > head.length) return `more than the ${head.length} bytes it declares`;
  }
  if (pos > body.length) return "cut short";
  if (produced !== head.length) return `${produced} of the ${head.length} bytes it declares`;
  return undefined;
}

/**
 * The decoded body. Its declared length is checked against `maxBytes` (if given) before anything
 * is allocated: past it, a 413.
 */
export function decodeSnappy(body: Uint8Array, maxBytes?: number): Uint8Array {
  const length = preamble(body)?.length;
  if (length !== undefined && maxBytes !== undefined && length > maxBytes) throw new PayloadTooLargeError(maxBytes);
  const problem = snappyProblem(body);
  if (problem !== undefined) throw new Error(`not a whole snappy block: ${problem}`);
  return uncompress(body);
}
