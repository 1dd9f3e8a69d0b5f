// A bounded FIFO channel between request handlers (producers) and the worker pool (consumers).
// Items live in a fixed ring buffer, so memory is bounded by `capacity` and every operation is O(1)
// (amortized O(k) for k items). Producers that must not wait use trySend/trySendAll and turn `false`
// into a 503; consumers await recv() and then take whatever else is queued with takeUpTo().
// close() stops new sends; receivers drain what is left, then get `undefined` (so items are never
// `undefined` themselves).

export class ChannelClosedError extends Error {
  override name = "ChannelClosedError";
}

export class Channel<T> {
  readonly capacity: number;
  #ring: (T | undefined)[];
  #head = 0;
  #size = 0;
  #closed = false;
  // Waiting receivers only exist while the ring is empty; LIFO wakes the most recently idle worker.
  #receivers: ((item: T | undefined) => void)[] = [];
  #spaceWaiters: (() => void)[] = [];
  #emptyWaiters: (() => void)[] = [];

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.#ring = new Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Queues `item` if there is room; false when full. */
  trySend(item: T): boolean {
    if (this.#closed) throw new ChannelClosedError("channel is closed");
    const receiver = this.#receivers.pop();
    if (receiver) {
      receiver(item);
      return true;
    }
    if (this.#size === this.capacity) return false;
    this.#push(item);
    return true;
  }

  /** Queues all of `items` or none of them: a packet is admitted whole or refused whole. */
  trySendAll(items: readonly T[]): boolean {
    if (this.#closed) throw new ChannelClosedError("channel is closed");
    // Items handed straight to waiting receivers never occupy the ring, but only while it is empty.
    const handOff = this.#size === 0 ? Math.min(this.#receivers.length, items.length) : 0;
    if (items.length - handOff > this.capacity - this.#size) return false;
    let i = 0;
    for (; i < handOff; i++) this.#receivers.pop()!(items[i]);
    for (; i < items.length; i++) this.#push(items[i]);
    return true;
  }

  /** Queues `item`, waiting for room if needed. */
  async send(item: T): Promise<void> {
    while (!this.trySend(item)) {
      await new Promise<void>((resolve) => this.#spaceWaiters.push(resolve));
    }
  }

  /** The next item, waiting if none is queued; `undefined` once closed and drained. */
  recv(): Promise<T | undefined> {
    if (this.#size > 0) return Promise.resolve(this.#shift());
    if (this.#closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#receivers.push(resolve));
  }

  /** Moves up to `max` queued items into `into` without waiting; returns `into`. */
  takeUpTo(max: number, into: T[] = []): T[] {
    const n = Math.min(max, this.#size);
    for (let i = 0; i < n; i++) into.push(this.#shift());
    return into;
  }

  /** Stops new sends. Queued items can still be received; idle receivers get `undefined`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const receiver of this.#receivers.splice(0)) receiver(undefined);
    for (const waiter of this.#spaceWaiters.splice(0)) waiter();
  }

  /** Resolves when nothing is queued (items may still be in a consumer's hands). */
  onEmpty(): Promise<void> {
    if (this.#size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#emptyWaiters.push(resolve));
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = await this.recv();
      if (item === undefined) return;
      yield item;
    }
  }

  #push(item: T): void {
    this.#ring[(this.#head + this.#size) % this.capacity] = item;
    this.#size++;
  }

  #shift(): T {
    const item = this.#ring[this.#head] as T;
    this.#ring[this.#head] = undefined; // let the item be collected
    this.#head = (this.#head + 1) % this.capacity;
    this.#size--;
    if (this.#spaceWaiters.length > 0) this.#spaceWaiters.shift()!();
    if (this.#size === 0 && this.#emptyWaiters.length > 0) {
      for (const waiter of this.#emptyWaiters.splice(0)) waiter();
    }
    return item;
  }
}
