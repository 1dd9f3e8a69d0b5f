import { describe, expect, test } from "bun:test";
import { UsageError } from "./args.ts";
import { fetchTls } from "./tls.ts";

const NONE = { caFile: undefined, certFile: undefined, keyFile: undefined, insecure: false };
const files: Record<string, string> = { "ca.pem": "CA", "c.pem": "CERT", "k.pem": "KEY" };
const read = (path: string) => {
  const text = files[path];
  if (text === undefined) throw Object.assign(new Error("no such file"), { code: "ENOENT" });
  return text;
};

describe("fetchTls", () => {
  test("no TLS flag: no tls option, fetch's defaults", () => {
    expect(fetchTls(NONE, read)).toBeUndefined();
  });

  test("each flag becomes its fetch option, read from its file", () => {
    expect(fetchTls({ caFile: "ca.pem", certFile: "c.pem", keyFile: "k.pem", insecure: true }, read)).toEqual({
      ca: "CA",
      cert: "CERT",
      key: "KEY",
      rejectUnauthorized: false,
    });
  });

  test("a file that cannot be read is a usage error naming the flag", () => {
    expect(() => fetchTls({ ...NONE, caFile: "missing.pem" }, read)).toThrow(
      new UsageError("--cacert missing.pem cannot be read (ENOENT)"),
    );
  });
});
