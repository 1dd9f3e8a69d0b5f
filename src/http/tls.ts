// A server's TLS material read from its files (TLS_CERT_FILE, TLS_KEY_FILE, TLS_CLIENT_CA_FILE) and
// checked before it is used: a certificate that does not parse, a key that is not its key or a CA
// that does not parse is a TlsError naming the file, so a bad renewal can be refused while the old
// certificate keeps serving.

import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";

/** The files a TLS server is configured with; `clientCaFile` turns on client certificates (mTLS). */
export type TlsFiles = { certFile: string; keyFile: string; clientCaFile?: string };

/** What the files held when they were read, and what the log says about it. */
export type TlsMaterial = {
  cert: string;
  key: string;
  ca: string | undefined;
  /** The served certificate's subject, e.g. `CN=localhost`. */
  subject: string;
  notAfter: Date;
};

export class TlsError extends Error {
  override name = "TlsError";
}

/** Reads and checks the files; throws a TlsError saying which one is wrong and why. */
export function readTls(files: TlsFiles): TlsMaterial {
  const cert = read("TLS_CERT_FILE", files.certFile);
  const key = read("TLS_KEY_FILE", files.keyFile);
  const ca = files.clientCaFile === undefined ? undefined : read("TLS_CLIENT_CA_FILE", files.clientCaFile);
  // The first certificate of the file is the server's own; the rest is its chain.
  const x509 = parse(cert, () => `TLS_CERT_FILE ${files.certFile} holds no certificate`);
  const privateKey = parse(key, () => `TLS_KEY_FILE ${files.keyFile} holds no private key`, createPrivateKey);
  if (!x509.checkPrivateKey(privateKey)) {
    throw new TlsError(`TLS_KEY_FILE ${files.keyFile} is not the key of the certificate in ${files.certFile}`);
  }
  if (ca !== undefined) parse(ca, () => `TLS_CLIENT_CA_FILE ${files.clientCaFile} holds no certificate`);
  return { cert, key, ca, subject: x509.subject.replaceAll("\n", ", "), notAfter: x509.validToDate };
}

/** Bun.serve's `tls`: with a client CA, a client without a certificate it signed is refused. */
export function serveTls(material: TlsMaterial): Bun.TLSOptions {
  const { cert, key, ca } = material;
  return ca === undefined ? { cert, key } : { cert, key, ca, requestCert: true, rejectUnauthorized: true };
}

/**
 * `CN=localhost, not after 2026-12-02T11:20:20.000Z`: for the startup and reload log lines. A
 * certificate past its date is still served (the operator may be about to renew it), but said so:
 * every client that verifies will refuse it.
 */
export function describeTls(material: TlsMaterial, now = new Date()): string {
  const expired = material.notAfter < now ? " (EXPIRED: clients that verify it will refuse every connection)" : "";
  return `${material.subject}, not after ${material.notAfter.toISOString()}${expired}`;
}

/** True when both hold the same files' bytes: nothing to reload. */
export function sameTls(a: TlsMaterial, b: TlsMaterial): boolean {
  return a.cert === b.cert && a.key === b.key && a.ca === b.ca;
}

function read(variable: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new TlsError(`${variable} ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
}

function parse<T = X509Certificate>(
  pem: string,
  what: () => string,
  make: (pem: string) => T = (p) => new X509Certificate(p) as T,
): T {
  try {
    return make(pem);
  } catch (error) {
    throw new TlsError(`${what()} (${(error as Error).message})`);
  }
}
