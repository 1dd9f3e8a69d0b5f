import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LockedError, Spool, type SpooledRow, SpoolFullError, SpoolWriteError } from "./spool.ts";

const MB = 1024 * 1024;
const opened: Spool[] = [];
afterEach(() => {
  for (const s of opened.splice(0)) s.close();
});

function open(dir: string, options: { maxBytes?: number; maxPageCount?: number } = {}) {
  const logs: string[] = [];
  const result = Spool.open({ dir, maxBytes: options.maxBytes ?? MB, log: (l) => logs.push(l), ...options });
  opened.push(result.spool);
  return { ...result, logs };
}

/** Until the commit scheduled so far has run (the spool commits on the next turn). */
const committed = () => new Promise((resolve) => setImmediate(resolve));
const fresh = () => mkdtempSync(join(tmpdir(), "spool-test-"));

test("appends made in one turn share one commit, resolve in order, and are told to onStored first", async () => {
  const { spool } = open(fresh());
  const told: number[] = [];
  spool.onStored = (row) => told.push(row.row);
  const rows = await Promise.all([
    spool.append(["a"]),
    spool.append(["b", "c"]),
    spool.append([{ message: "d", fields: { x: 1 } }]),
  ]);
  expect(rows).toEqual([1, 2, 3]);
  expect(told).toEqual(rows);
  expect(spool.messages).toBe(4);
  expect(spool.readAfter(1, 10).map((r) => [r.row, r.records])).toEqual([
    [2, ["b", "c"]],
    [3, [{ message: "d", fields: { x: 1 } }]],
  ]);
});

test("what is not removed is there after a reopen; removed rows are gone and their ids never come back", async () => {
  const dir = fresh();
  const first = open(dir).spool;
  const rows = await Promise.all(["a", "b", "c"].map((m) => first.append([m])));
  const stored = first.readAfter(0, 10);
  first.remove(stored[0]);
  first.remove(stored[1]);
  first.close();

  const { spool, recovery } = open(dir);
  expect(recovery).toMatchObject({ requests: 1, messages: 1, damaged: 0, lastRow: rows[2] });
  expect(spool.readAfter(0, 10).map((r) => r.records)).toEqual([["c"]]);
  expect(spool.id).toBe(first.id);
  spool.remove(spool.readAfter(0, 10)[0]);
  await committed();
  // Emptied, then used again: the next row is not 1, so message ids stay unique (AUTOINCREMENT).
  expect(await spool.append(["d"])).toBe(4);
  expect(spool.messageId(4, 0)).toBe(`${spool.id}-4-0`);
});

test("a second open of the same folder is refused while the first holds it", () => {
  const dir = fresh();
  open(dir);
  expect(() => Spool.open({ dir, maxBytes: MB })).toThrow(LockedError);
});

test("beyond maxBytes an append is refused at once; room comes back as rows are removed", async () => {
  const { spool } = open(fresh(), { maxBytes: 1024 });
  const line = "x".repeat(300);
  await Promise.all([spool.append([line]), spool.append([line]), spool.append([line])]);
  expect(() => spool.append([line])).toThrow(SpoolFullError);
  expect(() => spool.append([line])).toThrow("spool full");
  spool.remove(spool.readAfter(0, 1)[0]);
  await committed();
  expect(await spool.append([line])).toBe(4);
});

test("a disk that fills up: the commit fails, its appends are refused and not counted, and later ones succeed once there is room", async () => {
  const dir = fresh();
  const logs: string[] = [];
  // 8 pages of 4 KiB: the schema takes 4, the rest fills after a few kilobytes.
  const { spool } = Spool.open({ dir, maxBytes: 100 * MB, maxPageCount: 8, log: (l) => logs.push(l) });
  opened.push(spool);
  const big = "y".repeat(3000);
  const stored: number[] = [];
  let refused: unknown;
  for (let i = 0; i < 20 && refused === undefined; i++) {
    try {
      stored.push(await spool.append([big]));
    } catch (error) {
      refused = error;
    }
  }
  expect(refused).toBeInstanceOf(SpoolWriteError);
  expect(String(refused)).toContain("full");
  expect(logs.at(-1)).toMatch(
    /^spool: could not write to .*spool\.db: .*full.*; 1 async request\(s\) refused with 503$/,
  );
  expect(spool.messages).toBe(stored.length);
  // Removing rows frees pages: appends succeed again.
  for (const row of spool.readAfter(0, 100)) spool.remove(row);
  await committed();
  expect(spool.messages).toBe(0);
  expect(await spool.append(["small"])).toBeGreaterThan(stored.at(-1)!);
});

test("a record garbled on disk is skipped with a note, kept as a dead letter, and the rest is delivered", async () => {
  const dir = fresh();
  const first = open(dir).spool;
  await Promise.all([first.append(["first line"]), first.append(["GARBLE ME"]), first.append(["third line"])]);
  first.close(); // folds the WAL into spool.db
  const file = join(dir, "spool.db");
  const bytes = readFileSync(file);
  const at = bytes.indexOf("GARBLE ME");
  expect(at).toBeGreaterThan(0);
  bytes[at + 2] = "X".charCodeAt(0); // one byte of the row's text: SQLite does not notice, the CRC does
  writeFileSync(file, bytes);

  const { spool, recovery } = open(dir);
  expect(recovery).toMatchObject({ requests: 2, messages: 2, damaged: 1 });
  expect(recovery.notes).toEqual(["skipped 1 damaged request(s) (row 2): their text is kept as dead letters"]);
  expect(spool.readAfter(0, 10).map((r) => r.records)).toEqual([["first line"], ["third line"]]);
  await committed();
  expect(spool.deadLetters(10)).toEqual([
    expect.objectContaining({
      messageId: `${spool.id}-2-0`,
      record: '["GAXBLE ME"]',
      reason: "damaged on disk (checksum mismatch)",
    }),
  ]);
});

test("a torn last commit (the WAL cut short by a crash) is dropped by SQLite; every earlier commit is there", async () => {
  const dir = fresh();
  // A child process commits three times, one row each, and dies without closing the file.
  const script = `
    import { Spool } from ${JSON.stringify(new URL("./spool.ts", import.meta.url).pathname)};
    const { spool } = Spool.open({ dir: ${JSON.stringify(dir)}, maxBytes: 1 << 20 });
    for (const m of ["one", "two", "three".repeat(500)]) await spool.append([m]);
    process.kill(process.pid, "SIGKILL");`;
  Bun.spawnSync([process.execPath, "-e", script]);
  const wal = join(dir, "spool.db-wal");
  expect(existsSync(wal)).toBe(true);
  truncateSync(wal, statSync(wal).size - 100); // the last frame, torn

  const { spool, recovery } = open(dir);
  expect(recovery.messages).toBe(2);
  expect(spool.readAfter(0, 10).map((r) => r.records)).toEqual([["one"], ["two"]]);
});

test("a file SQLite cannot read is set aside, and opening starts over with a note", async () => {
  const dir = fresh();
  const first = open(dir).spool;
  await first.append(["a"]);
  first.close();
  const file = join(dir, "spool.db");
  const bytes = readFileSync(file);
  bytes.fill(0x5a, 0, 100); // the header: not a database any more
  writeFileSync(file, bytes);

  const { spool, recovery } = open(dir);
  expect(recovery.notes[0]).toMatch(
    /^spool\.db was damaged \(.+\): kept 0 readable request\(s\) and 0 dead letter\(s\); the rest could not be read; the damaged file is at .*spool\.db\.damaged-/,
  );
  expect(readdirSync(dir).some((f) => f.startsWith("spool.db.damaged-"))).toBe(true);
  expect(await spool.append(["b"])).toBe(1);
});

test("dead letters are kept with their reason, listed oldest first, and taken out for replay", async () => {
  const { spool } = open(fresh());
  spool.deadLetter("s-1-0", "poison", "analyzer a1 answered 400");
  spool.deadLetter("s-1-1", { message: "m", fields: { k: "v" } }, "gave up after 3 attempts");
  await committed();
  expect(spool.deadLetterCount).toBe(2);
  const listed = spool.deadLetters(10);
  expect(listed.map((d) => [d.id, d.messageId, d.record, d.reason])).toEqual([
    [1, "s-1-0", "poison", "analyzer a1 answered 400"],
    [2, "s-1-1", { message: "m", fields: { k: "v" } }, "gave up after 3 attempts"],
  ]);
  expect(Number.isNaN(Date.parse(listed[0].at))).toBe(false);
  expect(spool.deadLetters(10, 1).map((d) => d.id)).toEqual([2]);
  expect(spool.takeDeadLetters([2]).map((d) => d.record)).toEqual([{ message: "m", fields: { k: "v" } }]);
  expect(spool.deadLetterCount).toBe(1);
  expect(spool.takeDeadLetters().map((d) => d.id)).toEqual([1]);
  expect(spool.bytes).toBe(0);
});

test("rows read back carry their size, which removal gives back", async () => {
  const { spool } = open(fresh());
  await spool.append(["é"]); // 2 bytes in UTF-8
  const [row]: SpooledRow[] = spool.readAfter(0, 1);
  expect(row.bytes).toBe(Buffer.byteLength('["é"]'));
  expect(spool.bytes).toBe(row.bytes);
  spool.remove(row);
  await committed();
  expect(spool.bytes).toBe(0);
});
