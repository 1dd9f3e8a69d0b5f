// A fixed pool of async workers draining a channel in batches. Each worker waits for one item, then
// takes whatever else is already queued (up to batchMax) without waiting for more, so a lone message
// is handled at once and a burst is handled in as few upstream requests as possible.

import type { Channel } from "./channel.ts";

export type PoolOptions<T> = {
  channel: Channel<T>;
  workers: number;
  batchMax: number;
  /** Handles one batch. It should settle every item itself; a throw is reported to onError. */
  handle: (batch: T[]) => Promise<void>;
  onError?: (error: unknown, batch: T[]) => void;
};

export type Pool = {
  /** Workers currently handling a batch (never more than `workers`). */
  readonly active: number;
  readonly workers: number;
  /** Resolves once the channel is closed and drained and every worker has finished. */
  readonly done: Promise<void>;
};

export function startPool<T>(options: PoolOptions<T>): Pool {
  const { channel, workers, batchMax, handle } = options;
  if (!Number.isInteger(workers) || workers < 1) throw new RangeError(`workers must be a positive integer, got ${workers}`);
  if (!Number.isInteger(batchMax) || batchMax < 1) throw new RangeError(`batchMax must be a positive integer, got ${batchMax}`);
  const onError = options.onError ?? ((error) => console.error("worker: batch handler failed:", error));
  let active = 0;

  async function worker(): Promise<void> {
    for (;;) {
      const batch = await channel.recvBatch(batchMax);
      if (batch.length === 0) return;
      active++;
      try {
        await handle(batch);
      } catch (error) {
        onError(error, batch);
      } finally {
        active--;
      }
    }
  }

  const done = Promise.all(Array.from({ length: workers }, worker)).then(() => undefined);
  return {
    get active() {
      return active;
    },
    workers,
    done,
  };
}
