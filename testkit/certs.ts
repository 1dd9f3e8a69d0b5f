// Certificates made at test time with Debian's openssl, so nothing secret is committed and nothing
// expires in the repository: a CA, a server certificate for localhost and 127.0.0.1 signed by it,
// a client certificate signed by it, and the certificates a TLS endpoint must refuse (signed by
// another CA, expired).

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type Pair = { cert: string; key: string };

export type Certs = {
  dir: string;
  /** The CA that signed server, client and expired. */
  ca: Pair;
  /** CN=localhost, SAN localhost and 127.0.0.1: what the servers under test present. */
  server: Pair;
  /** A client certificate signed by `ca` (extendedKeyUsage clientAuth). */
  client: Pair;
  /** A second CA, and a client certificate it signed: valid in form, trusted by nobody here. */
  otherCa: Pair;
  stranger: Pair;
  /** Signed by `ca`, valid from 2020-01-01 to 2020-01-02. */
  expired: Pair;
  /** A second server certificate from `ca` (CN=localhost-renewed), for reload tests. */
  renewed: Pair;
};

/** Makes every certificate above in a fresh temporary folder; ~1 s (RSA-2048 keys). */
export function makeCerts(): Certs {
  const dir = mkdtempSync(join(tmpdir(), "certs-"));
  const path = (name: string) => join(dir, name);
  const pair = (name: string): Pair => ({ cert: path(`${name}.crt`), key: path(`${name}.key`) });

  const ca = pair("ca");
  selfSigned(ca, "test CA");
  const otherCa = pair("other-ca");
  selfSigned(otherCa, "other CA");

  writeFileSync(path("server.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  writeFileSync(path("client.ext"), "extendedKeyUsage=clientAuth\n");

  const server = pair("server");
  signed(server, "localhost", ca, path("server.ext"));
  const renewed = pair("renewed");
  signed(renewed, "localhost-renewed", ca, path("server.ext"));
  const client = pair("client");
  signed(client, "client", ca, path("client.ext"));
  const stranger = pair("stranger");
  signed(stranger, "stranger", otherCa, path("client.ext"));

  // `openssl x509 -req` (3.0) cannot backdate; `openssl ca` can, given a minimal database.
  const expired = pair("expired");
  writeFileSync(path("index.txt"), "");
  writeFileSync(
    path("ca.cnf"),
    [
      "[ca]",
      "default_ca = test",
      "[test]",
      `database = ${path("index.txt")}`,
      `new_certs_dir = ${dir}`,
      "default_md = sha256",
      "policy = anything",
      "rand_serial = yes",
      "unique_subject = no",
      "[anything]",
      "commonName = supplied",
      "[ext]",
      "subjectAltName = DNS:localhost,IP:127.0.0.1",
      "extendedKeyUsage = serverAuth,clientAuth",
    ].join("\n"),
  );
  openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    expired.key,
    "-out",
    path("expired.csr"),
    "-subj",
    "/CN=expired",
  );
  openssl(
    "ca",
    "-batch",
    "-config",
    path("ca.cnf"),
    "-cert",
    ca.cert,
    "-keyfile",
    ca.key,
    "-in",
    path("expired.csr"),
    "-out",
    expired.cert,
    "-startdate",
    "20200101000000Z",
    "-enddate",
    "20200102000000Z",
    "-extensions",
    "ext",
    "-notext",
  );
  return { dir, ca, server, client, otherCa, stranger, expired, renewed };
}

function selfSigned(pair: Pair, cn: string): void {
  openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    pair.key,
    "-out",
    pair.cert,
    "-days",
    "2",
    "-subj",
    `/CN=${cn}`,
  );
}

/** Signs a new key pair for `cn` with `ca`; `extfile` holds its extensions (subjectAltName, extendedKeyUsage). */
export function signed(pair: Pair, cn: string, ca: Pair, extfile: string): void {
  const csr = `${pair.cert}.csr`;
  openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", pair.key, "-out", csr, "-subj", `/CN=${cn}`);
  openssl(
    "x509",
    "-req",
    "-in",
    csr,
    "-CA",
    ca.cert,
    "-CAkey",
    ca.key,
    "-set_serial",
    String(serial++),
    "-days",
    "2",
    "-out",
    pair.cert,
    "-extfile",
    extfile,
  );
}
let serial = 1000;

function openssl(...args: string[]): void {
  const run = Bun.spawnSync(["openssl", ...args], { stdout: "pipe", stderr: "pipe" });
  if (run.exitCode !== 0)
    throw new Error(`openssl ${args[0]} failed (exit ${run.exitCode}): ${run.stderr.toString().trim()}`);
}
