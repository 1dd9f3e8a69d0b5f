import { describe, expect, test } from "bun:test";
import { Channel, ChannelClosedError } from "./channel.ts";

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("Channel", () => {
  test("keeps FIFO order across the ring's wrap-around", async () => {
    const ch = new Channel<number>(3);
    const out: number[] = [];
    for (let i = 0; i < 10; i++) {
      expect(ch.trySend(i)).toBe(true);
      if (ch.size === 3) out.push(...(await ch.recvBatch(2)));
    }
    out.push(...(await ch.recvBatch(10)));
    expect(out).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  test("refuses items beyond capacity and never holds more than capacity", () => {
    const ch = new Channel<number>(2);
    expect(ch.trySend(1)).toBe(true);
    expect(ch.trySend(2)).toBe(true);
    expect(ch.trySend(3)).toBe(false);
    expect(ch.size).toBe(2);
  });

  test("an idle receiver gets everything sent in the same turn as one batch", async () => {
    const ch = new Channel<number>(10);
    const a = ch.recvBatch(4);
    const b = ch.recvBatch(4);
    for (let i = 1; i <= 5; i++) ch.trySend(i);
    // The most recently idle receiver takes its fill first, the next one the rest.
    expect(await b).toEqual([1, 2, 3, 4]);
    expect(await a).toEqual([5]);
  });

  test("items waiting for a receiver's wake count against the capacity", () => {
    const ch = new Channel<number>(2);
    void ch.recvBatch(10);
    expect(ch.trySend(1)).toBe(true);
    expect(ch.trySend(2)).toBe(true);
    expect(ch.trySend(3)).toBe(false);
    expect(ch.size).toBe(2);
  });

  test("close lets receivers drain what is queued, then gives them []", async () => {
    const ch = new Channel<string>(4);
    ch.trySend("a");
    ch.trySend("b");
    ch.close();
    expect(() => ch.trySend("c")).toThrow(ChannelClosedError);
    expect(await ch.recvBatch(1)).toEqual(["a"]);
    expect(await ch.recvBatch(1)).toEqual(["b"]);
    expect(await ch.recvBatch(1)).toEqual([]);
  });

  test("close right after a send still delivers the item to the waiting receiver", async () => {
    const ch = new Channel<number>(4);
    const r = ch.recvBatch(4);
    ch.trySend(7);
    ch.close();
    expect(await r).toEqual([7]);
    expect(await ch.recvBatch(4)).toEqual([]);
  });

  test("close wakes idle receivers with []", async () => {
    const ch = new Channel<number>(1);
    const idle = ch.recvBatch(1);
    ch.close();
    expect(await idle).toEqual([]);
  });

  test("capacity counts units of sizeOf: a packet is one item worth its messages, admitted whole or not at all", async () => {
    const ch = new Channel<string[]>(10, (packet) => packet.length);
    expect(ch.trySend(["a", "b", "c", "d"])).toBe(true);
    expect(ch.trySend(["e", "f", "g", "h", "i", "j", "k"])).toBe(false); // 4 + 7 > 10
    expect(ch.size).toBe(4);
    expect(ch.trySend(["e", "f", "g", "h", "i", "j"])).toBe(true);
    expect(ch.size).toBe(10);
    // recvBatch counts units too, and always takes at least one item however large
    expect(await ch.recvBatch(3)).toEqual([["a", "b", "c", "d"]]);
    expect(ch.size).toBe(6);
    expect(ch.trySend(["x"])).toBe(true);
    expect(await ch.recvBatch(7)).toEqual([["e", "f", "g", "h", "i", "j"], ["x"]]);
    expect(ch.size).toBe(0);
  });

  test("a receiver's wake delay holds its wake off, and is asked again when that time is up", async () => {
    const ch = new Channel<number>(4);
    let asks = 0;
    let hold = 1;
    let got: number[] | undefined;
    void ch
      .recvBatch(4, () => {
        asks++;
        return hold;
      })
      .then((items) => (got = items));
    ch.trySend(1);
    while (asks < 2) await tick(); // asked, held off, asked again
    ch.trySend(2); // arrives while the wake is held off: the same batch
    expect(got).toBeUndefined();
    hold = 0;
    while (got === undefined) await tick();
    expect(got).toEqual([1, 2]);
  });

  test.each([0, -1, 1.5, NaN])("rejects capacity %p with a RangeError", (capacity) => {
    expect(() => new Channel(capacity)).toThrow(`capacity must be a positive integer, got ${capacity}`);
  });

  test("whenRoom resolves once enough has been taken for the units asked, and on close", async () => {
    const ch = new Channel<number>(4);
    for (let i = 0; i < 4; i++) ch.trySend(i);
    let two = false;
    let three = false;
    void ch.whenRoom(2).then(() => (two = true));
    void ch.whenRoom(3).then(() => (three = true));
    await tick();
    expect([two, three]).toEqual([false, false]);
    await ch.recvBatch(2);
    await tick();
    expect([two, three]).toEqual([true, false]);
    ch.close();
    await tick();
    expect(three).toBe(true);
    expect(await ch.whenRoom(100)).toBeUndefined(); // closed: nothing to wait for
  });
});
