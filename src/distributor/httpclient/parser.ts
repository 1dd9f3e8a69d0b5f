// Reads HTTP/1.x responses for src/distributor/httpclient/client.ts: the status, Content-Type, and
// a body framed by Content-Length, chunked encoding or the connection's close. It is fed the
// connection's chunks as they arrive, in whatever pieces TCP delivers them.

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
    const buf = this.#pending === null ? chunk : Buffer.concat([this.#pending, chunk]);
    this.#pending = null;
    let pos = 0;
    for (;;) {
      if (this.#state === "head") {
        const end = buf.indexOf("\r\n\r\n", pos, "latin1");
        if (end < 0) {
          if (buf.length - pos > MAX_HEAD_BYTES)
            throw new ClientError("protocol", `response head larger than ${MAX_HEAD_BYTES} bytes`);
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
    if (!status)
      throw new ClientError("protocol", `not an HTTP/1.x status line: ${JSON.stringify(lines[0]!.slice(0, 80))}`);
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
        if (!/^\d+$/.test(value) || (length >= 0 && Number(value) !== length))
          throw new ClientError("protocol", `bad Content-Length: ${JSON.stringify(value)}`);
        length = Number(value);
      } else if (name === "transfer-encoding") chunked = /(^|,)\s*chunked\s*$/i.test(value);
      else if (name === "connection") connection = value.toLowerCase();
      else if (name === "content-type") this.#contentType = value;
    }
    this.#status = code;
    this.keepAlive =
      status[1] === "1" ? !/(^|,)\s*close\s*(,|$)/.test(connection) : /(^|,)\s*keep-alive\s*(,|$)/.test(connection);
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
          if (buf.length - pos > MAX_HEAD_BYTES)
            throw new ClientError("protocol", "chunk size or trailer line too long");
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
        if (!/^[0-9a-fA-F]{1,8}$/.test(size))
          throw new ClientError("protocol", `bad chunk size: ${JSON.stringify(size.slice(0, 20))}`);
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
        if (buf[pos] !== 13 || buf[pos + 1] !== 10)
          throw new ClientError("protocol", "chunk data not followed by CRLF");
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
