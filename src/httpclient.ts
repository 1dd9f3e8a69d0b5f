// A small HTTP/1.1 client for the one request on the distributor's hot path: send a batch to an
// analyzer and read its answer. Bun's fetch measured ~28 µs of CPU per request against ~15 µs for
// this client (16 concurrent loops, 1-line batches; 85 against 57 µs for 150-line ones), and it
// writes a large body in several pieces, each one more read for the analyzer. This keeps idle
// keep-alive connections per origin, writes each request in one piece, and reads only what the
// distributor needs: the status, Content-Type, Content-Length or chunked framing, Connection.
// Health checks and everything else still use fetch; they are few.

import type { Socket } from "bun";

export type ClientResponse = { status: number; contentType: string; body: string };

/**
 * connect: no connection could be made. closed: the connection broke before a whole answer came.
 * timeout: no whole answer in time. protocol: the answer was not HTTP/1.x as we read it.
 */
export type ClientErrorKind = "connect" | "closed" | "timeout" | "protocol";

export class ClientError extends Error {
  constructor(
    readonly kind: ClientErrorKind,
    message: string,
    /** The connection closed before any byte of an answer: the server may never have seen the request. */
    readonly unanswered = false,
  ) {
    super(message);
  }
}

export type HttpClientOptions = {
  /** Idle connections older than this are closed instead of reused: the server may be closing them. */
  idleTimeoutMs?: number;
};

type Exchange = {
  resolve: (response: ClientResponse) => void;
  reject: (error: ClientError) => void;
  answered: boolean;
};

type Conn = {
  socket: Socket<Conn>;
  parser: ResponseParser;
  /** The request on this connection waiting for its answer; null while idle. */
  exchange: Exchange | null;
  /** Request bytes the socket did not take yet; written on drain. */
  unsent: Buffer | null;
  idleSince: number;
  closed: boolean;
};

/** One origin (scheme, host, port): its idle connections, and requests to it. */
export class HttpClient {
  readonly #hostname: string;
  readonly #port: number;
  readonly #tls: boolean;
  readonly #host: string;
  readonly #idleTimeoutMs: number;
  /** Most recently used last: reuse takes the warmest connection. */
  #idle: Conn[] = [];

  constructor(origin: string, options: HttpClientOptions = {}) {
    const url = new URL(origin);
    this.#tls = url.protocol === "https:";
    this.#hostname = url.hostname.replace(/^\[(.*)\]$/, "$1"); // IPv6 literals come bracketed
    this.#port = Number(url.port) || (this.#tls ? 443 : 80);
    this.#host = url.host;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 4000;
  }

  /** Idle connections kept open right now. */
  get idleCount(): number {
    return this.#idle.length;
  }

  /** POSTs `body` to `path` and reads the whole answer; rejects with a ClientError. */
  async post(path: string, body: string, headers: { contentType: string; accept: string }, timeoutMs: number): Promise<ClientResponse> {
    const bodyBytes = Buffer.byteLength(body);
    const head =
      `POST ${path} HTTP/1.1\r\nHost: ${this.#host}\r\nContent-Type: ${headers.contentType}\r\nAccept: ${headers.accept}\r\n` +
      `Content-Length: ${bodyBytes}\r\n\r\n`;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const reused = this.#takeIdle();
      const conn = reused ?? (await this.#connect(deadline, timeoutMs));
      try {
        return await this.#exchange(conn, head + body, head.length + bodyBytes, deadline, timeoutMs);
      } catch (error) {
        // A kept-alive connection the server closed just as we reused it: nothing was answered,
        // so the request goes once more on a fresh connection, as browsers and Go's client do.
        if (reused && error instanceof ClientError && error.unanswered) continue;
        throw error;
      }
    }
  }

  /** Closes the idle connections (one in use closes when its answer is in). */
  close(): void {
    for (const conn of this.#idle.splice(0)) conn.socket.end();
  }

  #takeIdle(): Conn | undefined {
    const now = performance.now();
    while (this.#idle.length > 0) {
      const conn = this.#idle.pop()!;
      if (!conn.closed && now - conn.idleSince < this.#idleTimeoutMs) {
        conn.socket.ref();
        return conn;
      }
      conn.socket.end();
    }
    return undefined;
  }

  #forget(conn: Conn): void {
    conn.closed = true;
    const i = this.#idle.indexOf(conn);
    if (i >= 0) this.#idle.splice(i, 1);
  }

  async #connect(deadline: number, timeoutMs: number): Promise<Conn> {
    const idle = this.#idle;
    const forget = (conn: Conn) => this.#forget(conn);
    const conn: Omit<Conn, "socket"> & { socket?: Socket<Conn> } = { parser: new ResponseParser(), exchange: null, unsent: null, idleSince: 0, closed: false };
    const connecting = Bun.connect<Conn>({
      hostname: this.#hostname,
      port: this.#port,
      tls: this.#tls ? { serverName: this.#hostname } : undefined,
      socket: {
        data(socket, chunk) {
          const exchange = conn.exchange;
          if (exchange === null) {
            // Bytes nobody asked for: the connection can no longer be trusted.
            forget(conn as Conn);
            socket.terminate();
            return;
          }
          exchange.answered = true;
          let response: ClientResponse | undefined;
          try {
            response = conn.parser.push(chunk);
          } catch (error) {
            conn.exchange = null;
            forget(conn as Conn);
            socket.terminate();
            exchange.reject(error as ClientError);
            return;
          }
          if (response === undefined) return;
          // Handed back before the caller resumes, so the next request can take it at once.
          conn.exchange = null;
          if (conn.parser.keepAlive && !conn.closed) {
            conn.idleSince = performance.now();
            socket.unref(); // an idle connection does not keep the process alive
            idle.push(conn as Conn);
          } else {
            forget(conn as Conn);
            socket.end();
          }
          exchange.resolve(response);
        },
        drain(socket) {
          if (conn.unsent === null) return;
          const n = socket.write(conn.unsent);
          conn.unsent = n < conn.unsent.length ? conn.unsent.subarray(Math.max(n, 0)) : null;
        },
        close(_socket, error) {
          forget(conn as Conn);
          const exchange = conn.exchange;
          if (exchange === null) return;
          conn.exchange = null;
          // An answer framed by the connection's end (no Content-Length, not chunked) ends here.
          const response = conn.parser.end();
          if (response) exchange.resolve(response);
          else {
            const why = `connection closed before a whole answer${error ? ` (${error.message})` : ""}`;
            exchange.reject(new ClientError("closed", why, !exchange.answered));
          }
        },
      },
    });
    let timer: Timer | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(timeoutError(timeoutMs)), Math.max(0, deadline - performance.now()));
    });
    try {
      conn.socket = await Promise.race([connecting, timedOut]);
      return conn as Conn;
    } catch (error) {
      // A connection that comes up after we gave up on it is closed at once.
      connecting.then((socket) => socket.end(), () => {});
      if (error instanceof ClientError) throw error;
      const e = error as { code?: string; message?: string };
      const message = e.code ? `${e.code}${e.message && e.message !== e.code ? ` (${e.message})` : ""}` : String(e.message ?? error);
      throw new ClientError("connect", message);
    } finally {
      clearTimeout(timer);
    }
  }

  #exchange(conn: Conn, request: string, requestBytes: number, deadline: number, timeoutMs: number): Promise<ClientResponse> {
    if (conn.closed) return Promise.reject(new ClientError("closed", "connection closed before the request was sent", true));
    const { promise, resolve, reject } = Promise.withResolvers<ClientResponse>();
    const timer = setTimeout(() => {
      if (conn.exchange === null) return;
      conn.exchange = null;
      // The answer may still come: the connection cannot carry anything else now.
      this.#forget(conn);
      conn.socket.terminate();
      reject(timeoutError(timeoutMs));
    }, Math.max(0, deadline - performance.now()));
    conn.exchange = { resolve, reject, answered: false };
    conn.parser.reset();
    // Most requests go in one write; the rest of a large one follows on drain.
    const written = conn.socket.write(request);
    if (written < requestBytes) conn.unsent = Buffer.from(request).subarray(Math.max(written, 0));
    return promise.finally(() => clearTimeout(timer));
  }
}

function timeoutError(timeoutMs: number): ClientError {
  return new ClientError("timeout", `no answer within ${timeoutMs} ms`);
}

/** Reads one HTTP/1.x response from the chunks of a connection; push() until it returns one. */
export class ResponseParser {
  /** Whether the connection may carry another request after this response. */
  keepAlive = true;
  #state: "head" | "length" | "chunked" | "close" | "done" = "head";
  /** Bytes received but not consumed yet (owned: Bun may reuse a chunk's memory). */
  #pending: Buffer | null = null;
  #status = 0;
  #contentType = "";
  #remaining = 0;
  #body: Buffer[] = [];
  /** Where a chunked body is: at a size line, in chunk data, at the CRLF after it, in trailers. */
  #chunk: "size" | "data" | "crlf" | "trailer" = "size";
  #chunkLeft = 0;

  reset(): void {
    this.keepAlive = true;
    this.#state = "head";
    this.#pending = null;
    this.#body = [];
    this.#chunk = "size";
  }

  push(chunk: Buffer): ClientResponse | undefined {
    let buf = this.#pending === null ? chunk : Buffer.concat([this.#pending, chunk]);
    this.#pending = null;
    let pos = 0;
    for (;;) {
      if (this.#state === "head") {
        const end = buf.indexOf("\r\n\r\n", pos, "latin1");
        if (end < 0) {
          if (buf.length - pos > MAX_HEAD_BYTES) throw new ClientError("protocol", `response head larger than ${MAX_HEAD_BYTES} bytes`);
          this.#keep(buf, pos);
          return undefined;
        }
        const informational = this.#readHead(buf.toString("latin1", pos, end));
        pos = end + 4;
        if (informational) continue; // 100 Continue and friends: the real answer follows
        if ((this.#state as string) === "done") return this.#finish(buf, pos);
        continue;
      }
      if (this.#state === "length") {
        const take = Math.min(this.#remaining, buf.length - pos);
        // The usual case, the whole body in this chunk: decoded straight from it, no copy.
        if (take === this.#remaining && this.#body.length === 0) {
          const body = buf.toString("utf8", pos, pos + take);
          this.#state = "done";
          return this.#respond(body, buf, pos + take);
        }
        this.#body.push(Buffer.from(buf.subarray(pos, pos + take)));
        this.#remaining -= take;
        pos += take;
        if (this.#remaining > 0) return undefined;
        this.#state = "done";
        return this.#finish(buf, pos);
      }
      if (this.#state === "chunked") {
        const next = this.#readChunked(buf, pos);
        if (next < 0) return undefined;
        return this.#finish(buf, next);
      }
      // "close": everything up to the end of the connection is the body.
      this.#body.push(Buffer.from(buf.subarray(pos)));
      return undefined;
    }
  }

  /** The connection ended: the response, when the connection's end was what completed it. */
  end(): ClientResponse | undefined {
    if (this.#state !== "close") return undefined;
    this.#state = "done";
    return { status: this.#status, contentType: this.#contentType, body: Buffer.concat(this.#body).toString("utf8") };
  }

  #keep(buf: Buffer, pos: number): void {
    if (pos < buf.length) this.#pending = Buffer.from(buf.subarray(pos));
  }

  /** Returns true for a 1xx head (skipped). Sets the state for the body that follows. */
  #readHead(head: string): boolean {
    const lines = head.split("\r\n");
    const status = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0]!);
    if (!status) throw new ClientError("protocol", `not an HTTP/1.x status line: ${JSON.stringify(lines[0]!.slice(0, 80))}`);
    const code = Number(status[2]);
    if (code >= 100 && code < 200) return true;
    let length = -1;
    let chunked = false;
    let connection = "";
    this.#contentType = "";
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(":");
      if (colon <= 0) throw new ClientError("protocol", `malformed header line: ${JSON.stringify(line.slice(0, 80))}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-length") {
        if (!/^\d+$/.test(value) || (length >= 0 && Number(value) !== length)) throw new ClientError("protocol", `bad Content-Length: ${JSON.stringify(value)}`);
        length = Number(value);
      } else if (name === "transfer-encoding") chunked = /(^|,)\s*chunked\s*$/i.test(value);
      else if (name === "connection") connection = value.toLowerCase();
      else if (name === "content-type") this.#contentType = value;
    }
    this.#status = code;
    this.keepAlive = status[1] === "1" ? !/(^|,)\s*close\s*(,|$)/.test(connection) : /(^|,)\s*keep-alive\s*(,|$)/.test(connection);
    if (code === 204 || code === 304) this.#state = "done";
    else if (chunked) this.#state = "chunked";
    else if (length >= 0) {
      this.#remaining = length;
      this.#state = length === 0 ? "done" : "length";
    } else {
      this.#state = "close";
      this.keepAlive = false;
    }
    return false;
  }

  /** Consumes chunked framing from pos; returns where the body ended, or -1 for more to come. */
  #readChunked(buf: Buffer, pos: number): number {
    for (;;) {
      if (this.#chunk === "size" || this.#chunk === "trailer") {
        const end = buf.indexOf("\r\n", pos, "latin1");
        if (end < 0) {
          if (buf.length - pos > MAX_HEAD_BYTES) throw new ClientError("protocol", "chunk size or trailer line too long");
          return this.#more(buf, pos);
        }
        const line = buf.toString("latin1", pos, end);
        pos = end + 2;
        if (this.#chunk === "trailer") {
          // Trailer fields, if any, end with an empty line; the distributor has no use for them.
          if (line !== "") continue;
          this.#state = "done";
          return pos;
        }
        const size = line.split(";")[0]!.trim(); // chunk extensions are ignored, as RFC 9112 allows
        if (!/^[0-9a-fA-F]{1,8}$/.test(size)) throw new ClientError("protocol", `bad chunk size: ${JSON.stringify(size.slice(0, 20))}`);
        this.#chunkLeft = parseInt(size, 16);
        this.#chunk = this.#chunkLeft === 0 ? "trailer" : "data";
      } else if (this.#chunk === "data") {
        const take = Math.min(this.#chunkLeft, buf.length - pos);
        if (take > 0) this.#body.push(Buffer.from(buf.subarray(pos, pos + take)));
        this.#chunkLeft -= take;
        pos += take;
        if (this.#chunkLeft > 0) return this.#more(buf, pos);
        this.#chunk = "crlf";
      } else {
        if (buf.length - pos < 2) return this.#more(buf, pos);
        if (buf[pos] !== 13 || buf[pos + 1] !== 10) throw new ClientError("protocol", "chunk data not followed by CRLF");
        pos += 2;
        this.#chunk = "size";
      }
    }
  }

  #more(buf: Buffer, pos: number): -1 {
    this.#keep(buf, pos);
    return -1;
  }

  #finish(buf: Buffer, end: number): ClientResponse {
    return this.#respond(Buffer.concat(this.#body).toString("utf8"), buf, end);
  }

  #respond(body: string, buf: Buffer, end: number): ClientResponse {
    // Bytes after the answer were never asked for (we do not pipeline): do not reuse the connection.
    if (end < buf.length) this.keepAlive = false;
    return { status: this.#status, contentType: this.#contentType, body };
  }
}

const MAX_HEAD_BYTES = 64 * 1024;
