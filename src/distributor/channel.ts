// A bounded FIFO channel between request handlers (producers) and the worker pool (consumers).
// Items live in a fixed ring buffer, so memory is bounded by `capacity` and every operation is O(1)
// (amortized O(k) for k items). Capacity counts units of `sizeOf(item)` (1 per item by default): the
// distributor queues one item per request and counts its messages. Producers that must not wait use trySend/trySendAll and turn `false`
// into a 503; consumers await recvBatch(), which waits for one item and takes whatever else is queued.
// Idle consumers are woken once per event-loop turn (setImmediate), not once per item: everything
// that arrives in one turn (a burst of requests read in one poll) goes to one consumer as one batch.
// Waking per item would hand each message to its own idle worker and so cost one upstream request
// per message exactly when batching would pay most. No timer is waited on unless the pool holds a
// wake back (holdWake) to let a busy worker come back for the queue itself.
// close() stops new sends; receivers drain what is left, then get `undefined` (so items are never
// `undefined` themselves).

export class ChannelClosedError extends Error {
  override name = "ChannelClosedError";
}

export class Channel<T> {
  readonly capacity: number;
  #ring: (T | undefined)[];
  #head = 0;
  #count = 0; // items in the ring
  #size = 0; // their units
  #sizeOf: (item: T) => number;
  #closed = false;
  // Waiting receivers, each with the most it takes; LIFO wakes the most recently idle worker.
  #receivers: { max: number; resolve: (items: T[]) => void }[] = [];
  #wakeScheduled = false;
  /**
   * Asked when items wait for an idle receiver: how many ms to hold off waking one (0: wake now).
   * Asked again when that time is up, so the answer may change as the consumers progress.
   */
  holdWake: (() => number) | undefined;
  #spaceWaiters: (() => void)[] = [];
  #emptyWaiters: (() => void)[] = [];

  constructor(capacity: number, sizeOf: (item: T) => number = () => 1) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.#sizeOf = sizeOf;
    // Every item is at least one unit, so `capacity` slots always suffice.
    this.#ring = new Array(capacity);
  }

  /** Units queued (messages, for the distributor). */
  get size(): number {
    return this.#size;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Queues `item` if there is room; false when full. */
  trySend(item: T): boolean {
    if (this.#closed) throw new ChannelClosedError("channel is closed");
    if (this.#size + this.#sizeOf(item) > this.capacity) return false;
    this.#push(item);
    this.#scheduleWake();
    return true;
  }

  /** Queues all of `items` or none of them: a packet is admitted whole or refused whole. */
  trySendAll(items: readonly T[]): boolean {
    if (this.#closed) throw new ChannelClosedError("channel is closed");
    let units = 0;
    for (let i = 0; i < items.length; i++) units += this.#sizeOf(items[i]);
    if (units > this.capacity - this.#size) return false;
    for (let i = 0; i < items.length; i++) this.#push(items[i]);
    this.#scheduleWake();
    return true;
  }

  /** Queues `item`, waiting for room if needed. */
  async send(item: T): Promise<void> {
    while (!this.trySend(item)) {
      await new Promise<void>((resolve) => this.#spaceWaiters.push(resolve));
    }
  }

  /** The next item, waiting if none is queued; `undefined` once closed and drained. */
  async recv(): Promise<T | undefined> {
    return (await this.recvBatch(1))[0];
  }

  /** Waits for at least one item, then takes up to `max` queued ones; `[]` once closed and drained. */
  recvBatch(max: number): Promise<T[]> {
    if (this.#size > 0) return Promise.resolve(this.takeUpTo(max));
    if (this.#closed) return Promise.resolve([]);
    return new Promise((resolve) => this.#receivers.push({ max, resolve }));
  }

  /**
   * Moves queued items worth up to `max` units into `into` without waiting (always at least one
   * item when any is queued, however large); returns `into`.
   */
  takeUpTo(max: number, into: T[] = []): T[] {
    let taken = 0;
    while (this.#count > 0) {
      const next = this.#sizeOf(this.#ring[this.#head] as T);
      if (taken > 0 && taken + next > max) break;
      into.push(this.#shift());
      taken += next;
    }
    return into;
  }

  /** Stops new sends. Queued items can still be received; idle receivers get `undefined`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Queued items still go out through the pending wake; receivers left over then get [].
    if (this.#size === 0) for (const r of this.#receivers.splice(0)) r.resolve([]);
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

  #scheduleWake(): void {
    if (this.#wakeScheduled || this.#receivers.length === 0) return;
    this.#wakeScheduled = true;
    setImmediate(() => this.#wake());
  }

  #wake(): void {
    const hold = this.#size > 0 && !this.#closed && this.holdWake ? this.holdWake() : 0;
    if (hold > 0) {
      setTimeout(() => this.#wake(), hold);
      return;
    }
    this.#wakeScheduled = false;
    while (this.#receivers.length > 0 && this.#size > 0) {
      const r = this.#receivers.pop()!;
      r.resolve(this.takeUpTo(r.max));
    }
    if (this.#closed && this.#size === 0) for (const r of this.#receivers.splice(0)) r.resolve([]);
  }

  #push(item: T): void {
    this.#ring[(this.#head + this.#count) % this.capacity] = item;
    this.#count++;
    this.#size += this.#sizeOf(item);
  }

  #shift(): T {
    const item = this.#ring[this.#head] as T;
    this.#ring[this.#head] = undefined; // let the item be collected
    this.#head = (this.#head + 1) % this.capacity;
    this.#count--;
    this.#size -= this.#sizeOf(item);
    if (this.#spaceWaiters.length > 0) this.#spaceWaiters.shift()!();
    if (this.#size === 0 && this.#emptyWaiters.length > 0) {
      for (const waiter of this.#emptyWaiters.splice(0)) waiter();
    }
    return item;
  }
}
