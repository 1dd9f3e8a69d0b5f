// Seedable randomness, so that tests and load runs can be replayed exactly.

/** A source of uniform numbers in [0, 1), like Math.random. */
export type Random = () => number;

/** mulberry32: a 32-bit state generator, fast and good enough for picking and sampling (not crypto). */
export function seededRandom(seed: number): Random {
  if (!Number.isInteger(seed)) throw new TypeError(`seed must be an integer, got ${seed}`);
  let state = seed >>> 0;
  return function mulberry32() {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A number in [0, 1) fixed by three integers (murmur3's 32-bit finalizer over them): the same
 * inputs always give the same number, and consecutive inputs spread like independent draws. A
 * message's pick made from its id lands on the same analyzer again when it is replayed.
 */
export function hashUniform(seed: number, a: number, b: number): number {
  let h = mix(seed >>> 0, a >>> 0);
  h = mix(h, Math.floor(a / 4294967296) >>> 0);
  h = mix(h, b >>> 0);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

function mix(h: number, k: number): number {
  const x = h ^ Math.imul(k, 0xcc9e2d51);
  return (Math.imul((x << 13) | (x >>> 19), 5) + 0xe6546b64) | 0;
}
