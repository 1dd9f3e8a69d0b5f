// A bounded FIFO channel between request handlers (producers) and the worker pool (consumers).
// Items live in a fixed ring buffer, so memory is bounded by `capacity` and every operation is O(1)
// (amortized O(k) for k items). Capacity counts units of `sizeOf(item)` (1 per item by default): the
// distributor queues one item per request and counts its messages. Producers never wait: trySend
// returns false when full, which the distributor turns into a 503. Consumers await recvBatch(),
// which waits for one item and takes whatever else is queued.
// Idle consumers are woken once per event-loop turn (setImmediate), not once per item: everything
// that arrives in one turn (a burst of requests read in one poll) goes to one consumer as one batch.
// Waking per item would hand each message to its own idle worker and so cost one upstream request
// per message exactly when batching would pay most. No timer is waited on unless the receiver about
// to be woken asked for its wake to be held off (see WakeDelay).
// close() stops new sends; receivers drain what is left, then get `[]`.

export class ChannelClosedError extends Error {
  override name = "ChannelClosedError";
}

/**
 * A receiver's say in when it is woken: asked when items wait for it, returns how many ms to hold
 * off (0: wake now), and is asked again when that time is up, so the answer may change meanwhile.
 */
export type WakeDelay = () => number;

export class Channel<T> {
  readonly capacity: number;
  #ring: (T | undefined)[];
  #head = 0;
  #count = 0; // items in the ring
  #size = 0; // their units
  #sizeOf: (item: T) => number;
  #closed = false;
  // Waiting receivers, each with the most it takes; LIFO wakes the most recently idle worker.
  #receivers: { max: number; delay: WakeDelay | undefined; resolve: (items: T[]) => void }[] = [];
  #wakeScheduled = false;
  // Producers waiting for room (whenRoom), each for its own number of units.
  #roomWaiters: { units: number; resolve: () => void }[] = [];

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

  /** Queues `item` if there is room for all of its units; false when full. */
  trySend(item: T): boolean {
    if (this.#closed) throw new ChannelClosedError("channel is closed");
    const units = this.#sizeOf(item);
    if (this.#size + units > this.capacity) return false;
    this.#ring[(this.#head + this.#count) % this.capacity] = item;
    this.#count++;
    this.#size += units;
    this.#scheduleWake();
    return true;
  }

  /**
   * Waits for at least one item, then takes queued items worth up to `max` units (always at least
   * one item, however large); `[]` once closed and drained. `delay` may hold off the wake.
   */
  recvBatch(max: number, delay?: WakeDelay): Promise<T[]> {
    if (this.#size > 0) return Promise.resolve(this.#take(max));
    if (this.#closed) return Promise.resolve([]);
    return new Promise((resolve) => this.#receivers.push({ max, delay, resolve }));
  }

  /**
   * Resolves once `units` more would fit (p-queue's onSizeLessThan, for a producer with work
   * elsewhere, e.g. messages waiting on disk), or once the channel is closed.
   */
  whenRoom(units: number): Promise<void> {
    if (this.#closed || this.#size + units <= this.capacity) return Promise.resolve();
    return new Promise((resolve) => this.#roomWaiters.push({ units, resolve }));
  }

  /** Stops new sends. Queued items can still be received; idle receivers then get `[]`. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#roomWaiters.splice(0)) w.resolve();
    // Queued items still go out through the pending wake; receivers left over then get [].
    if (this.#size === 0) for (const r of this.#receivers.splice(0)) r.resolve([]);
  }

  #scheduleWake(): void {
    if (this.#wakeScheduled || this.#receivers.length === 0) return;
    this.#wakeScheduled = true;
    setImmediate(() => this.#wake());
  }

  #wake(): void {
    const next = this.#receivers.at(-1);
    const hold = next?.delay && this.#size > 0 && !this.#closed ? next.delay() : 0;
    if (hold > 0) {
      setTimeout(() => this.#wake(), hold);
      return;
    }
    this.#wakeScheduled = false;
    while (this.#receivers.length > 0 && this.#size > 0) {
      const r = this.#receivers.pop()!;
      r.resolve(this.#take(r.max));
    }
    if (this.#closed && this.#size === 0) for (const r of this.#receivers.splice(0)) r.resolve([]);
  }

  #take(max: number): T[] {
    const items: T[] = [];
    let taken = 0;
    while (this.#count > 0) {
      const item = this.#ring[this.#head] as T;
      const units = this.#sizeOf(item);
      if (taken > 0 && taken + units > max) break;
      this.#ring[this.#head] = undefined; // let the item be collected
      this.#head = (this.#head + 1) % this.capacity;
      this.#count--;
      this.#size -= units;
      items.push(item);
      taken += units;
    }
    if (this.#roomWaiters.length > 0) this.#notifyRoom();
    return items;
  }

  #notifyRoom(): void {
    const waiting = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const w of waiting) {
      if (this.#size + w.units <= this.capacity) w.resolve();
      else this.#roomWaiters.push(w);
    }
  }
}
