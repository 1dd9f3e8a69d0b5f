import { describe, expect, test } from "bun:test";
import { Channel } from "./channel.ts";
import { startPool } from "./pool.ts";

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

test("every job is handled exactly once, never by more than `workers` workers at a time, with never more than `capacity` queued", async () => {
  const channel = new Channel<number>(50);
  const seen = new Map<number, number>();
  let maxActive = 0;
  const pool = startPool({
    channel,
    workers: 4,
    batchMax: 7,
    async handle(batch) {
      maxActive = Math.max(maxActive, pool.active);
      expect(channel.size).toBeLessThanOrEqual(channel.capacity);
      expect(batch.length).toBeLessThanOrEqual(7);
      await tick();
      for (const job of batch) seen.set(job, (seen.get(job) ?? 0) + 1);
    },
  });
  for (let i = 0; i < 1000; i++) while (!channel.trySend(i)) await tick(); // a full queue: wait for room
  channel.close();
  await pool.done;
  expect(seen.size).toBe(1000);
  expect([...seen.values()].every((n) => n === 1)).toBe(true);
  expect(maxActive).toBeGreaterThan(1);
  expect(maxActive).toBeLessThanOrEqual(4);
  expect(pool.active).toBe(0);
});

test("a lone job is handled without waiting for a batch to fill", async () => {
  const channel = new Channel<string>(10);
  const handled: string[][] = [];
  const pool = startPool({ channel, workers: 2, batchMax: 10, handle: async (batch) => void handled.push(batch) });
  channel.trySend("only");
  await tick();
  expect(handled).toEqual([["only"]]);
  channel.close();
  await pool.done;
});

test("a burst queued before a worker wakes is taken as one batch", async () => {
  const channel = new Channel<number>(10);
  const batches: number[][] = [];
  for (let i = 1; i <= 5; i++) channel.trySend(i);
  const pool = startPool({ channel, workers: 1, batchMax: 3, handle: async (batch) => void batches.push(batch) });
  channel.close();
  await pool.done;
  expect(batches).toEqual([
    [1, 2, 3],
    [4, 5],
  ]);
});

test("a throwing handler is reported and the worker goes on", async () => {
  const channel = new Channel<number>(10);
  const errors: unknown[] = [];
  const handled: number[] = [];
  const pool = startPool({
    channel,
    workers: 1,
    batchMax: 1,
    async handle([job]) {
      if (job === 2) throw new Error("boom");
      handled.push(job);
    },
    onError: (error) => errors.push(error),
  });
  for (let i = 1; i <= 3; i++) channel.trySend(i);
  channel.close();
  await pool.done;
  expect(handled).toEqual([1, 3]);
  expect(errors).toHaveLength(1);
});

test.each([
  [{ workers: 0, batchMax: 1 }, "workers must be a positive integer, got 0"],
  [{ workers: 1, batchMax: 0.5 }, "batchMax must be a positive integer, got 0.5"],
])("rejects %p", (opts, message) => {
  expect(() => startPool({ channel: new Channel(1), handle: async () => {}, ...opts })).toThrow(message);
});

describe("linger", () => {
  /** A pool whose first batch blocks until `release()`; records every batch it was handed. */
  function blockedPool(lingerMs: number, batchMax = 10) {
    const channel = new Channel<number>(100);
    const batches: number[][] = [];
    const gate = Promise.withResolvers<void>();
    const pool = startPool({
      channel,
      workers: 4,
      batchMax,
      lingerMs,
      async handle(batch) {
        batches.push(batch);
        if (batches.length === 1) await gate.promise;
      },
    });
    return { channel, batches, pool, release: gate.resolve };
  }

  test("while a worker is busy, a short queue waits for it and goes as one batch", async () => {
    const { channel, batches, pool, release } = blockedPool(60_000);
    channel.trySend(0);
    await tick();
    expect(batches).toEqual([[0]]);
    for (let i = 1; i <= 5; i++) {
      channel.trySend(i);
      await tick(); // turns of the event loop in which idle workers could have been woken
    }
    expect(batches).toEqual([[0]]);
    release();
    await eventually(() => batches.length === 2);
    expect(batches).toEqual([[0], [1, 2, 3, 4, 5]]);
    channel.close();
    await pool.done;
  });

  test("a queue of a whole batch wakes an idle worker at once", async () => {
    const { channel, batches, pool, release } = blockedPool(60_000, 3);
    channel.trySend(0);
    await tick();
    for (let i = 1; i <= 3; i++) channel.trySend(i);
    await eventually(() => batches.length === 2);
    expect(batches).toEqual([[0], [1, 2, 3]]);
    release();
    channel.close();
    await pool.done;
  });

  test("a worker busy longer than the linger no longer holds the queue back", async () => {
    const { channel, batches, pool, release } = blockedPool(5);
    channel.trySend(0);
    await tick();
    channel.trySend(1);
    await eventually(() => batches.length === 2); // the first worker is still blocked
    expect(batches).toEqual([[0], [1]]);
    release();
    channel.close();
    await pool.done;
  });
});

async function eventually(condition: () => boolean): Promise<void> {
  while (!condition()) await tick();
}
