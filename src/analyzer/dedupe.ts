// The message ids an analyzer has analyzed, the last `window` of them: a message replayed from a
// distributor's spool after a crash carries the id it had the first time, and is analyzed once.
// A Set for the lookups and a ring of the same ids for forgetting the oldest: O(1) per id, memory
// bounded by the window (~100 bytes an id).

export class SeenIds {
  readonly window: number;
  #set = new Set<string>();
  #ring: (string | undefined)[];
  #next = 0;

  constructor(window: number) {
    if (!Number.isInteger(window) || window < 0) throw new RangeError(`window must be a whole number, got ${window}`);
    this.window = window;
    this.#ring = new Array(window);
  }

  has(id: string): boolean {
    return this.#set.has(id);
  }

  /** Remembers `id`, forgetting the oldest one once the window is full. */
  add(id: string): void {
    if (this.window === 0 || this.#set.has(id)) return;
    const old = this.#ring[this.#next];
    if (old !== undefined) this.#set.delete(old);
    this.#ring[this.#next] = id;
    this.#next = (this.#next + 1) % this.window;
    this.#set.add(id);
  }

  get size(): number {
    return this.#set.size;
  }
}
