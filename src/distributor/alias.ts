// Vose's alias method: weighted sampling in O(1) per pick after an O(n) build.
// The n positive weights are scaled to average 1; each column i keeps probability prob[i] of its own
// outcome and hands the rest (1 - prob[i]) to one "alias" outcome. A pick draws one uniform number:
// its integer part chooses the column, its fraction chooses between the column and its alias.
// Zero weights get no column at all, so they can never be picked, not even through rounding.

import type { Random } from "../math/random.ts";

export type AliasTable = {
  /** Per column: probability of keeping the column's own outcome. */
  readonly prob: Float64Array;
  /** Per column: the column index that takes the remaining probability. */
  readonly alias: Uint32Array;
  /** Per column: the index, in the weights given to buildAlias, that the column stands for. */
  readonly outcome: Uint32Array;
};

/** Builds the table for `weights` (finite, non-negative, at least one positive). */
export function buildAlias(weights: readonly number[]): AliasTable {
  const outcome: number[] = [];
  let sum = 0;
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i];
    if (typeof w !== "number" || !Number.isFinite(w) || w < 0) {
      throw new RangeError(`weight ${i} must be a finite number >= 0, got ${String(w)}`);
    }
    if (w > 0) {
      outcome.push(i);
      sum += w;
    }
  }
  if (outcome.length === 0) {
    throw new RangeError(`at least one weight must be positive, got [${weights.join(", ")}]`);
  }

  const n = outcome.length;
  const prob = new Float64Array(n);
  const alias = new Uint32Array(n);
  const scaled = new Float64Array(n);
  // Worklists as stacks over preallocated arrays: no shift(), no reallocation.
  const small = new Uint32Array(n);
  const large = new Uint32Array(n);
  let smallTop = 0;
  let largeTop = 0;
  for (let c = 0; c < n; c++) {
    scaled[c] = (weights[outcome[c]] * n) / sum;
    if (scaled[c] < 1) small[smallTop++] = c;
    else large[largeTop++] = c;
  }
  while (smallTop > 0 && largeTop > 0) {
    const s = small[--smallTop];
    const l = large[--largeTop];
    prob[s] = scaled[s];
    alias[s] = l;
    scaled[l] = scaled[l] + scaled[s] - 1;
    if (scaled[l] < 1) small[smallTop++] = l;
    else large[largeTop++] = l;
  }
  // Whatever is left is 1 up to rounding error; every such column here has a positive weight.
  while (largeTop > 0) {
    const l = large[--largeTop];
    prob[l] = 1;
    alias[l] = l;
  }
  while (smallTop > 0) {
    const s = small[--smallTop];
    prob[s] = 1;
    alias[s] = s;
  }
  return { prob, alias, outcome: Uint32Array.from(outcome) };
}

/** Picks an index into the weights the table was built from. */
export function pickAlias(table: AliasTable, random: Random): number {
  const x = random() * table.prob.length;
  const column = x | 0;
  const chosen = x - column < table.prob[column] ? column : table.alias[column];
  return table.outcome[chosen];
}

/**
 * The exact probability of each outcome as the table encodes it (for tests and diagnostics):
 * P(i) = (prob[i] + Σ_{j: alias[j] = i} (1 - prob[j])) / n, summed over the columns of outcome i.
 */
export function aliasProbabilities(table: AliasTable, outcomes: number): number[] {
  const n = table.prob.length;
  const p = new Array<number>(outcomes).fill(0);
  for (let c = 0; c < n; c++) {
    p[table.outcome[c]] += table.prob[c] / n;
    p[table.outcome[table.alias[c]]] += (1 - table.prob[c]) / n;
  }
  return p;
}
