// How the distributor talks TLS to https analyzers: the CA bundle it verifies them against and the
// client certificate it presents, read once at startup and shared by the forwarding client
// (forward.ts) and the health probes (health.ts), so both see an analyzer the same way.

import { readFileSync } from "node:fs";
import type { AnalyzerTlsFiles } from "./config.ts";
import type { ClientTls } from "./httpclient/client.ts";
import type { Upstream } from "./upstream.ts";

/** PEM text; a field left out means the default (Bun's trusted CAs, no client certificate). */
export type AnalyzerTls = { readonly ca?: string; readonly cert?: string; readonly key?: string };

export function readAnalyzerTls(files: AnalyzerTlsFiles): AnalyzerTls {
  const read = (path: string | undefined) => (path === undefined ? undefined : readFileSync(path, "utf8"));
  return { ca: read(files.caFile), cert: read(files.certFile), key: read(files.keyFile) };
}

/** The TLS options for one analyzer: the shared material, and the name its certificate must be for. */
export function tlsFor(upstream: Upstream, tls: AnalyzerTls): ClientTls {
  const { ca, cert, key } = tls;
  const options: ClientTls = {};
  if (ca !== undefined) options.ca = ca;
  if (cert !== undefined && key !== undefined) {
    options.cert = cert;
    options.key = key;
  }
  if (upstream.serverName !== null) options.serverName = upstream.serverName;
  return options;
}
