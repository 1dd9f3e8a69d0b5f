import { afterAll, expect, test } from "bun:test";
import type { Socket, TCPSocketListener } from "bun";
import { textResponse } from "../../http/app.ts";
import { HttpClient } from "./client.ts";
import { ClientError } from "./parser.ts";

const JSON_HEADERS = { contentType: "application/json", accept: "application/x-ndjson" };
const stops: (() => void)[] = [];
afterAll(() => {
  for (const stop of stops) stop();
});

/** A real TCP server that reads whole requests (Content-Length framed) and lets a test answer in raw bytes. */
function rawServer(
  answer: (socket: Socket<{ buf: string }>, request: { head: string; body: string }, n: number) => void,
) {
  const seen = { requests: 0, connections: 0 };
  const server: TCPSocketListener<{ buf: string }> = Bun.listen<{ buf: string }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        seen.connections++;
        socket.data = { buf: "" };
      },
      data(socket, chunk) {
        socket.data.buf += chunk.toString("latin1");
        for (;;) {
          const end = socket.data.buf.indexOf("\r\n\r\n");
          if (end < 0) return;
          const length = Number(/content-length: (\d+)/i.exec(socket.data.buf.slice(0, end))?.[1] ?? 0);
          if (socket.data.buf.length < end + 4 + length) return;
          const head = socket.data.buf.slice(0, end);
          const body = Buffer.from(socket.data.buf.slice(end + 4, end + 4 + length), "latin1").toString("utf8");
          socket.data.buf = socket.data.buf.slice(end + 4 + length);
          answer(socket, { head, body }, ++seen.requests);
        }
      },
    },
  });
  stops.push(() => server.stop(true));
  return { client: new HttpClient(`http://127.0.0.1:${server.port}`), seen };
}

/** Writes `parts` one by one with a pause between, so the client sees them in separate reads. */
async function dribble(socket: Socket<unknown>, parts: string[]) {
  for (const part of parts) {
    socket.write(part);
    await Bun.sleep(5);
  }
}

test("answers from Bun.serve: status, content type and body; the connection is kept and reused", async () => {
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch: async (req) => Response.json({ got: await req.text(), path: new URL(req.url).pathname }, { status: 201 }),
  });
  stops.push(() => server.stop(true));
  const client = new HttpClient(server.url.origin);
  const r = await client.post("/analyze?x=1", '{"logs":["é ✓"]}', JSON_HEADERS, 1000);
  expect(r).toEqual({
    status: 201,
    contentType: "application/json;charset=utf-8",
    body: JSON.stringify({ got: '{"logs":["é ✓"]}', path: "/analyze" }),
  });
  expect(client.idleCount).toBe(1);
  await client.post("/analyze", "{}", JSON_HEADERS, 1000);
  expect(client.idleCount).toBe(1);
});

test("one connection per concurrent request, all reused afterwards", async () => {
  const { client, seen } = rawServer((socket, req) => {
    // Answer late, so that the requests overlap.
    setTimeout(
      () => socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(req.body)}\r\n\r\n${req.body}`),
      10,
    );
  });
  const bodies = Array.from({ length: 8 }, (_, i) => `{"n":${i}}`);
  expect((await Promise.all(bodies.map((b) => client.post("/", b, JSON_HEADERS, 1000)))).map((r) => r.body)).toEqual(
    bodies,
  );
  expect(seen.connections).toBe(8);
  await Promise.all(bodies.map((b) => client.post("/", b, JSON_HEADERS, 1000)));
  expect(seen).toEqual({ connections: 8, requests: 16 });
});

test("a large request body (4 MiB) goes whole, finished on drain", async () => {
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    maxRequestBodySize: 1 << 30,
    fetch: async (req) => new Response(String((await req.text()).length)),
  });
  stops.push(() => server.stop(true));
  const big = "x".repeat(4 << 20);
  expect((await new HttpClient(server.url.origin).post("/", big, JSON_HEADERS, 5000)).body).toBe(String(big.length));
});

test("a chunked answer split at every awkward place, with extensions and trailers", async () => {
  const { client } = rawServer((socket) => {
    void dribble(socket, [
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/x-ndjson\r\n",
      "\r\n5",
      ";ext=1\r\nhel",
      "lo\r",
      "\n6\r\n wörl\r\n",
      "0\r\nX-Trailer: 1\r",
      "\n\r\n",
    ]);
  });
  const r = await client.post("/", "{}", JSON_HEADERS, 1000);
  expect(r).toEqual({ status: 200, contentType: "application/x-ndjson", body: "hello wörl" });
  expect(client.idleCount).toBe(1);
});

test("a Content-Length body in several reads, after a 100 Continue", async () => {
  const { client } = rawServer((socket) => {
    void dribble(socket, [
      "HTTP/1.1 100 Continue\r\n\r\n",
      "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 10\r\n\r\nnot ",
      "now",
      " ok",
    ]);
  });
  expect(await client.post("/", "{}", JSON_HEADERS, 1000)).toEqual({
    status: 503,
    contentType: "",
    body: "not now ok",
  });
});

test("an answer framed by the end of the connection, and Connection: close, are not reused", async () => {
  const { client, seen } = rawServer((socket, _req, n) => {
    if (n === 1) void dribble(socket, ["HTTP/1.0 200 OK\r\n\r\nuntil ", "the end"]).then(() => socket.end());
    else socket.write("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok");
  });
  expect((await client.post("/", "{}", JSON_HEADERS, 1000)).body).toBe("until the end");
  expect((await client.post("/", "{}", JSON_HEADERS, 1000)).body).toBe("ok");
  expect(client.idleCount).toBe(0);
  expect(seen.connections).toBe(2);
});

test("a kept-alive connection the server closed meanwhile: the request goes again on a new one", async () => {
  const { client, seen } = rawServer((socket) => {
    socket.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    socket.end(); // without saying Connection: close, as a server whose idle timeout fires does
  });
  expect((await client.post("/", "{}", JSON_HEADERS, 1000)).body).toBe("ok");
  expect((await client.post("/", "{}", JSON_HEADERS, 1000)).body).toBe("ok");
  expect(seen).toEqual({ connections: 2, requests: 2 });
});

test("a connection that breaks mid-answer is an error, and the request is not sent again", async () => {
  const { client, seen } = rawServer((socket) => {
    socket.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart");
    socket.end();
  });
  const error = await client.post("/", "{}", JSON_HEADERS, 1000).catch((e) => e);
  expect(error).toBeInstanceOf(ClientError);
  expect(error).toMatchObject({ kind: "closed", unanswered: false });
  expect(seen.requests).toBe(1);
});

test("no answer in time: a timeout, and that connection is dropped", async () => {
  const { client } = rawServer(() => {});
  const error = await client.post("/", "{}", JSON_HEADERS, 100).catch((e) => e);
  expect(error).toMatchObject({ kind: "timeout", message: "no answer within 100 ms" });
  expect(client.idleCount).toBe(0);
});

test("nothing listening: a connect error", async () => {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  const error = await new HttpClient(`http://127.0.0.1:${port}`).post("/", "{}", JSON_HEADERS, 1000).catch((e) => e);
  expect(error).toMatchObject({ kind: "connect" });
  expect(error.message).toContain("ECONNREFUSED");
});

// Each malformed answer is the parser's test (parser.test.ts); here, what the client does with one.
test("an answer that is not HTTP rejects the request as a protocol error and drops the connection", async () => {
  const { client } = rawServer((socket) => socket.write("SSH-2.0-OpenSSH\r\n\r\n"));
  const error = await client.post("/", "{}", JSON_HEADERS, 1000).catch((e) => e);
  expect(error).toMatchObject({ kind: "protocol" });
  expect(error.message).toContain("not an HTTP/1.x status line");
  expect(client.idleCount).toBe(0);
});

test.each([10, 8 * 1024, 100_000])(
  "a %i-character answer the servers build late (textResponse) arrives whole",
  async (size) => {
    const server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch() {
        await Bun.sleep(1);
        return textResponse(JSON.stringify({ text: "é".repeat(size) }), "application/json");
      },
    });
    stops.push(() => server.stop(true));
    const r = await new HttpClient(server.url.origin).post("/", "", { contentType: "text/plain", accept: "*/*" }, 2000);
    expect(r).toEqual({
      status: 200,
      contentType: "application/json",
      body: JSON.stringify({ text: "é".repeat(size) }),
    });
  },
);

test("bodies in pieces on one kept-alive connection: each request carries its own bytes, shorter after longer, and past the kept buffer's size", async () => {
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    maxRequestBodySize: 1 << 30,
    fetch: async (req) => new Response(new Bun.CryptoHasher("sha256").update(await req.bytes()).digest("hex")),
  });
  stops.push(() => server.stop(true));
  const client = new HttpClient(server.url.origin);
  const piece = (text: string) => new TextEncoder().encode(text);
  // 300 KiB is over the 256 KiB a connection keeps; the requests after it reuse the kept buffer again.
  const sizes = [40_000, 100, 300 * 1024, 5, 70_000, 1];
  for (const [n, size] of sizes.entries()) {
    const pieces = [piece(String(n).repeat(size)), piece("\n"), piece(`end ${n}`)];
    const sent = Buffer.concat(pieces);
    const r = await client.post("/", pieces, JSON_HEADERS, 5000);
    expect(r.body).toBe(new Bun.CryptoHasher("sha256").update(sent).digest("hex"));
    expect(client.idleCount).toBe(1); // one connection all along
  }
});

test("an answer before the whole request was sent: that connection is not reused", async () => {
  // 32 MiB cannot go in one write; the server answers at the first bytes, reads no more, keeps the connection.
  const early = Bun.listen<{ answered: boolean }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.data = { answered: false };
      },
      data(socket) {
        if (socket.data.answered) return;
        socket.data.answered = true;
        socket.write("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 2\r\n\r\nno");
      },
    },
  });
  stops.push(() => early.stop(true));
  const client = new HttpClient(`http://127.0.0.1:${early.port}`);
  const r = await client.post("/", [new Uint8Array(32 << 20).fill(120)], JSON_HEADERS, 5000);
  expect(r).toMatchObject({ status: 413, body: "no" });
  // Reused, its next request would follow bytes of this one the server reads as a request.
  expect(client.idleCount).toBe(0);
});
