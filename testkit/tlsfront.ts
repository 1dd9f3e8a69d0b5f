// TLS in front of an analyzer, for the tests of the distributor's https client while the analyzer
// does not serve TLS itself: a real Bun.serve TLS server on 127.0.0.1, port 0, that passes each
// request to `target` (a real analyzer child process) and its answer back. It counts the requests
// it passed, and can ask for client certificates as an analyzer with TLS_CLIENT_CA_FILE would.
// Also: server certificates with the names a test needs (serverCert).

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Certs, type Pair, signed } from "./certs.ts";

export type TlsFrontOptions = {
  /** The analyzer's base URL, like http://127.0.0.1:5000. */
  target: string;
  /** The certificate and key it presents. */
  pair: Pair;
  /** Ask for a client certificate signed by this CA (a PEM file), and refuse connections without one. */
  clientCa?: string;
};

export type TlsFront = {
  /** https://127.0.0.1:<port> */
  url: string;
  port: number;
  /** Requests passed to the target. */
  readonly requests: number;
  stop(): void;
};

export function startTlsFront(options: TlsFrontOptions): TlsFront {
  const { target, pair, clientCa } = options;
  let requests = 0;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    tls: {
      cert: Bun.file(pair.cert),
      key: Bun.file(pair.key),
      ...(clientCa ? { ca: Bun.file(clientCa), requestCert: true, rejectUnauthorized: true } : {}),
    },
    async fetch(req) {
      requests++;
      const url = new URL(req.url);
      const res = await fetch(`${target}${url.pathname}${url.search}`, {
        method: req.method,
        headers: req.headers,
        body: req.method === "GET" || req.method === "HEAD" ? undefined : await req.arrayBuffer(),
      });
      // fetch decoded the body: pass it on with the headers that still describe it.
      return new Response(await res.arrayBuffer(), {
        status: res.status,
        headers: { "content-type": res.headers.get("content-type") ?? "application/octet-stream" },
      });
    },
  });
  return {
    url: `https://127.0.0.1:${server.port}`,
    port: server.port!,
    get requests() {
      return requests;
    },
    stop: () => void server.stop(true),
  };
}

let made = 0;

/**
 * A server certificate with these subjectAltNames (like `DNS:analyzer.test` or `IP:127.0.0.1`),
 * signed by `ca` (default: the test CA). `DNS:<name>` alone is what a Kubernetes Service's
 * certificate looks like: a client must verify it against the name it resolved, not the address.
 */
export function serverCert(certs: Certs, altNames: string[], ca: Pair = certs.ca): Pair {
  const base = join(certs.dir, `made-${++made}`);
  const ext = `${base}.ext`;
  writeFileSync(ext, `subjectAltName=${altNames.join(",")}\nextendedKeyUsage=serverAuth\n`);
  const pair = { cert: `${base}.crt`, key: `${base}.key` };
  signed(pair, altNames[0]!.replace(/^\w+:/, ""), ca, ext);
  return pair;
}
