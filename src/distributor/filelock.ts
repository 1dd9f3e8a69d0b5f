// An exclusive lock on a file, held until the process exits (however it exits: the kernel drops a
// flock() with the process, so a kill -9 leaves no stale lock behind, unlike a pid file). Two
// distributors pointed at one spool would each replay and delete the other's messages; the second
// one must refuse to start. SQLite's own locking_mode=EXCLUSIVE did not keep a second Bun process
// out in a test here, so the lock is taken with flock(2) through Bun's FFI.

import { dlopen, FFIType } from "bun:ffi";
import { closeSync, openSync } from "node:fs";

const LOCK_EX = 2;
const LOCK_NB = 4;

let flock: ((fd: number, operation: number) => number) | undefined;
function libcFlock(): (fd: number, operation: number) => number {
  if (flock === undefined) {
    const libc = dlopen(process.platform === "darwin" ? "libc.dylib" : "libc.so.6", {
      flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    });
    flock = (fd, operation) => libc.symbols.flock(fd, operation);
  }
  return flock;
}

export class LockedError extends Error {
  override name = "LockedError";
}

/** Takes the lock on `path` (created if missing) without waiting; throws LockedError when another process holds it. */
export function lockFile(path: string): { release(): void } {
  const fd = openSync(path, "a");
  if (libcFlock()(fd, LOCK_EX | LOCK_NB) !== 0) {
    closeSync(fd);
    throw new LockedError(`${path} is locked by another process`);
  }
  return { release: () => closeSync(fd) };
}
