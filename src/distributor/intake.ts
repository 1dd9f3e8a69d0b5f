// Where async requests' messages (Prefer: respond-async) go before their 202, and what becomes of
// them once dispatch is done with them. Two kinds:
// - disk (the default): the spool (spool.ts). A 202 is sent once the messages are committed; a
//   row is deleted once every message in it was analyzed, so a crash loses nothing that was
//   acknowledged: on start, everything still stored is delivered again (replay). Stored messages go
//   into the queue while it is less than half full, the rest wait on disk and are fed in as it
//   drains, so a backlog (after a crash, or a burst beyond QUEUE_CAPACITY) never starves the
//   waiting clients' requests of queue room, and SPOOL_MAX_BYTES, not the queue, bounds the backlog.
//   Each stored message has an id (spool, row, index) that travels to the analyzer, which drops a
//   repeat, and it picks its analyzer by a draw made from that id, so the repeat goes where the
//   first try went.
// - memory (SPOOL=memory): the queue only, as before; a crash loses what is queued.
// Either way an async message no analyzer takes (refused with a 4xx, or every attempt failed)
// becomes a dead letter, kept with its reason and replayable through the admin API, never dropped.

import { join, resolve } from "node:path";
import { QueueFullError, ShuttingDownError, SpoolUnavailableError } from "../http/errors.ts";
import { hashUniform } from "../math/random.ts";
import type { LogRecord } from "../protocol/record.ts";
import { type DeadLetter, emptySpool, type SpoolStats } from "../protocol/stats.ts";
import type { Channel } from "./channel.ts";
import type { Job } from "./dispatch.ts";
import { LockedError, Spool, type SpooledRow, SpoolFullError, type SpoolSync, SpoolWriteError } from "./spool.ts";

/** What dispatch tells the intake about an async job's messages start..end-1, and asks of it. */
export type Ledger = {
  delivered(job: Job, start: number, end: number): void;
  givenUp(job: Job, start: number, end: number, reason: string): void;
  /** The id analyzers see for message i of the job; undefined when it has none (not stored). */
  messageId(job: Job, i: number): string | undefined;
  /** For a stored job: the number in [0, 1) message i is picked with (Balancer.pickAt). */
  draw?(job: Job, i: number): number;
};

export type Intake = Ledger & {
  readonly kind: "disk" | "memory";
  /**
   * Starts delivering what an earlier run stored: once the analyzers' health is known, so that
   * each replayed message is picked among the same analyzers as the first time.
   */
  start(): void;
  /** Takes an async request's records: resolves once they are stored (disk) or queued (memory). */
  accept(records: readonly LogRecord[]): Promise<void>;
  /** Stops taking requests; resolves once every stored message has gone into the queue. */
  finish(): Promise<void>;
  /** Writes what is pending and lets go of the spool. */
  close(): void;
  stats(): SpoolStats;
  deadLetters(limit: number, afterId?: number): DeadLetter[];
  /** Puts dead letters (all, or those ids) back in as new messages; returns how many. */
  replayDeadLetters(ids?: readonly number[]): Promise<number>;
};

/** Dead letters a memory intake keeps; older ones are forgotten, and counted. */
const MEMORY_DEAD_LETTERS = 10_000;
/** Rows read from the spool at a time while feeding the queue. */
const FEED_ROWS = 256;

/** The async messages in the queue only (SPOOL=memory). */
export function memoryIntake(channel: Channel<Job>, maxPacket: number, log: (line: string) => void): Intake {
  const dead: DeadLetter[] = [];
  let nextDeadId = 1;
  let forgotten = 0;
  let closing = false;
  return {
    kind: "memory",
    start() {},
    async accept(records) {
      if (closing || channel.closed) throw new ShuttingDownError();
      if (!channel.trySend({ logs: records, reply: null })) throw new QueueFullError(channel.capacity);
    },
    delivered() {},
    givenUp(job, start, end, reason) {
      log(`gave up on ${end - start} async message(s), kept as dead letters: ${reason}`);
      const at = new Date().toISOString();
      for (let i = start; i < end; i++) {
        const id = nextDeadId++;
        dead.push({ id, messageId: `memory-${id}`, record: job.logs[i] as LogRecord, reason, at }); // async: parsed records only (formats.ts)
      }
      if (dead.length > MEMORY_DEAD_LETTERS) forgotten += dead.splice(0, dead.length - MEMORY_DEAD_LETTERS).length;
    },
    messageId: () => undefined,
    finish() {
      closing = true;
      return Promise.resolve();
    },
    close() {},
    stats: () => ({ ...emptySpool("memory"), deadLetters: dead.length, deadLettersForgotten: forgotten }),
    deadLetters: (limit, afterId = 0) => dead.filter((d) => d.id > afterId).slice(0, limit),
    async replayDeadLetters(ids) {
      const wanted = ids && new Set(ids);
      const taken = dead.filter((d) => !wanted || wanted.has(d.id));
      let replayed = 0;
      for (let i = 0; i < taken.length; i += maxPacket) {
        const chunk = taken.slice(i, i + maxPacket);
        if (!channel.trySend({ logs: chunk.map((d) => d.record), reply: null })) break;
        replayed += chunk.length;
      }
      const gone = new Set(taken.slice(0, replayed).map((d) => d.id));
      dead.splice(0, dead.length, ...dead.filter((d) => !gone.has(d.id)));
      return replayed;
    },
  };
}

/** The async messages on disk first (the default): see the top of this file. */
export class DiskIntake implements Intake {
  readonly kind = "disk";
  #spool: Spool;
  #channel: Channel<Job>;
  #maxPacket: number;
  #seed: number;
  /** Every stored row up to here is in the queue or done; rows after it wait on disk. */
  #cursor = 0;
  /** The last row stored. */
  #last: number;
  #feeding = false;
  #closing = false;
  #fed: (() => void)[] = [];
  #recovered: number;
  #started = false;

  constructor(spool: Spool, channel: Channel<Job>, options: { maxPacket: number; recovered: number; lastRow: number }) {
    this.#spool = spool;
    this.#channel = channel;
    this.#maxPacket = options.maxPacket;
    this.#seed = Number.parseInt(spool.id.slice(0, 8), 16);
    this.#recovered = options.recovered;
    this.#last = options.lastRow;
    spool.onStored = (row) => this.#stored(row);
  }

  start(): void {
    this.#started = true;
    this.#feed();
  }

  async accept(records: readonly LogRecord[]): Promise<void> {
    if (this.#closing) throw new ShuttingDownError();
    try {
      await this.#spool.append(records);
    } catch (error) {
      if (error instanceof SpoolFullError || error instanceof SpoolWriteError)
        throw new SpoolUnavailableError(error.message);
      throw error;
    }
  }

  /** Fixed by the message's id, so that a replay picks as the first try did. */
  draw(job: Job, i: number): number {
    return hashUniform(this.#seed, job.stored!.row, i);
  }

  messageId(job: Job, i: number): string | undefined {
    return job.stored && this.#spool.messageId(job.stored.row, i);
  }

  delivered(job: Job, start: number, end: number): void {
    this.#settled(job, end - start);
  }

  givenUp(job: Job, start: number, end: number, reason: string): void {
    const row = job.stored?.row ?? 0;
    for (let i = start; i < end; i++)
      this.#spool.deadLetter(this.#spool.messageId(row, i), job.logs[i] as LogRecord, reason);
    this.#settled(job, end - start);
  }

  finish(): Promise<void> {
    this.#closing = true;
    // Requests already being stored are answered 202 once committed: they must go out too.
    this.#spool.flush();
    if (this.#cursor >= this.#last) return Promise.resolve();
    return new Promise((resolve) => this.#fed.push(resolve));
  }

  close(): void {
    this.#spool.close();
  }

  stats(): SpoolStats {
    return {
      kind: "disk",
      dir: this.#spool.dir,
      messages: this.#spool.messages,
      bytes: this.#spool.bytes,
      maxBytes: this.#spool.maxBytes,
      deadLetters: this.#spool.deadLetterCount,
      deadLettersForgotten: 0,
      recovered: this.#recovered,
    };
  }

  deadLetters(limit: number, afterId?: number): DeadLetter[] {
    return this.#spool.deadLetters(limit, afterId);
  }

  async replayDeadLetters(ids?: readonly number[]): Promise<number> {
    const letters = this.#spool.takeDeadLetters(ids);
    let replayed = 0;
    for (let i = 0; i < letters.length; i += this.#maxPacket) {
      const chunk = letters.slice(i, i + this.#maxPacket);
      try {
        await this.#spool.append(chunk.map((d) => d.record));
        replayed += chunk.length;
      } catch (error) {
        // Taken out but not stored again: they go back where they were, with why.
        const why = `replay refused: ${error instanceof Error ? error.message : String(error)}`;
        for (const d of letters.slice(i)) this.#spool.deadLetter(d.messageId, d.record, `${d.reason}; ${why}`);
        break;
      }
    }
    return replayed;
  }

  // Called by the spool, in row order, right after each commit (before any 202 goes out).
  #stored(row: SpooledRow): void {
    if (this.#started && this.#cursor === this.#last && this.#hasRoomFor(row.records.length)) {
      this.#channel.trySend(this.#job(row));
      this.#cursor = row.row;
    }
    this.#last = row.row;
    if (this.#cursor < this.#last) this.#feed();
  }

  #settled(job: Job, n: number): void {
    const stored = job.stored;
    if (stored === undefined) return;
    stored.remaining -= n;
    if (stored.remaining === 0) this.#spool.remove({ row: stored.row, bytes: stored.bytes, n: job.logs.length });
  }

  // Half the queue is left to the waiting clients' requests (an empty queue takes any row).
  #hasRoomFor(n: number): boolean {
    const size = this.#channel.size;
    return !this.#channel.closed && (size === 0 || size + n <= this.#channel.capacity / 2);
  }

  /** Moves stored rows after the cursor into the queue while it has room; waits for room otherwise. */
  #feed(): void {
    if (!this.#started || this.#feeding || this.#channel.closed) return;
    this.#feeding = true;
    try {
      while (this.#cursor < this.#last) {
        const rows = this.#spool.readAfter(this.#cursor, FEED_ROWS);
        if (rows.length === 0) {
          this.#cursor = this.#last; // what was left was damaged, and is a dead letter now
          break;
        }
        for (const row of rows) {
          if (!this.#hasRoomFor(row.records.length)) {
            // Room for the row within half the queue, or an empty queue for a row bigger than that.
            const capacity = this.#channel.capacity;
            const units = Math.min(capacity, Math.ceil(capacity / 2) + row.records.length);
            void this.#channel.whenRoom(units).then(() => this.#feed());
            return;
          }
          this.#channel.trySend(this.#job(row));
          this.#cursor = row.row;
        }
      }
      for (const resolve of this.#fed.splice(0)) resolve();
    } finally {
      this.#feeding = false;
    }
  }

  #job(row: SpooledRow): Job {
    return {
      logs: row.records,
      reply: null,
      stored: { row: row.row, remaining: row.records.length, bytes: row.bytes },
    };
  }
}

/** SPOOL_DIR cannot be used (not writable, not a folder): async requests are refused, sync ones go on. */
export function unavailableIntake(dir: string, reason: string): Intake {
  const refuse = () => Promise.reject(new SpoolUnavailableError(`the spool in ${dir} cannot be used (${reason})`));
  return {
    kind: "disk",
    start() {},
    accept: refuse,
    delivered() {},
    givenUp() {},
    messageId: () => undefined,
    finish: () => Promise.resolve(),
    close() {},
    stats: () => ({ ...emptySpool("disk"), dir }),
    deadLetters: () => [],
    replayDeadLetters: () => Promise.resolve(0),
  };
}

/**
 * A spool that could not be opened at startup (its folder missing permissions, on a full or
 * read-only disk, not mounted yet), tried again every `everyMs` until it opens: then it takes over,
 * with a log line, and an operator who fixed the cause needs no restart. Until then async requests
 * get `unavailable`'s 503.
 */
export function retryingIntake(
  unavailable: Intake,
  reopen: () => { intake: Intake; summary: string } | undefined,
  log: (line: string) => void,
  everyMs: number,
): Intake {
  let current = unavailable;
  let started = false;
  const timer = setInterval(() => {
    const opened = reopen();
    if (opened === undefined) return;
    clearInterval(timer);
    current = opened.intake;
    log(`${opened.summary} (it can be used now)`);
    if (started) current.start();
  }, everyMs);
  timer.unref(); // a distributor shutting down does not wait for it
  const stop = () => clearInterval(timer);
  return {
    get kind() {
      return current.kind;
    },
    start() {
      started = true;
      current.start();
    },
    accept: (records) => current.accept(records),
    delivered: (job, start, end) => current.delivered(job, start, end),
    givenUp: (job, start, end, reason) => current.givenUp(job, start, end, reason),
    messageId: (job, i) => current.messageId(job, i),
    // Only stored jobs are drawn for, and only the spool, once open, stores them.
    draw: (job, i) => current.draw!(job, i),
    finish() {
      stop();
      return current.finish();
    },
    close() {
      stop();
      current.close();
    },
    stats: () => current.stats(),
    deadLetters: (limit, afterId) => current.deadLetters(limit, afterId),
    replayDeadLetters: (ids) => current.replayDeadLetters(ids),
  };
}

/** How often a spool that could not be opened is tried again. */
export const SPOOL_RETRY_MS = 2_000;

export type IntakeOptions = {
  /** SPOOL_DIR, or null for memory only. */
  dir: string | null;
  maxBytes: number;
  sync: SpoolSync;
  maxPacket: number;
  channel: Channel<Job>;
  log: (line: string) => void;
  /** SQLite's max_page_count: a disk that fills up, for tests. */
  maxPageCount?: number;
  /** How often a spool that cannot be opened is tried again (SPOOL_RETRY_MS). */
  retryMs?: number;
};

/** The intake the config asks for, and what to say about it at startup. Throws LockedError when another distributor has the spool. */
export function openIntake(options: IntakeOptions): { intake: Intake; summary: string } {
  const { dir, channel, maxPacket, log } = options;
  if (dir === null) {
    return {
      intake: memoryIntake(channel, maxPacket, log),
      summary: "spool: memory only (SPOOL=memory): a crash loses the async messages queued then",
    };
  }
  const where = resolve(dir);
  try {
    return openDisk(options, where);
  } catch (error) {
    if (error instanceof LockedError) {
      throw new LockedError(
        `SPOOL_DIR ${where} is in use by another distributor (it holds ${join(where, "spool.lock")}): give each distributor its own SPOOL_DIR`,
      );
    }
    const reason = error instanceof Error ? error.message : String(error);
    const retryMs = options.retryMs ?? SPOOL_RETRY_MS;
    const reopen = () => {
      try {
        return openDisk(options, where);
      } catch {
        return undefined; // still not usable (or now locked by another distributor): try again later
      }
    };
    return {
      intake: retryingIntake(unavailableIntake(where, reason), reopen, log, retryMs),
      summary: `spool: cannot use ${where} (${reason}): async requests get 503 until it can be; tried again every ${retryMs / 1000} s; others are served`,
    };
  }
}

/** The spool in `where`, opened and recovered; throws what Spool.open throws. */
function openDisk(options: IntakeOptions, where: string): { intake: Intake; summary: string } {
  const { channel, maxPacket, log } = options;
  const { spool, recovery } = Spool.open({
    dir: where,
    maxBytes: options.maxBytes,
    sync: options.sync,
    log,
    maxPageCount: options.maxPageCount,
  });
  const intake = new DiskIntake(spool, channel, { maxPacket, recovered: recovery.messages, lastRow: recovery.lastRow });
  const found =
    recovery.messages > 0
      ? `recovered ${recovery.messages} message(s) in ${recovery.requests} request(s) not analyzed before, delivering them now`
      : "empty";
  return { intake, summary: [`spool: ${where}: ${found}`, ...recovery.notes.map((n) => `spool: ${n}`)].join("\n") };
}
