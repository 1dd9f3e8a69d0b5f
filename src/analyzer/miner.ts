// An online template miner in the manner of Drain (He et al., ICWS 2017): masked tokens walk a
// fixed-depth tree (their count, then their first few tokens) to a leaf holding a few templates;
// the line joins the most similar one if the share of equal tokens reaches a threshold, turning
// the positions that differ into `<*>`, or starts a template of its own. Cost per line: O(tokens)
// for the walk plus O(tokens) per template in the leaf, which MAX_LEAF bounds.
//
// A template's id is fixed when it is created: its text may generalize as lines join, its id never
// changes, so every line keeps the id it was given. At most `maxTemplates` are kept; the least
// recently seen is evicted (and counted), and a line like it later starts a new id.

import { MASK } from "./masking.ts";

export type MinerOptions = {
  /** Templates kept at most; the least recently seen goes first. */
  maxTemplates: number;
  /** The share of a line's tokens that must equal a template's for the line to join it (0..1]. */
  similarity: number;
  /** Leading tokens that route a line through the tree, after its token count. */
  depth: number;
  /** Children per tree node; tokens beyond share one `<*>` child. */
  maxChildren: number;
  /** Clock for first and last seen, in epoch milliseconds. */
  now: () => number;
};

export const DEFAULT_MINER_OPTIONS: MinerOptions = {
  maxTemplates: 10_000,
  similarity: 0.85,
  depth: 2,
  maxChildren: 100,
  now: Date.now,
};

/** The shortest line that may differ from its template in one word whatever the similarity. */
export const MIN_TOKENS_FOR_ONE_DIFFERENCE = 5;

/** Templates compared per leaf at most: the most recently seen ones, which keeps a line's cost O(tokens). */
export const MAX_LEAF = 64;

/** A template as the miner keeps it; `tokens` and `template` change as lines join, `id` never. */
export type Template = {
  readonly id: number;
  tokens: string[];
  template: string;
  count: number;
  firstSeen: number;
  lastSeen: number;
  /** Lines by level ("NONE" for a line without one). */
  levels: Record<string, number>;
  leaf: TreeNode;
};

type TreeNode = {
  key: string;
  parent: TreeNode | null;
  children: Map<string, TreeNode>;
  /** Leaves only: most recently seen last. */
  templates: Template[];
};

function node(key: string, parent: TreeNode | null): TreeNode {
  return { key, parent, children: new Map(), templates: [] };
}

export class TemplateMiner {
  readonly options: MinerOptions;
  #root = node("", null);
  // The tree's first level, by token count.
  #byLength = new Map<number, TreeNode>();
  // Insertion order is recency order: a template seen again is deleted and set anew, so the
  // first entry is always the least recently seen and eviction is O(1).
  #byId = new Map<number, Template>();
  #nextId = 1;
  #newest: Template | undefined;
  #evicted = 0;

  constructor(options: Partial<MinerOptions> = {}) {
    // An option given as undefined takes its default, as if left out.
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
    const o: MinerOptions = { ...DEFAULT_MINER_OPTIONS, ...given };
    if (!Number.isInteger(o.maxTemplates) || o.maxTemplates < 1) {
      throw new RangeError(`maxTemplates must be a whole number of at least 1, got ${o.maxTemplates}`);
    }
    if (!(o.similarity > 0 && o.similarity <= 1)) {
      throw new RangeError(`similarity must be a number in (0, 1], got ${o.similarity}`);
    }
    if (!Number.isInteger(o.depth) || o.depth < 0) {
      throw new RangeError(`depth must be a whole number of at least 0, got ${o.depth}`);
    }
    if (!Number.isInteger(o.maxChildren) || o.maxChildren < 1) {
      throw new RangeError(`maxChildren must be a whole number of at least 1, got ${o.maxChildren}`);
    }
    if (typeof o.now !== "function") throw new TypeError(`now must be a function, got ${typeof o.now}`);
    this.options = o;
  }

  /** Templates kept now. */
  get size(): number {
    return this.#byId.size;
  }

  /** Templates evicted since the start to stay within maxTemplates. */
  get evicted(): number {
    return this.#evicted;
  }

  /** The template the line (its masked tokens) joins or starts. */
  add(tokens: readonly string[], level: string | null = null): Template {
    const leaf = this.#leafFor(tokens);
    let best = this.#bestMatch(leaf.templates, tokens);
    const at = this.options.now();
    if (best === undefined) {
      best = {
        id: this.#nextId++,
        tokens: [...tokens],
        template: tokens.join(" "),
        count: 0,
        firstSeen: at,
        lastSeen: at,
        levels: {},
        leaf,
      };
      leaf.templates.push(best);
      if (leaf.templates.length > MAX_LEAF) leaf.templates.shift();
      this.#byId.set(best.id, best);
      this.#newest = best;
      if (this.#byId.size > this.options.maxTemplates) this.#evictOldest();
    } else {
      if (generalize(best.tokens, tokens)) best.template = best.tokens.join(" ");
      this.#touch(best);
    }
    best.count++;
    best.lastSeen = at;
    const key = level ?? "NONE";
    best.levels[key] = (best.levels[key] ?? 0) + 1;
    return best;
  }

  /** The templates kept, most lines first (ties: the older id first). */
  top(limit = Number.POSITIVE_INFINITY): Template[] {
    return [...this.#byId.values()].sort((a, b) => b.count - a.count || a.id - b.id).slice(0, limit);
  }

  #leafFor(tokens: readonly string[]): TreeNode {
    let at = this.#byLength.get(tokens.length);
    if (at === undefined) {
      at = node(String(tokens.length), this.#root);
      this.#byLength.set(tokens.length, at);
    }
    const depth = Math.min(this.options.depth, tokens.length);
    for (let i = 0; i < depth; i++) {
      const token = tokens[i];
      at = child(at, token.includes(MASK) ? MASK : token, this.options.maxChildren);
    }
    return at;
  }

  /** The candidate sharing most tokens with the line, if it is similar enough to join. */
  #bestMatch(candidates: readonly Template[], tokens: readonly string[]): Template | undefined {
    const n = tokens.length;
    if (n === 0) return candidates[0];
    let best: Template | undefined;
    let bestEqual = -1;
    let bestWild = -1;
    // Most recently seen first: on a tie the busier template wins.
    for (let c = candidates.length - 1; c >= 0; c--) {
      const t = candidates[c].tokens;
      let equal = 0;
      let wild = 0;
      for (let i = 0; i < n; i++) {
        // A value masked in both counts as equal: it is the same field.
        if (t[i] === tokens[i]) equal++;
        if (t[i] === MASK) wild++;
      }
      if (equal > bestEqual || (equal === bestEqual && wild > bestWild)) {
        best = candidates[c];
        bestEqual = equal;
        bestWild = wild;
      }
    }
    // One word may differ in a line of MIN_TOKENS_FOR_ONE_DIFFERENCE or more, whatever the
    // threshold: in short lines one word is a large share ("session closed for user <name>").
    const enough =
      bestEqual >= this.options.similarity * n || (n >= MIN_TOKENS_FOR_ONE_DIFFERENCE && bestEqual >= n - 1);
    return enough ? best : undefined;
  }

  #touch(t: Template): void {
    if (this.#newest === t) return;
    this.#newest = t;
    this.#byId.delete(t.id);
    this.#byId.set(t.id, t);
    const list = t.leaf.templates;
    const i = list.lastIndexOf(t);
    if (i !== list.length - 1) {
      if (i >= 0) list.splice(i, 1);
      list.push(t);
    }
  }

  #evictOldest(): void {
    const oldest = this.#byId.values().next().value as Template;
    this.#byId.delete(oldest.id);
    this.#evicted++;
    const list = oldest.leaf.templates;
    const i = list.indexOf(oldest);
    if (i >= 0) list.splice(i, 1);
    // Prune the branch it leaves empty, so the tree stays as small as the templates kept.
    let at: TreeNode | null = oldest.leaf;
    while (at?.parent && at.templates.length === 0 && at.children.size === 0) {
      if (at.parent === this.#root) this.#byLength.delete(Number(at.key));
      else at.parent.children.delete(at.key);
      at = at.parent;
    }
  }
}

function child(parent: TreeNode, key: string, maxChildren: number): TreeNode {
  let next = parent.children.get(key);
  if (next !== undefined) return next;
  // A full node sends new tokens to its `<*>` child, so a variable first token cannot grow it without bound.
  const k = parent.children.size >= maxChildren ? MASK : key;
  next = parent.children.get(k);
  if (next === undefined) {
    next = node(k, parent);
    parent.children.set(k, next);
  }
  return next;
}

/** Masks the template's positions where the line differs; whether anything changed. */
function generalize(template: string[], tokens: readonly string[]): boolean {
  let changed = false;
  for (let i = 0; i < template.length; i++) {
    if (template[i] !== MASK && template[i] !== tokens[i]) {
      template[i] = MASK;
      changed = true;
    }
  }
  return changed;
}
