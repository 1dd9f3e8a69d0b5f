import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { QueueFullError, ShuttingDownError, SpoolUnavailableError } from "../http/errors.ts";
import { Channel } from "./channel.ts";
import type { Job } from "./dispatch.ts";
import { type Intake, memoryIntake, openIntake } from "./intake.ts";
import { LockedError } from "./spool.ts";

const closing: Intake[] = [];
afterEach(() => {
  for (const i of closing.splice(0)) i.close();
});

const committed = () => new Promise((resolve) => setImmediate(resolve));

function disk(capacity: number, dir = mkdtempSync(join(tmpdir(), "intake-")), started = true) {
  const channel = new Channel<Job>(capacity, (job) => job.logs.length);
  const logs: string[] = [];
  const { intake, summary } = openIntake({
    dir,
    maxBytes: 1024 * 1024,
    sync: "normal",
    maxPacket: 10,
    channel,
    log: (l) => logs.push(l),
  });
  closing.push(intake);
  if (started) intake.start();
  return { intake, channel, summary, dir, logs };
}

/** Takes every queued job, delivers it whole, and returns the messages in order. */
async function deliverQueued(intake: Intake, channel: Channel<Job>): Promise<string[]> {
  const out: string[] = [];
  while (channel.size > 0) {
    for (const job of await channel.recvBatch(1000)) {
      out.push(...(job.logs as string[]));
      intake.delivered(job, 0, job.logs.length);
    }
    await committed();
  }
  return out;
}

describe("on disk", () => {
  test("a stored request goes straight into the queue, with ids that name its row", async () => {
    const { intake, channel, summary, dir } = disk(100);
    expect(summary).toBe(`spool: ${dir}: empty`);
    await intake.accept(["a", "b"]);
    expect(channel.size).toBe(2);
    const [job] = await channel.recvBatch(10);
    expect(job.stored).toEqual({ row: 1, remaining: 2, bytes: Buffer.byteLength('["a","b"]') });
    expect(intake.messageId(job, 1)).toMatch(/^[0-9a-f]{10}-1-1$/);
    expect(intake.stats()).toMatchObject({ kind: "disk", messages: 2 });
    intake.delivered(job, 0, 1);
    await committed();
    expect(intake.stats().messages).toBe(2); // the row goes only once all of it is delivered
    intake.delivered(job, 1, 2);
    await committed();
    expect(intake.stats().messages).toBe(0);
  });

  test("beyond half the queue, requests wait on disk and are fed in order as the queue drains", async () => {
    const { intake, channel } = disk(10);
    await Promise.all(Array.from({ length: 8 }, (_, i) => intake.accept([`m${i}`, `n${i}`])));
    expect(channel.size).toBe(4); // half of 10 for async: the rest stays free for waiting clients
    expect(intake.stats().messages).toBe(16);
    const delivered = await deliverQueued(intake, channel);
    expect(delivered).toEqual(Array.from({ length: 8 }, (_, i) => [`m${i}`, `n${i}`]).flat());
    expect(intake.stats().messages).toBe(0);
  });

  test("finish refuses new requests and resolves once everything stored is in the queue", async () => {
    const { intake, channel } = disk(4);
    await Promise.all(["a", "b", "c", "d", "e"].map((m) => intake.accept([m])));
    let fed = false;
    const finished = intake.finish().then(() => (fed = true));
    await expect(intake.accept(["late"])).rejects.toBeInstanceOf(ShuttingDownError);
    await committed();
    expect(fed).toBe(false);
    expect(await deliverQueued(intake, channel)).toEqual(["a", "b", "c", "d", "e"]);
    await finished;
    expect(fed).toBe(true);
  });

  test("what was stored and not delivered is recovered by the next open, and said so", async () => {
    const first = disk(100);
    await Promise.all([first.intake.accept(["a", "b"]), first.intake.accept(["c"])]);
    first.intake.close();
    closing.splice(0);
    const { intake, channel, summary, dir } = disk(100, first.dir);
    expect(summary).toBe(
      `spool: ${dir}: recovered 3 message(s) in 2 request(s) not analyzed before, delivering them now`,
    );
    expect(intake.stats().recovered).toBe(3);
    expect(await deliverQueued(intake, channel)).toEqual(["a", "b", "c"]);
  });

  test("messages given up on become dead letters with the reason, and replay puts them back as new messages", async () => {
    const { intake, channel } = disk(100);
    await intake.accept(["good", "poison"]);
    const [job] = await channel.recvBatch(10);
    intake.delivered(job, 0, 1);
    intake.givenUp(job, 1, 2, "analyzer a1 answered 400: no");
    await committed();
    expect(intake.stats()).toMatchObject({ messages: 0, deadLetters: 1 });
    const [dead] = intake.deadLetters(10);
    expect(dead).toMatchObject({
      id: 1,
      messageId: intake.messageId(job, 1),
      record: "poison",
      reason: "analyzer a1 answered 400: no",
    });
    expect(await intake.replayDeadLetters()).toBe(1);
    expect(intake.stats()).toMatchObject({ messages: 1, deadLetters: 0 });
    const [again] = await channel.recvBatch(10);
    expect(again.logs).toEqual(["poison"]);
    expect(again.stored?.row).toBe(2);
  });

  test("a full spool refuses with 503 + Retry-After, naming SPOOL_MAX_BYTES", async () => {
    const channel = new Channel<Job>(100, (job) => job.logs.length);
    const dir = mkdtempSync(join(tmpdir(), "intake-"));
    const { intake } = openIntake({ dir, maxBytes: 1024, sync: "normal", maxPacket: 10, channel, log: () => {} });
    closing.push(intake);
    await intake.accept(["x".repeat(900)]);
    const refused = await intake.accept(["x".repeat(200)]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SpoolUnavailableError);
    expect((refused as SpoolUnavailableError).headers).toEqual({ "retry-after": "1" });
    expect((refused as Error).message).toMatch(/^spool full \(\d+ of 1024 bytes, SPOOL_MAX_BYTES\)/);
  });

  test("a folder that cannot be made refuses async requests with the reason; the intake says so at startup", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "intake-")), "file");
    writeFileSync(file, "not a folder");
    const channel = new Channel<Job>(100, (job) => job.logs.length);
    const dir = join(file, "spool");
    const { intake, summary } = openIntake({
      dir,
      maxBytes: 1024,
      sync: "normal",
      maxPacket: 10,
      channel,
      log: () => {},
    });
    expect(summary).toMatch(new RegExp(`^spool: cannot use ${dir} \\(.*ENOTDIR.*\\): async requests get 503`));
    const refused = await intake.accept(["a"]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(SpoolUnavailableError);
    expect((refused as Error).message).toContain(`the spool in ${dir} cannot be used`);
    expect(channel.size).toBe(0);
  });

  test("a folder that cannot be made is tried again: once it can be, the spool takes over, with a log line", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "intake-")), "file");
    writeFileSync(file, "not a folder");
    const channel = new Channel<Job>(100, (job) => job.logs.length);
    const lines: string[] = [];
    const dir = join(file, "spool");
    const { intake } = openIntake({
      dir,
      maxBytes: 1 << 20,
      sync: "normal",
      maxPacket: 10,
      channel,
      log: (line) => lines.push(line),
      retryMs: 10,
    });
    try {
      intake.start();
      expect(await intake.accept(["early"]).catch((e: unknown) => e)).toBeInstanceOf(SpoolUnavailableError);
      rmSync(file);
      mkdirSync(file);
      for (let i = 0; i < 500 && lines.length === 0; i++) await Bun.sleep(10);
      expect(lines).toEqual([`spool: ${dir}: empty (it can be used now)`]);
      await intake.accept(["late"]);
      expect(intake.stats()).toMatchObject({ kind: "disk", dir, messages: 1 });
      expect(channel.size).toBe(1);
    } finally {
      intake.close();
    }
  });

  test("a folder another intake holds is refused with what to do", () => {
    const { dir } = disk(10);
    expect(() => disk(10, dir)).toThrow(LockedError);
    expect(() => disk(10, dir)).toThrow(`SPOOL_DIR ${dir} is in use by another distributor`);
  });
});

describe("in memory", () => {
  test("async requests go into the queue; a full queue is a QueueFullError", async () => {
    const channel = new Channel<Job>(3, (job) => job.logs.length);
    const intake = memoryIntake(channel, 10, () => {});
    await intake.accept(["a", "b"]);
    await expect(intake.accept(["c", "d"])).rejects.toBeInstanceOf(QueueFullError);
    expect(channel.size).toBe(2);
    expect(intake.messageId((await channel.recvBatch(1))[0], 0)).toBeUndefined();
  });

  test("messages given up on are dead letters too, logged, listed and replayable", async () => {
    const channel = new Channel<Job>(10, (job) => job.logs.length);
    const logs: string[] = [];
    const intake = memoryIntake(channel, 10, (l) => logs.push(l));
    intake.givenUp({ logs: ["x", "y", "z"], reply: null }, 1, 3, "gave up after 3 attempt(s)");
    expect(logs).toEqual(["gave up on 2 async message(s), kept as dead letters: gave up after 3 attempt(s)"]);
    expect(intake.deadLetters(10).map((d) => [d.id, d.record])).toEqual([
      [1, "y"],
      [2, "z"],
    ]);
    expect(intake.stats()).toMatchObject({ kind: "memory", deadLetters: 2 });
    expect(await intake.replayDeadLetters([2])).toBe(1);
    expect((await channel.recvBatch(10))[0].logs).toEqual(["z"]);
    expect(intake.deadLetters(10).map((d) => d.id)).toEqual([1]);
  });
});
