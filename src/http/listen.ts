// Serving a program's handlers over HTTP, or over TLS when it has a certificate, for both
// entrypoints. With TLS the certificate is read again on reload() (SIGHUP) and when its files or
// their folders change (a Kubernetes Secret mount swaps a symlinked folder, so folders are watched,
// not files).
//
// Bun 1.4.5's server.reload({ tls }) keeps the old certificate, so a reload is a handoff: a second
// server with the new certificate binds the same port (SO_REUSEPORT, set on every TLS server for
// this), then the old one stops gracefully (its in-flight requests finish). A bad new certificate
// leaves the old server as it was. Caveats (docs/security.md): connections waiting in the old
// listener's accept queue at that instant are reset unless net.ipv4.tcp_migrate_req=1, and with
// SO_REUSEPORT a second process started on the same port shares it silently instead of failing,
// which is why plain HTTP servers do not set it.

import { describeTls, readTls, sameTls, serveTls, TlsError, type TlsFiles, type TlsMaterial } from "./tls.ts";
import { watchFiles } from "./watch.ts";

/** What Bun.serve gets besides the address and TLS: the program's handlers and limits. */
export type ServeHandlers = {
  fetch: (request: Request, server: Bun.Server<undefined>) => Response | Promise<Response>;
  routes?: Record<string, unknown>;
  maxRequestBodySize?: number;
  idleTimeout?: number;
};

export type ListenOptions = {
  port: number;
  hostname: string;
  /** null: plain HTTP. */
  tls: TlsFiles | null;
  serve: ServeHandlers;
  /** Where reloads are reported; one line each. */
  log?: (line: string) => void;
  /** Reload when the certificate files change (default true with TLS). */
  watch?: boolean;
};

/** How long a replaced server keeps answering (with `Connection: close`) before it stops. */
export const HANDOFF_DRAIN_MS = 1000;

/** The outcome of a reload: a new certificate serves, the files did not change, or they are bad and the old one serves on. */
export type ReloadOutcome = "reloaded" | "unchanged" | "kept";

export class Listener {
  #server: Bun.Server<undefined>;
  #material: TlsMaterial | null;
  /** Reloads run one at a time, in order. */
  #queue: Promise<unknown> = Promise.resolve();
  #watcher: { close(): void } | undefined;
  #stopped = false;

  constructor(readonly options: ListenOptions) {
    this.#material = options.tls === null ? null : readTls(options.tls);
    this.#server = this.#serve(options.port);
    if (options.tls !== null && (options.watch ?? true)) {
      const { certFile, keyFile, clientCaFile } = options.tls;
      const files = [certFile, keyFile, clientCaFile].filter((f) => f !== undefined);
      this.#watcher = watchFiles(files, () => void this.reload("files changed"));
    }
  }

  /** The origin clients use: `https://…` with TLS. */
  get url(): URL {
    return this.#server.url;
  }

  get port(): number {
    return this.#server.port as number;
  }

  /** `TLS CN=localhost, not after …, client certificates required`, or `plain HTTP`: for the startup line. */
  get summary(): string {
    const m = this.#material;
    if (m === null) return "plain HTTP";
    return `TLS ${describeTls(m)}${m.ca === undefined ? "" : ", client certificates required"}`;
  }

  /** Reads the certificate files again; a changed, valid certificate takes over without dropping the port. */
  reload(reason: string): Promise<ReloadOutcome> {
    const next = this.#queue.then(() => this.#reload(reason));
    this.#queue = next.catch(() => {});
    return next;
  }

  /** Stops watching and serving; in-flight requests finish (as Bun's server.stop()). */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#watcher?.close();
    await this.#queue;
    await this.#server.stop();
  }

  async #reload(reason: string): Promise<ReloadOutcome> {
    const files = this.options.tls;
    const log = this.options.log ?? console.log;
    if (files === null || this.#stopped) return "unchanged";
    let material: TlsMaterial;
    let server: Bun.Server<undefined>;
    try {
      material = readTls(files);
      if (this.#material !== null && sameTls(material, this.#material)) return "unchanged";
      server = this.#serve(this.port, material);
    } catch (error) {
      log(`tls: ${reason}: kept the old certificate (${describeTls(this.#material!)}): ${(error as Error).message}`);
      return "kept";
    }
    const old = this.#server;
    this.#server = server;
    this.#material = material;
    await this.#retire(old);
    // Only now does every new connection get the new certificate.
    log(`tls: ${reason}: reloaded certificate ${describeTls(material)}`);
    return "reloaded";
  }

  /**
   * Bun's stop() closes idle keep-alive connections at once, and a client whose next request is
   * already on its way gets a reset. So first the old server answers every request with
   * `Connection: close` for HANDOFF_DRAIN_MS (its routes are dropped so that fetch sees them all:
   * routes must be a fast path of fetch), and busy clients reconnect on their own.
   */
  async #retire(old: Bun.Server<undefined>): Promise<void> {
    const { fetch } = this.options.serve;
    old.reload({
      routes: {},
      fetch: async function closing(request, server) {
        const response = await fetch(request, server);
        try {
          response.headers.set("connection", "close");
          return response;
        } catch {
          // Immutable headers (a fetched response): the same response with headers of its own.
          const copy = new Response(response.body, response);
          copy.headers.set("connection", "close");
          return copy;
        }
      },
    } as Bun.Serve.Options<undefined>);
    await Bun.sleep(HANDOFF_DRAIN_MS);
    await old.stop();
  }

  #serve(port: number, material = this.#material): Bun.Server<undefined> {
    const { hostname, serve } = this.options;
    const tls = material === null ? {} : { tls: serveTls(material), reusePort: true };
    return Bun.serve({ ...serve, port, hostname, ...tls } as Bun.Serve.Options<undefined>);
  }
}

/** Serves `options.serve` on the port (the one chosen, with port 0); throws a TlsError when the certificate files are bad. */
export function listen(options: ListenOptions): Listener {
  return new Listener(options);
}

/** For entrypoints: listen(), logging reloads as `<program>: tls: …`; a bad certificate at startup is one line on stderr and exit 1, as a bad setting is. */
export function listenOrExit(program: string, options: ListenOptions): Listener {
  try {
    return listen({ log: (line) => console.log(`${program}: ${line}`), ...options });
  } catch (error) {
    if (!(error instanceof TlsError)) throw error;
    console.error(`${program}: ${error.message}`);
    process.exit(1);
  }
}
