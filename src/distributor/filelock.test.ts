import { expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LockedError, lockFile } from "./filelock.ts";

const dir = mkdtempSync(join(tmpdir(), "filelock-"));

// The lock is per process (flock), so the contender is a real second process.
function tryLockElsewhere(path: string): string {
  const script = `import { lockFile } from ${JSON.stringify(new URL("./filelock.ts", import.meta.url).pathname)};
    try { lockFile(${JSON.stringify(path)}); console.log("locked"); } catch (e) { console.log(e.name); }`;
  return Bun.spawnSync([process.execPath, "-e", script]).stdout.toString().trim();
}

test("a second process cannot take a lock that is held, and can once it is released", () => {
  const path = join(dir, "a.lock");
  const lock = lockFile(path);
  expect(tryLockElsewhere(path)).toBe("LockedError");
  lock.release();
  expect(tryLockElsewhere(path)).toBe("locked");
});

test("a lock left by a process that died is free again", () => {
  const path = join(dir, "b.lock");
  expect(tryLockElsewhere(path)).toBe("locked"); // that process exited holding it
  const lock = lockFile(path);
  lock.release();
});

test("LockedError names the file", () => {
  const path = join(dir, "c.lock");
  const lock = lockFile(path);
  // flock locks belong to the open file description: a second open in this process conflicts too.
  expect(() => lockFile(path)).toThrow(LockedError);
  expect(() => lockFile(path)).toThrow(path);
  lock.release();
});
