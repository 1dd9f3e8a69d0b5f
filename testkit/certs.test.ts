import { expect, test } from "bun:test";
import { makeCerts } from "./certs.ts";

// The refusals the TLS tests rely on are only meaningful if the certificates are what they claim.
test("makeCerts: a chain that verifies, and the ones that must not", () => {
  const certs = makeCerts();
  const verify = (...args: string[]) =>
    Bun.spawnSync(["openssl", "verify", ...args], { stdout: "pipe", stderr: "pipe" }).exitCode;
  expect(verify("-CAfile", certs.ca.cert, certs.server.cert)).toBe(0);
  expect(verify("-CAfile", certs.ca.cert, certs.client.cert)).toBe(0);
  expect(verify("-CAfile", certs.ca.cert, certs.renewed.cert)).toBe(0);
  expect(verify("-CAfile", certs.ca.cert, certs.stranger.cert)).not.toBe(0);
  expect(verify("-CAfile", certs.ca.cert, certs.expired.cert)).not.toBe(0);
  expect(verify("-CAfile", certs.otherCa.cert, certs.stranger.cert)).toBe(0);
});
