// The distributor's HTTP client (src/distributor/httpclient/client.ts) over TLS, against real TLS
// servers on port 0 with certificates made at test time: it verifies the server's certificate
// (CA, name, dates) before a request leaves, reuses its connections, and presents a client
// certificate to a server that asks for one. Every refusal is a connect error naming the reason,
// and the refused server never sees a request.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { TCPSocketListener } from "bun";
import { type ClientTls, HttpClient } from "../src/distributor/httpclient/client.ts";
import { ClientError } from "../src/distributor/httpclient/parser.ts";
import { type Certs, makeCerts, type Pair } from "../testkit/certs.ts";
import { serverCert } from "../testkit/tlsfront.ts";

setDefaultTimeout(60_000); // see test/setup.ts: makeCerts runs openssl

const HEADERS = { contentType: "application/json", accept: "application/x-ndjson" };
const pem = (path: string) => readFileSync(path, "utf8");

let certs: Certs;
const stops: (() => void)[] = [];
beforeAll(() => {
  certs = makeCerts();
});
afterAll(() => {
  for (const stop of stops) stop();
});

type Seen = { connections: number; requests: number };

/**
 * A real TLS server (Bun.listen) that answers every request 200 with its body, counting the TCP
 * connections it accepted and the requests it read. `clientCa`: ask for a client certificate.
 */
function tlsEcho(pair: Pair, clientCa?: string): { port: number; seen: Seen } {
  const seen: Seen = { connections: 0, requests: 0 };
  const server: TCPSocketListener<{ buf: string }> = Bun.listen<{ buf: string }>({
    hostname: "127.0.0.1",
    port: 0,
    tls: {
      cert: pem(pair.cert),
      key: pem(pair.key),
      ...(clientCa ? { ca: pem(clientCa), requestCert: true, rejectUnauthorized: true } : {}),
    },
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
          const body = socket.data.buf.slice(end + 4, end + 4 + length);
          socket.data.buf = socket.data.buf.slice(end + 4 + length);
          seen.requests++;
          socket.write(`HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
        }
      },
    },
  });
  stops.push(() => server.stop(true));
  return { port: server.port, seen };
}

const post = (client: HttpClient, body = "{}") => client.post("/analyze", body, HEADERS, 5000);
const failure = (client: HttpClient) =>
  post(client).then(
    () => {
      throw new Error("the request went through");
    },
    (error: unknown) => error as ClientError,
  );

describe("verifying the analyzer's certificate", () => {
  test("signed by the CA it is given: answers, over one kept-alive connection", async () => {
    const { port, seen } = tlsEcho(certs.server);
    const client = new HttpClient(`https://127.0.0.1:${port}`, { tls: { ca: pem(certs.ca.cert) } });
    for (let i = 0; i < 5; i++) expect((await post(client, `{"n":${i}}`)).body).toBe(`{"n":${i}}`);
    expect(client.idleCount).toBe(1);
    expect(seen).toEqual({ connections: 1, requests: 5 });
  });

  test("concurrent requests open one connection each, and every one is reused afterwards", async () => {
    const { port, seen } = tlsEcho(certs.server);
    const client = new HttpClient(`https://127.0.0.1:${port}`, { tls: { ca: pem(certs.ca.cert) } });
    const round = () => Promise.all(Array.from({ length: 6 }, (_, i) => post(client, `{"n":${i}}`)));
    const first = await round();
    const opened = seen.connections;
    expect(opened).toBeGreaterThan(0);
    expect(opened).toBeLessThanOrEqual(6);
    expect(client.idleCount).toBe(opened);
    await round();
    await round();
    expect(first.map((r) => r.body)).toEqual(Array.from({ length: 6 }, (_, i) => `{"n":${i}}`));
    expect(seen).toEqual({ connections: opened, requests: 18 });
  });

  test("a large request body (2 MiB) goes whole over TLS", async () => {
    const { port } = tlsEcho(certs.server);
    const client = new HttpClient(`https://127.0.0.1:${port}`, { tls: { ca: pem(certs.ca.cert) } });
    const big = "x".repeat(2 << 20);
    expect((await post(client, big)).body.length).toBe(big.length);
  });

  test.each<[string, () => Pair, () => ClientTls, RegExp]>([
    [
      "signed by a CA it does not trust",
      () => certs.server,
      () => ({ ca: pem(certs.otherCa.cert) }),
      /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|UNABLE_TO_GET_ISSUER/,
    ],
    [
      "without a CA file, a private CA's certificate",
      () => certs.server,
      () => ({}),
      /UNABLE_TO_VERIFY_LEAF_SIGNATURE/,
    ],
    ["expired", () => certs.expired, () => ({ ca: pem(certs.ca.cert) }), /CERT_HAS_EXPIRED/],
    [
      "for another name than the one expected",
      () => certs.server,
      () => ({ ca: pem(certs.ca.cert), serverName: "analyzer.test" }),
      /ERR_TLS_CERT_ALTNAME_INVALID/,
    ],
  ])("%s: refused at the handshake, a connect error, and no request sent", async (_, pair, tls, reason) => {
    const { port, seen } = tlsEcho(pair());
    const client = new HttpClient(`https://127.0.0.1:${port}`, { tls: tls() });
    const error = await failure(client);
    expect(error).toBeInstanceOf(ClientError);
    expect(error.kind).toBe("connect");
    expect(error.message).toMatch(/^TLS handshake with 127\.0\.0\.1:\d+( as analyzer\.test)? failed: /);
    expect(error.message).toMatch(reason);
    expect(client.idleCount).toBe(0);
    expect(seen.requests).toBe(0);
  });

  test("serverName: a certificate for a DNS name only is verified against that name, not the address", async () => {
    const named = serverCert(certs, ["DNS:analyzer.test"]);
    const { port, seen } = tlsEcho(named);
    const ca = pem(certs.ca.cert);
    const byName = new HttpClient(`https://127.0.0.1:${port}`, { tls: { ca, serverName: "analyzer.test" } });
    expect((await post(byName)).status).toBe(200);
    const byAddress = new HttpClient(`https://127.0.0.1:${port}`, { tls: { ca } });
    expect((await failure(byAddress)).message).toMatch(/ERR_TLS_CERT_ALTNAME_INVALID/);
    expect(seen.requests).toBe(1);
  });

  test("a server that speaks no TLS: a connect error", async () => {
    const plain = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("plain") });
    stops.push(() => plain.stop(true));
    const error = await failure(new HttpClient(`https://127.0.0.1:${plain.port}`, { tls: { ca: pem(certs.ca.cert) } }));
    expect(error.kind).toBe("connect");
    expect(error.message).toMatch(/^TLS handshake with 127\.0\.0\.1:\d+ failed: .*WRONG_VERSION_NUMBER/);
  });
});

describe("client certificates (mTLS)", () => {
  test("a server that requires one accepts ours and keeps the connection", async () => {
    const { port, seen } = tlsEcho(certs.server, certs.ca.cert);
    const client = new HttpClient(`https://127.0.0.1:${port}`, {
      tls: { ca: pem(certs.ca.cert), cert: pem(certs.client.cert), key: pem(certs.client.key) },
    });
    for (let i = 0; i < 3; i++) expect((await post(client)).status).toBe(200);
    expect(seen).toEqual({ connections: 1, requests: 3 });
  });

  // TLS 1.3: the client's handshake is done before the server judges its certificate, so the
  // refusal comes on the open connection, before any answer: an alert, or (Bun's server, for a
  // certificate from another CA) just the connection's end.
  test.each<[string, () => Partial<ClientTls>, RegExp]>([
    ["without a certificate", () => ({}), /TLSV1_ALERT_CERTIFICATE_REQUIRED/],
    [
      "with one from a CA it does not trust",
      () => ({ cert: pem(certs.stranger.cert), key: pem(certs.stranger.key) }),
      /UNKNOWN_CA|closed/,
    ],
  ])("a client %s is refused, and no request is read", async (_, own, reason) => {
    const { port, seen } = tlsEcho(certs.server, certs.ca.cert);
    const client = new HttpClient(`https://127.0.0.1:${port}`, { tls: { ca: pem(certs.ca.cert), ...own() } });
    const error = await failure(client);
    expect(["connect", "closed"]).toContain(error.kind);
    expect(error.message).toMatch(reason);
    expect(seen.requests).toBe(0);
    expect(client.idleCount).toBe(0);
  });

  test("a certificate without its key is a TypeError at once", () => {
    expect(() => new HttpClient("https://127.0.0.1:1", { tls: { cert: pem(certs.client.cert) } })).toThrow(
      "a client certificate needs both cert and key, got only one",
    );
  });
});
