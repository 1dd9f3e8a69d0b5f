import { describe, expect, test } from "bun:test";
import { Channel, ChannelClosedError } from "./channel.ts";

describe("Channel", () => {
  test("keeps FIFO order across the ring's wrap-around", async () => {
    const ch = new Channel<number>(3);
    const out: number[] = [];
    for (let i = 0; i < 10; i++) {
      expect(ch.trySend(i)).toBe(true);
      if (ch.size === 3) out.push(...ch.takeUpTo(2));
    }
    out.push(...ch.takeUpTo(10));
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test("refuses items beyond capacity and never holds more than capacity", () => {
    const ch = new Channel<number>(2);
    expect(ch.trySend(1)).toBe(true);
    expect(ch.trySend(2)).toBe(true);
    expect(ch.trySend(3)).toBe(false);
    expect(ch.size).toBe(2);
  });

  test("admits a batch whole or not at all", () => {
    const ch = new Channel<number>(4);
    ch.trySend(0);
    expect(ch.trySendAll([1, 2, 3, 4])).toBe(false);
    expect(ch.size).toBe(1);
    expect(ch.trySendAll([1, 2, 3])).toBe(true);
    expect(ch.takeUpTo(10)).toEqual([0, 1, 2, 3]);
  });

  test("hands items straight to waiting receivers without using capacity", async () => {
    const ch = new Channel<number>(1);
    const a = ch.recv();
    const b = ch.recv();
    expect(ch.trySendAll([1, 2, 3])).toBe(true);
    expect(new Set([await a, await b])).toEqual(new Set([1, 2]));
    expect(ch.size).toBe(1);
    expect(await ch.recv()).toBe(3);
  });

  test("send waits for room and keeps the order", async () => {
    const ch = new Channel<number>(1);
    ch.trySend(1);
    const sent = ch.send(2);
    expect(ch.size).toBe(1);
    expect(await ch.recv()).toBe(1);
    await sent;
    expect(await ch.recv()).toBe(2);
  });

  test("close lets receivers drain what is queued, then gives them undefined", async () => {
    const ch = new Channel<string>(4);
    ch.trySend("a");
    ch.trySend("b");
    ch.close();
    expect(() => ch.trySend("c")).toThrow(ChannelClosedError);
    expect(await ch.recv()).toBe("a");
    expect(await ch.recv()).toBe("b");
    expect(await ch.recv()).toBeUndefined();
  });

  test("close wakes idle receivers and pending senders", async () => {
    const ch = new Channel<number>(1);
    const idle = ch.recv();
    ch.close();
    expect(await idle).toBeUndefined();
    const full = new Channel<number>(1);
    full.trySend(1);
    const blocked = full.send(2);
    full.close();
    await expect(blocked).rejects.toThrow(ChannelClosedError);
  });

  test("onEmpty resolves once the last item is taken", async () => {
    const ch = new Channel<number>(2);
    ch.trySend(1);
    let empty = false;
    const waiting = ch.onEmpty().then(() => (empty = true));
    await Promise.resolve();
    expect(empty).toBe(false);
    await ch.recv();
    await waiting;
    expect(empty).toBe(true);
  });

  test("iterates until closed and drained", async () => {
    const ch = new Channel<number>(8);
    [1, 2, 3].forEach((i) => ch.trySend(i));
    ch.close();
    const seen: number[] = [];
    for await (const item of ch) seen.push(item);
    expect(seen).toEqual([1, 2, 3]);
  });

  test.each([0, -1, 1.5, NaN])("rejects capacity %p with a RangeError", (capacity) => {
    expect(() => new Channel(capacity)).toThrow(`capacity must be a positive integer, got ${capacity}`);
  });
});
