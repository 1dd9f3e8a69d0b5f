import { describe, expect, test } from "bun:test";
import { ClientError, type ClientResponse, ResponseParser } from "./parser.ts";

/** Feeds `raw` to a fresh parser in pieces of `size` bytes; the response, and the parser. */
function parse(raw: string, size: number) {
  const parser = new ResponseParser();
  const bytes = Buffer.from(raw, "utf8");
  let response: ClientResponse | undefined;
  for (let i = 0; i < bytes.length && response === undefined; i += size)
    response = parser.push(bytes.subarray(i, i + size));
  return { response, parser };
}

const LENGTH = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 12\r\n\r\n{"ok":"été"}';
const CHUNKED =
  "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: 1\r\n\r\n";

describe("ResponseParser", () => {
  test.each([1, 2, 7, 1000])("reads a Content-Length body fed %i bytes at a time", (size) => {
    const { response, parser } = parse(LENGTH.replace("12", String(Buffer.byteLength('{"ok":"été"}'))), size);
    expect(response).toEqual({ status: 200, contentType: "application/json", body: '{"ok":"été"}' });
    expect(parser.keepAlive).toBe(true);
  });

  test.each([1, 3, 1000])("reads a chunked body with trailers fed %i bytes at a time", (size) => {
    expect(parse(CHUNKED, size).response).toEqual({ status: 200, contentType: "text/plain", body: "hello, world" });
  });

  test("skips a 100 Continue before the real answer", () => {
    const { response } = parse(`HTTP/1.1 100 Continue\r\n\r\n${LENGTH.replace("12", "14")}`, 5);
    expect(response?.status).toBe(200);
  });

  test("a body delimited by the connection's close ends at end(), and the connection is not reused", () => {
    const parser = new ResponseParser();
    expect(
      parser.push(Buffer.from("HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\nbusy, ")),
    ).toBeUndefined();
    expect(parser.push(Buffer.from("come back later"))).toBeUndefined();
    expect(parser.end()).toEqual({ status: 503, contentType: "", body: "busy, come back later" });
    expect(parser.keepAlive).toBe(false);
  });

  test("after reset() the same parser reads the next answer on the connection", () => {
    const parser = new ResponseParser();
    expect(parser.push(Buffer.from("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"))?.status).toBe(204);
    parser.reset();
    expect(parser.push(Buffer.from("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))?.body).toBe("ok");
  });

  test.each([
    ["not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP/1.x status line"],
    ["a header line without a colon", "HTTP/1.1 200 OK\r\nbroken\r\n\r\n", "malformed header line"],
    ["a negative Content-Length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length"],
    ["a chunk size that is not hex", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"],
    [
      "chunk data without its CRLF",
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX",
      "chunk data not followed by CRLF",
    ],
  ])("%s is a protocol error", (_, raw, message) => {
    let error: unknown;
    try {
      parse(raw, 1000);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).kind).toBe("protocol");
    expect((error as ClientError).message).toContain(message);
  });
});
