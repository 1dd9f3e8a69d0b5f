// The spool: async requests' messages on local disk, so that a 202 means "stored", not "in RAM".
// One SQLite file in WAL mode (bun:sqlite, nothing to run beside us). A request's records are one
// row, written as JSON with a CRC-32 of that text; a row is deleted once every record in it was
// analyzed, and a record no analyzer takes becomes a dead letter (a row of its own, with the reason).
//
// Group commit: appends, deletions and dead letters queue up and are written by one transaction on
// the next turn of the event loop, so every request that arrived meanwhile shares one commit; an
// append resolves (and its 202 goes out) only after that commit. With synchronous=NORMAL a commit is
// a write() into the OS: it survives the process being killed, not a power loss (SPOOL_SYNC=full
// adds an fsync per commit for that).
//
// SQLite checksums the WAL itself, and drops a torn last commit (never acknowledged) when it opens;
// it does not checksum the main file's pages, hence the CRC per row, checked when the spool opens.

import { Database, type Statement } from "bun:sqlite";
import { existsSync, mkdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import type { LogRecord } from "../protocol/record.ts";
import type { DeadLetter } from "../protocol/stats.ts";
import { lockFile } from "./filelock.ts";

export type SpoolSync = "normal" | "full";

export type SpoolOptions = {
  dir: string;
  /** Refuse appends (SpoolFullError) once stored messages and dead letters take this many bytes. */
  maxBytes: number;
  sync?: SpoolSync;
  log?: (line: string) => void;
  /** SQLite's max_page_count: a disk that fills up, for tests. */
  maxPageCount?: number;
};

/** A stored request: its records, not all analyzed yet. */
export type SpooledRow = { row: number; records: LogRecord[]; bytes: number };

/** What opening found: messages from before (not analyzed yet), and what could not be read. */
export type SpoolRecovery = {
  requests: number;
  messages: number;
  damaged: number;
  /** The last row stored (0: none). */
  lastRow: number;
  notes: string[];
};

/** The spool cannot store anything right now (disk full, I/O error): the request is refused, not dropped. */
export class SpoolWriteError extends Error {
  override name = "SpoolWriteError";
}

/** Appending would pass SPOOL_MAX_BYTES. */
export class SpoolFullError extends Error {
  override name = "SpoolFullError";
}

export { LockedError } from "./filelock.ts";

// AUTOINCREMENT: a row id is never used twice, even once the spool was empty, so a message id
// (spool id, row, index) never names two messages; analyzers drop repeats by it.
const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS messages (id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER NOT NULL, crc INTEGER NOT NULL, body TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS dead (id INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL, record TEXT NOT NULL, reason TEXT NOT NULL, at INTEGER NOT NULL);
`;
const FILE = "spool.db";
/** After a failed commit, deletions and dead letters are tried again this much later. */
const RETRY_MS = 1000;

type Append = {
  records: readonly LogRecord[];
  body: string;
  bytes: number;
  resolve: (row: number) => void;
  reject: (e: Error) => void;
};
type Dead = { messageId: string; record: string; reason: string; at: number };

export class Spool {
  /** Random, made when the file is created: with a row and an index it names a message everywhere. */
  readonly id: string;
  readonly dir: string;
  #db: Database;
  #lock: { release(): void };
  #maxBytes: number;
  #log: (line: string) => void;
  #bytes = 0;
  #messages = 0;
  #deadCount = 0;
  #appends: Append[] = [];
  #removals: { row: number; bytes: number; n: number }[] = [];
  #dead: Dead[] = [];
  #flushScheduled = false;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  #insert: Statement;
  #remove: Statement;
  #insertDead: Statement;
  /** Told of every row right after its commit, in row order, before its append resolves. */
  onStored: ((row: SpooledRow) => void) | undefined;

  private constructor(db: Database, lock: { release(): void }, options: SpoolOptions) {
    this.#db = db;
    this.#lock = lock;
    this.dir = options.dir;
    this.#maxBytes = options.maxBytes;
    this.#log = options.log ?? ((line) => console.log(line));
    db.run(SCHEMA);
    let id = db.query<{ value: string }, []>("SELECT value FROM meta WHERE key = 'id'").get()?.value;
    if (id === undefined) {
      id = Array.from(crypto.getRandomValues(new Uint8Array(5)), (b) => b.toString(16).padStart(2, "0")).join("");
      db.run("INSERT INTO meta (key, value) VALUES ('id', ?)", [id]);
    }
    this.id = id;
    this.#insert = db.prepare("INSERT INTO messages (n, crc, body) VALUES (?, ?, ?)");
    this.#remove = db.prepare("DELETE FROM messages WHERE id = ?");
    this.#insertDead = db.prepare("INSERT INTO dead (message_id, record, reason, at) VALUES (?, ?, ?, ?)");
  }

  /**
   * Opens (or creates) the spool in `dir`, taking its lock: throws LockedError when another process
   * has it open, and any other error when the folder cannot be used. Damaged rows are moved to the
   * dead letters; a file SQLite cannot read is set aside and what could be read of it is kept.
   */
  static open(options: SpoolOptions): { spool: Spool; recovery: SpoolRecovery } {
    mkdirSync(options.dir, { recursive: true });
    const lock = lockFile(join(options.dir, "spool.lock"));
    try {
      const path = join(options.dir, FILE);
      const notes: string[] = [];
      let salvaged: ReturnType<typeof salvage> | undefined;
      let db: Database | undefined;
      let problem: string | null;
      try {
        db = openDatabase(path, options);
        problem = checkIntegrity(db);
      } catch (error) {
        // Only a file SQLite says is damaged is set aside; any other error (permissions) is thrown.
        if (!isDamage(error)) throw error;
        problem = (error as Error).message;
      }
      if (problem !== null) {
        db?.close();
        const aside = `${path}.damaged-${new Date().toISOString().replaceAll(":", "-")}`;
        for (const suffix of ["", "-wal"]) if (existsSync(path + suffix)) renameSync(path + suffix, aside + suffix);
        salvaged = salvage(aside);
        notes.push(
          `${FILE} was damaged (${problem}): kept ${salvaged.rows.length} readable request(s) and ${salvaged.dead.length} dead letter(s); ${salvaged.complete ? "nothing else was in it" : "the rest could not be read"}; the damaged file is at ${aside}`,
        );
        db = openDatabase(path, options);
      }
      const spool = new Spool(db!, lock, options);
      if (salvaged) spool.#restore(salvaged);
      const recovery = spool.#recover();
      recovery.notes.unshift(...notes);
      return { spool, recovery };
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  /** Bytes of stored messages and dead letters, counted against SPOOL_MAX_BYTES. */
  get bytes(): number {
    return this.#bytes;
  }

  get maxBytes(): number {
    return this.#maxBytes;
  }

  /** Stored messages not analyzed yet. */
  get messages(): number {
    return this.#messages;
  }

  get deadLetterCount(): number {
    return this.#deadCount;
  }

  /** The id analyzers see for record `index` of stored row `row`. */
  messageId(row: number, index: number): string {
    return `${this.id}-${row}-${index}`;
  }

  /**
   * Stores one request's records; resolves with its row once committed. Throws SpoolFullError at
   * once when they would not fit, and rejects with SpoolWriteError when the commit fails.
   */
  append(records: readonly LogRecord[]): Promise<number> {
    if (this.#closed) return Promise.reject(new SpoolWriteError("the spool is closed"));
    const body = JSON.stringify(records);
    const bytes = Buffer.byteLength(body);
    if (this.#bytes + bytes > this.#maxBytes) {
      throw new SpoolFullError(`spool full (${this.#bytes} of ${this.#maxBytes} bytes, SPOOL_MAX_BYTES)`);
    }
    this.#bytes += bytes; // reserved now, so that one commit's appends cannot overshoot together
    this.#messages += records.length;
    const { promise, resolve, reject } = Promise.withResolvers<number>();
    this.#appends.push({ records, body, bytes, resolve, reject });
    this.#scheduleFlush();
    return promise;
  }

  /** Forgets a stored row whose records were all analyzed or given up on (on the next commit). */
  remove(row: SpooledRow | { row: number; bytes: number; n: number }): void {
    const n = "records" in row ? row.records.length : row.n;
    this.#removals.push({ row: row.row, bytes: row.bytes, n });
    this.#scheduleFlush();
  }

  /** Keeps a record no analyzer took, with the reason (on the next commit). */
  deadLetter(messageId: string, record: LogRecord | string, reason: string): void {
    const text = JSON.stringify(record);
    this.#bytes += Buffer.byteLength(text);
    this.#deadCount++;
    this.#dead.push({ messageId, record: text, reason, at: Date.now() });
    this.#scheduleFlush();
  }

  /** Stored rows after `row`, oldest first, at most `limit`. */
  readAfter(row: number, limit: number): SpooledRow[] {
    const rows = this.#db
      .query<RawRow, [number, number]>("SELECT id, n, crc, body FROM messages WHERE id > ? ORDER BY id LIMIT ?")
      .all(row, limit);
    const out: SpooledRow[] = [];
    for (const r of rows) {
      const records = parseRow(r);
      const bytes = Buffer.byteLength(r.body);
      if (records) out.push({ row: r.id, records, bytes });
      else {
        // Checked when the spool opened: damaged since. Its messages are no longer waiting.
        this.#bytes -= bytes;
        this.#messages -= r.n;
        this.#setAside(r, "damaged on disk (checksum mismatch)");
      }
    }
    return out;
  }

  /** Dead letters, oldest first. */
  deadLetters(limit: number, afterId = 0): DeadLetter[] {
    return this.#db
      .query<RawDead, [number, number]>(
        "SELECT id, message_id, record, reason, at FROM dead WHERE id > ? ORDER BY id LIMIT ?",
      )
      .all(afterId, limit)
      .map(toDeadLetter);
  }

  /** Removes dead letters (all, or those with the given ids) and returns them, for replay. */
  takeDeadLetters(ids?: readonly number[]): DeadLetter[] {
    this.#flush(); // dead letters still queued for the commit are included
    const rows =
      ids === undefined
        ? this.#db.query<RawDead, []>("SELECT * FROM dead ORDER BY id").all()
        : ids.flatMap((id) => this.#db.query<RawDead, [number]>("SELECT * FROM dead WHERE id = ?").all(id));
    const remove = this.#db.prepare("DELETE FROM dead WHERE id = ?");
    this.#db.transaction(() => {
      for (const r of rows) remove.run(r.id);
    })();
    for (const r of rows) this.#bytes -= Buffer.byteLength(r.record);
    this.#deadCount -= rows.length;
    return rows.map(toDeadLetter);
  }

  /** Commits what is queued now instead of on the next turn. */
  flush(): void {
    this.#flush();
  }

  /** Writes what is queued and closes the file (an empty spool's WAL is folded in and removed). */
  close(): void {
    if (this.#closed) return;
    this.#flush();
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    // SQLite folds the WAL in on close only once no statement is left open.
    for (const statement of [this.#insert, this.#remove, this.#insertDead]) statement.finalize();
    this.#db.close();
    this.#lock.release();
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(() => this.#flush());
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#closed) return;
    const appends = this.#appends;
    const removals = this.#removals;
    const dead = this.#dead;
    if (appends.length === 0 && removals.length === 0 && dead.length === 0) return;
    this.#appends = [];
    this.#removals = [];
    this.#dead = [];
    const rows: number[] = [];
    try {
      this.#db.transaction(() => {
        for (const a of appends)
          rows.push(Number(this.#insert.run(a.records.length, Bun.hash.crc32(a.body), a.body).lastInsertRowid));
        for (const r of removals) this.#remove.run(r.row);
        for (const d of dead) this.#insertDead.run(d.messageId, d.record, d.reason, d.at);
      })();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.#log(
        `spool: could not write to ${join(this.dir, FILE)}: ${reason}; ${appends.length} async request(s) refused with 503`,
      );
      for (const a of appends) {
        this.#bytes -= a.bytes;
        this.#messages -= a.records.length;
        a.reject(new SpoolWriteError(`the spool could not store the messages: ${reason}`));
      }
      // Nothing of them was lost: they are tried again, and until then the rows stay (a replay
      // would deliver them again, which the analyzers' dedupe absorbs).
      this.#removals.unshift(...removals);
      this.#dead.unshift(...dead);
      clearTimeout(this.#retryTimer);
      this.#retryTimer = setTimeout(() => this.#flush(), RETRY_MS);
      return;
    }
    for (const r of removals) {
      this.#bytes -= r.bytes;
      this.#messages -= r.n;
    }
    for (const [i, a] of appends.entries())
      this.onStored?.({ row: rows[i], records: a.records as LogRecord[], bytes: a.bytes });
    for (const [i, a] of appends.entries()) a.resolve(rows[i]);
  }

  /** Counts what is stored, and moves rows whose checksum does not match to the dead letters. */
  #recover(): SpoolRecovery {
    const recovery: SpoolRecovery = { requests: 0, messages: 0, damaged: 0, lastRow: 0, notes: [] };
    const damaged: RawRow[] = [];
    for (const r of this.#db.query<RawRow, []>("SELECT id, n, crc, body FROM messages ORDER BY id").iterate()) {
      if (parseRow(r) === undefined) {
        damaged.push(r);
        continue;
      }
      recovery.requests++;
      recovery.messages += r.n;
      recovery.lastRow = r.id;
      this.#bytes += Buffer.byteLength(r.body);
    }
    this.#messages = recovery.messages;
    for (const d of this.#db.query<{ record: string }, []>("SELECT record FROM dead").iterate()) {
      this.#bytes += Buffer.byteLength(d.record);
      this.#deadCount++;
    }
    for (const r of damaged) this.#setAside(r, "damaged on disk (checksum mismatch)");
    this.#flush();
    if (damaged.length > 0) {
      recovery.damaged = damaged.length;
      recovery.notes.push(
        `skipped ${damaged.length} damaged request(s) (row ${damaged.map((r) => r.id).join(", ")}): their text is kept as dead letters`,
      );
    }
    return recovery;
  }

  /** A stored row that cannot be read as records: its text becomes a dead letter, the row goes. */
  #setAside(r: RawRow, reason: string): void {
    this.#db.run("DELETE FROM messages WHERE id = ?", [r.id]);
    this.deadLetter(this.messageId(r.id, 0), r.body, reason);
  }

  #restore(salvaged: { rows: RawRow[]; dead: RawDead[] }): void {
    const row = this.#db.prepare("INSERT INTO messages (id, n, crc, body) VALUES (?, ?, ?, ?)");
    const dead = this.#db.prepare("INSERT INTO dead (id, message_id, record, reason, at) VALUES (?, ?, ?, ?, ?)");
    this.#db.transaction(() => {
      for (const r of salvaged.rows) row.run(r.id, r.n, r.crc, r.body);
      for (const d of salvaged.dead) dead.run(d.id, d.message_id, d.record, d.reason, d.at);
    })();
  }
}

type RawRow = { id: number; n: number; crc: number; body: string };
type RawDead = { id: number; message_id: string; record: string; reason: string; at: number };

function openDatabase(path: string, options: SpoolOptions): Database {
  const db = new Database(path, { create: true, strict: true });
  db.run("PRAGMA journal_mode = WAL");
  db.run(`PRAGMA synchronous = ${options.sync === "full" ? "FULL" : "NORMAL"}`);
  if (options.maxPageCount !== undefined) db.run(`PRAGMA max_page_count = ${options.maxPageCount}`);
  return db;
}

/** null when SQLite finds the file sound; otherwise what it says is wrong. */
function checkIntegrity(db: Database): string | null {
  const rows = db.query<{ quick_check: string }, []>("PRAGMA quick_check").all();
  return rows.length === 1 && rows[0].quick_check === "ok" ? null : rows.map((r) => r.quick_check).join("; ");
}

function isDamage(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return code === "SQLITE_NOTADB" || code === "SQLITE_CORRUPT";
}

/** Reads what it can of a damaged file, row by row, stopping where SQLite no longer can. */
function salvage(path: string): { rows: RawRow[]; dead: RawDead[]; complete: boolean } {
  const rows: RawRow[] = [];
  const dead: RawDead[] = [];
  let complete = true;
  let db: Database | undefined;
  try {
    db = new Database(path, { readonly: true, strict: true });
    for (const r of db.query<RawRow, []>("SELECT id, n, crc, body FROM messages ORDER BY id").iterate()) rows.push(r);
    for (const d of db.query<RawDead, []>("SELECT * FROM dead ORDER BY id").iterate()) dead.push(d);
  } catch {
    complete = false;
  } finally {
    db?.close();
  }
  return { rows, dead, complete };
}

function parseRow(r: RawRow): LogRecord[] | undefined {
  if (Bun.hash.crc32(r.body) !== r.crc) return undefined;
  try {
    const records = JSON.parse(r.body) as unknown;
    return Array.isArray(records) && records.length === r.n ? (records as LogRecord[]) : undefined;
  } catch {
    return undefined;
  }
}

function toDeadLetter(d: RawDead): DeadLetter {
  return {
    id: d.id,
    messageId: d.message_id,
    record: JSON.parse(d.record) as LogRecord,
    reason: d.reason,
    at: new Date(d.at).toISOString(),
  };
}
