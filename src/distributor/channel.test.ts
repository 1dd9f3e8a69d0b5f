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

  test("an idle receiver gets everything sent in the same turn as one batch", async () => {
    const ch = new Channel<number>(10);
    const a = ch.recvBatch(4);
    const b = ch.recvBatch(4);
    ch.trySend(1);
    expect(ch.trySendAll([2, 3])).toBe(true);
    ch.trySend(4);
    ch.trySend(5);
    // The most recently idle receiver takes its fill first, the next one the rest.
    expect(await b).toEqual([1, 2, 3, 4]);
    expect(await a).toEqual([5]);
  });

  test("items waiting for a receiver's wake count against the capacity", () => {
    const ch = new Channel<number>(2);
    void ch.recvBatch(10);
    expect(ch.trySendAll([1, 2, 3])).toBe(false);
    expect(ch.trySendAll([1, 2])).toBe(true);
    expect(ch.trySend(3)).toBe(false);
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

  test("close right after a send still delivers the item to the waiting receiver", async () => {
    const ch = new Channel<number>(4);
    const r = ch.recvBatch(4);
    ch.trySend(7);
    ch.close();
    expect(await r).toEqual([7]);
    expect(await ch.recvBatch(4)).toEqual([]);
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

  test("capacity counts units of sizeOf: a packet is one item worth its messages", async () => {
    const ch = new Channel<string[]>(10, (packet) => packet.length);
    expect(ch.trySend(["a", "b", "c", "d"])).toBe(true);
    expect(ch.trySend(["e", "f", "g", "h", "i", "j", "k"])).toBe(false); // 4 + 7 > 10
    expect(ch.trySend(["e", "f", "g", "h", "i", "j"])).toBe(true);
    expect(ch.size).toBe(10);
    // takeUpTo counts units too, and always takes at least one item however large
    expect(ch.takeUpTo(3)).toEqual([["a", "b", "c", "d"]]);
    expect(ch.size).toBe(6);
    expect(ch.trySend(["x"])).toBe(true);
    expect(ch.takeUpTo(7)).toEqual([["e", "f", "g", "h", "i", "j"], ["x"]]);
    expect(ch.size).toBe(0);
  });

  test.each([0, -1, 1.5, NaN])("rejects capacity %p with a RangeError", (capacity) => {
    expect(() => new Channel(capacity)).toThrow(`capacity must be a positive integer, got ${capacity}`);
  });
});
