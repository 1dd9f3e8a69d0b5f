// How the distributor talks TLS to https analyzers: the CA bundle it verifies them against and the
// client certificate it presents, shared by the forwarding client (forward.ts) and the health
// probes (health.ts), so both see an analyzer the same way. Read at startup, and again on SIGHUP
// and when the files change (watched as the server's certificate is, src/http/watch.ts): sound new
// files are used by every connection opened after that; a CA that does not parse or a key that is
// not the certificate's (a renewal caught half-written) is refused and the old files stay in use.

import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { watchFiles } from "../http/watch.ts";
import type { AnalyzerTlsFiles } from "./config.ts";
import type { ClientTls } from "./httpclient/client.ts";
import type { Upstream } from "./upstream.ts";

/** PEM text; a field left out means the default (Bun's trusted CAs, no client certificate). */
export type AnalyzerTls = { readonly ca?: string; readonly cert?: string; readonly key?: string };

export function readAnalyzerTls(files: AnalyzerTlsFiles): AnalyzerTls {
  const read = (path: string | undefined) => (path === undefined ? undefined : readFileSync(path, "utf8"));
  return { ca: read(files.caFile), cert: read(files.certFile), key: read(files.keyFile) };
}

/** What is wrong with material read from `files`, or undefined when it can be used. */
export function analyzerTlsProblem(tls: AnalyzerTls, files: AnalyzerTlsFiles): string | undefined {
  if (tls.ca !== undefined) {
    try {
      new X509Certificate(tls.ca);
    } catch (error) {
      return `ANALYZER_CA_FILE (${files.caFile}) holds no certificate (${(error as Error).message})`;
    }
  }
  if (tls.cert === undefined || tls.key === undefined) return undefined;
  try {
    if (new X509Certificate(tls.cert).checkPrivateKey(createPrivateKey(tls.key))) return undefined;
  } catch (error) {
    return `ANALYZER_CERT_FILE (${files.certFile}) and ANALYZER_KEY_FILE (${files.keyFile}) must be a PEM certificate and its key (${(error as Error).message})`;
  }
  return `ANALYZER_KEY_FILE (${files.keyFile}) is not the key of ANALYZER_CERT_FILE (${files.certFile})`;
}

/** A reload's outcome: new files in use, the same files, or bad files refused and the old ones kept. */
export type AnalyzerTlsReload = "reloaded" | "unchanged" | "kept";

/** The material in use now, read again by reload(); watch() reloads when the files change. */
export class AnalyzerTlsSource {
  #current: AnalyzerTls;
  #watcher: { close(): void } | undefined;

  constructor(
    readonly files: AnalyzerTlsFiles,
    private readonly log: (line: string) => void = console.log,
  ) {
    this.#current = readAnalyzerTls(files);
  }

  /** A new object after each reload that changed it, so users can tell (forward.ts). */
  get current(): AnalyzerTls {
    return this.#current;
  }

  get paths(): string[] {
    const { caFile, certFile, keyFile } = this.files;
    return [caFile, certFile, keyFile].filter((f) => f !== undefined);
  }

  reload(reason: string): AnalyzerTlsReload {
    if (this.paths.length === 0) return "unchanged";
    let next: AnalyzerTls;
    try {
      next = readAnalyzerTls(this.files);
    } catch (error) {
      this.log(`analyzer tls: ${reason}: kept the files in use: ${(error as Error).message}`);
      return "kept";
    }
    const { ca, cert, key } = this.#current;
    if (next.ca === ca && next.cert === cert && next.key === key) return "unchanged";
    const problem = analyzerTlsProblem(next, this.files);
    if (problem !== undefined) {
      this.log(`analyzer tls: ${reason}: kept the files in use: ${problem}`);
      return "kept";
    }
    this.#current = next;
    this.log(`analyzer tls: ${reason}: reloaded ${this.paths.join(", ")}: new connections to analyzers use them`);
    return "reloaded";
  }

  /** Reloads when the files change, until stop(); nothing to watch without files. */
  watch(): void {
    if (this.paths.length > 0 && this.#watcher === undefined) {
      this.#watcher = watchFiles(this.paths, () => this.reload("files changed"));
    }
  }

  stop(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }
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
