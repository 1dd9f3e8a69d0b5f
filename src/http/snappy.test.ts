import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { compress } from "snappyjs";
import { PayloadTooLargeError } from "./errors.ts";
import { decodeSnappy, snappyProblem } from "./snappy.ts";

const text = (s: string) => new TextEncoder().encode(s);
/** Repeats (copies) and unique numbers (literals) both. */
const LINES = text(Array.from({ length: 3000 }, (_, i) => `{"log":"line ${i} ${(i * 7919) % 104729}"}`).join("\n"));

describe("decodeSnappy", () => {
  test("a whole block: decoded", () => {
    const block = compress(LINES);
    expect(snappyProblem(block)).toBeUndefined();
    expect(decodeSnappy(block, LINES.length)).toEqual(LINES);
  });

  // snappyjs alone returns these whole-sized, their tail zeros (see snappy.ts).
  test("a block cut anywhere is refused, never decoded in part", () => {
    const block = compress(LINES);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: block.length - 1 }), (cut) => {
        expect(() => decodeSnappy(block.subarray(0, cut))).toThrow(/^not a whole snappy block: /);
      }),
      { numRuns: 300 },
    );
  });

  test("the reasons: a bad length, a copy from before the start, more or fewer bytes than declared", () => {
    expect(snappyProblem(new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80, 0x01]))).toBe("no length at the start");
    expect(snappyProblem(new Uint8Array([4, 0x01, 0x05]))).toBe("a copy from before the start");
    // Declares 2 bytes, holds a 3-byte literal "abc".
    expect(snappyProblem(new Uint8Array([2, 0x08, 97, 98, 99]))).toBe("more than the 2 bytes it declares");
    // Declares 5 bytes, holds the literal "abc".
    expect(snappyProblem(new Uint8Array([5, 0x08, 97, 98, 99]))).toBe("3 of the 5 bytes it declares");
    expect(snappyProblem(new Uint8Array([3, 0x08, 97, 98]))).toBe("cut short");
  });

  test("a declared length past maxBytes: 413 before decoding", () => {
    const bomb = compress(new Uint8Array(10_000_000));
    expect(bomb.length).toBeLessThan(1_000_000);
    expect(() => decodeSnappy(bomb, 1000)).toThrow(PayloadTooLargeError);
  });

  test("any content round-trips", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), (content) => {
        expect(decodeSnappy(compress(content))).toEqual(content);
      }),
      { numRuns: 300 },
    );
  });
});
