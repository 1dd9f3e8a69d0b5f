import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, parseSettings } from "./env.ts";
import { tlsFiles, tlsSettings } from "./tls.ts";

const dir = mkdtempSync(join(tmpdir(), "tls-config-"));
const pem = join(dir, "a.pem");
writeFileSync(pem, "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");

const load = (env: Record<string, string>) => tlsFiles(parseSettings(tlsSettings, env));

describe("tlsFiles", () => {
  test("nothing set: plain HTTP", () => {
    expect(load({})).toBeNull();
  });

  test("certificate and key: TLS; with a client CA: mTLS", () => {
    expect(load({ TLS_CERT_FILE: pem, TLS_KEY_FILE: pem })).toEqual({ certFile: pem, keyFile: pem });
    expect(load({ TLS_CERT_FILE: pem, TLS_KEY_FILE: pem, TLS_CLIENT_CA_FILE: pem })).toEqual({
      certFile: pem,
      keyFile: pem,
      clientCaFile: pem,
    });
  });

  test.each([
    [{ TLS_CERT_FILE: pem }, "TLS_CERT_FILE is set but TLS_KEY_FILE is not"],
    [{ TLS_KEY_FILE: pem }, "TLS_KEY_FILE is set but TLS_CERT_FILE is not"],
    [{ TLS_CLIENT_CA_FILE: pem }, "TLS_CLIENT_CA_FILE is set without TLS_CERT_FILE and TLS_KEY_FILE"],
  ])("%o is a config error: %s", (env, message) => {
    expect(() => load(env)).toThrow(ConfigError);
    expect(() => load(env)).toThrow(message);
  });

  test("a file that is not there is a config error naming the variable", () => {
    expect(() => load({ TLS_CERT_FILE: join(dir, "missing.pem"), TLS_KEY_FILE: pem })).toThrow(/TLS_CERT_FILE/);
  });
});
