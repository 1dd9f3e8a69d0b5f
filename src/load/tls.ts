// The load tester's TLS flags (--cacert, --cert, --key, -k) turned into what Bun's fetch takes as
// `tls`: the files are read once, at startup, and an unreadable one is a usage error naming the flag.

import { readFileSync } from "node:fs";
import { type TlsFlags, UsageError } from "./args.ts";

/** fetch()'s `tls` option: only what the flags asked for, undefined when none was given. */
export type FetchTls = { ca?: string; cert?: string; key?: string; rejectUnauthorized?: boolean };

export function fetchTls(flags: TlsFlags, read: (path: string) => string = readText): FetchTls | undefined {
  const tls: FetchTls = {};
  if (flags.caFile !== undefined) tls.ca = readFlag("--cacert", flags.caFile, read);
  if (flags.certFile !== undefined) tls.cert = readFlag("--cert", flags.certFile, read);
  if (flags.keyFile !== undefined) tls.key = readFlag("--key", flags.keyFile, read);
  if (flags.insecure) tls.rejectUnauthorized = false;
  return Object.keys(tls).length === 0 ? undefined : tls;
}

function readText(path: string): string {
  return readFileSync(path, "utf8");
}

function readFlag(flag: string, path: string, read: (path: string) => string): string {
  try {
    return read(path);
  } catch (error) {
    throw new UsageError(`${flag} ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
}
