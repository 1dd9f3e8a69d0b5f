// Bad input on the control and connection surface, against real child processes: the control
// endpoints (the distributor's /admin/…, the analyzer's POST /fault) behind ADMIN_TOKEN and
// ADMIN_LOOPBACK, and the connection limits (IDLE_TIMEOUT, Bun's header timeout,
// MAX_REQUESTS_IN_FLIGHT) against raw sockets that trickle. Each refusal is checked for what the
// client gets, then that nothing else was disturbed.

import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import net from "node:net";
import { networkInterfaces } from "node:os";
import type { ErrorBody } from "../src/protocol/error.ts";
import type { AnalyzerStats, DistributorStats } from "../src/protocol/stats.ts";
import { startAnalyzer } from "../testkit/cluster.ts";
import { getJson, postJson } from "../testkit/http.ts";
import { type Env, spawnService, stopAll } from "../testkit/procs.ts";

setDefaultTimeout(60_000); // see test/setup.ts

afterAll(stopAll);

/** Neither setting, whatever the environment running the tests has. */
const DEFAULTS: Env = { ADMIN_TOKEN: "", ADMIN_LOOPBACK: "" };

const CONTROL = {
  distributor: [
    ["GET", "/admin/analyzers"],
    ["PUT", "/admin/analyzers/a1"],
    ["GET", "/admin/groups"],
    ["PUT", "/admin/groups/main"],
    ["GET", "/admin/dead-letters"],
    ["POST", "/admin/dead-letters/replay"],
    ["DELETE", "/admin/analyzers"], // a wrong method: not even the 405 shows
    ["GET", "/admin/nothing-here"],
  ],
  analyzer: [
    ["POST", "/fault"],
    ["GET", "/fault"],
  ],
} as const;
const READABLE = {
  distributor: ["/health", "/stats", "/metrics", "/"],
  analyzer: ["/health", "/stats", "/metrics", "/templates"],
} as const;
const WEIGHT = '{"weight": 0}';
const FAULT = '{"down": true}';

const errorOf = async (res: Response) => ((await res.json()) as ErrorBody).error;

async function startPair(env: Env, analyzerEnv: Env = env) {
  const analyzer = await startAnalyzer("a1", analyzerEnv);
  const distributor = await spawnService("distributor.ts", {
    ANALYZERS: analyzer.url,
    HEALTH_INTERVAL_MS: "100",
    SPOOL: "memory",
    ...env,
  });
  return { analyzer, distributor };
}

/** Every control endpoint of both programs, called with `headers`: [program, method path, status, error]. */
async function callAll(urls: { distributor: string; analyzer: string }, headers: Record<string, string>) {
  const calls = (["distributor", "analyzer"] as const).flatMap((program) =>
    CONTROL[program].map(async ([method, path]) => {
      const body = method === "PUT" ? WEIGHT : method === "POST" ? (path === "/fault" ? FAULT : "{}") : undefined;
      const res = await fetch(`${urls[program]}${path}`, { method, body, headers });
      expect(res.headers.get("content-type")).toStartWith("application/json");
      return [program, `${method} ${path}`, res.status, await errorOf(res)] as const;
    }),
  );
  return Promise.all(calls);
}

/** Nothing changed: the analyzer is not faulted, the distributor's weight is the configured one, traffic flows. */
async function undisturbed(urls: { distributor: string; analyzer: string }) {
  const analyzer = await getJson<AnalyzerStats>(`${urls.analyzer}/stats`);
  expect(analyzer.fault).toEqual({ down: false, hang: false, failureRate: 0, latency: 0 });
  const distributor = await getJson<DistributorStats>(`${urls.distributor}/stats`);
  expect(distributor.analyzers.map((a) => [a.id, a.weight])).toEqual([["a1", 1]]);
  expect((await postJson(`${urls.distributor}/analyze`, { log: "ERROR still here" })).status).toBe(200);
}

test("a default start (no ADMIN_TOKEN, no ADMIN_LOOPBACK) exposes no control endpoint on either program, and keeps the read-only ones", async () => {
  const { analyzer, distributor } = await startPair(DEFAULTS);
  const urls = { distributor: distributor.url, analyzer: analyzer.url };
  for (const headers of [{}, { authorization: "Bearer anything" }] as Record<string, string>[]) {
    for (const [program, call, status, error] of await callAll(urls, headers)) {
      expect([program, call, status]).toEqual([program, call, 404]);
      expect(error).toMatch(
        / is off: set ADMIN_TOKEN to enable it for requests with Authorization: Bearer <token>, or ADMIN_LOOPBACK=true/,
      );
    }
  }
  for (const program of ["distributor", "analyzer"] as const)
    for (const path of READABLE[program])
      expect([program, path, (await fetch(`${urls[program]}${path}`)).status]).toEqual([program, path, 200]);
  await undisturbed(urls);
});

describe("with ADMIN_TOKEN", () => {
  test.each([
    ["no Authorization header", {}],
    ["a wrong token", { authorization: "Bearer wrong" }],
    ["the token without a scheme", { authorization: "s3cret" }],
    ["the token under another scheme", { authorization: "Basic s3cret" }],
    ["the scheme alone", { authorization: "Bearer" }],
    ["the token with a suffix", { authorization: "Bearer s3cretx" }],
    ["a token of 8 KiB", { authorization: `Bearer ${"s".repeat(8192)}` }],
  ])("%s: every control endpoint of both programs answers 401 JSON, and nothing changed", async (_, headers) => {
    const { analyzer, distributor } = await startPair({ ...DEFAULTS, ADMIN_TOKEN: "s3cret" });
    const urls = { distributor: distributor.url, analyzer: analyzer.url };
    for (const [program, call, status, error] of await callAll(urls, headers)) {
      expect([program, call, status]).toEqual([program, call, 401]);
      expect(error).toBe("missing or wrong bearer token: send Authorization: Bearer <token>");
    }
    await undisturbed(urls);
    await Promise.all([analyzer.stop("SIGKILL"), distributor.stop("SIGKILL")]);
  });

  test("the right token: the weight and the fault change", async () => {
    const { analyzer, distributor } = await startPair({ ...DEFAULTS, ADMIN_TOKEN: "s3cret" });
    const headers = { authorization: "Bearer s3cret" };
    const put = await fetch(`${distributor.url}/admin/analyzers/a1`, { method: "PUT", body: '{"weight": 2}', headers });
    expect(put.status).toBe(200);
    expect((await postJson(`${analyzer.url}/fault`, { latency: 0.01 }, headers)).status).toBe(200);
    expect((await getJson<AnalyzerStats>(`${analyzer.url}/stats`)).fault.latency).toBe(0.01);
  });
});

/** This machine's first address that is not loopback: a client connecting to it is not a loopback client. */
const outside = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === "IPv4" && !a.internal)?.address;

test.skipIf(outside === undefined)(
  "with ADMIN_LOOPBACK=true on 0.0.0.0: a client on 127.0.0.1 gets through, the same machine over its other address gets the 404",
  async () => {
    const env = { ...DEFAULTS, ADMIN_LOOPBACK: "true", HOST: "0.0.0.0" };
    const { analyzer, distributor } = await startPair(env);
    // It prints http://0.0.0.0:<port>; a client names one of the machine's addresses.
    const via = (port: number, host: string) => `http://${host}:${port}`;
    const remote = { distributor: via(distributor.port, outside!), analyzer: via(analyzer.port, outside!) };
    for (const [program, call, status, error] of await callAll(remote, { authorization: "Bearer guess" })) {
      expect([program, call, status]).toEqual([program, call, 404]);
      expect(error).toMatch(
        / answers only clients on this machine \(ADMIN_LOOPBACK=true\); for remote calls set ADMIN_TOKEN instead$/,
      );
    }
    await undisturbed(remote);
    // From loopback: on, no token needed.
    expect((await fetch(`${via(distributor.port, "127.0.0.1")}/admin/analyzers`)).status).toBe(200);
    expect((await postJson(`${via(analyzer.port, "127.0.0.1")}/fault`, { latency: 0.01 })).status).toBe(200);
  },
);

// ---------------------------------------------------------------------------------------------
// Connection limits, with raw sockets

type Trickle = { closedEarly: boolean; sent: number; answer: string };

/**
 * Opens a connection, writes `head` at once, then one byte of `rest` per second until the server
 * closes the connection or `rest` runs out. `closedEarly`: the server closed it before it was all sent.
 */
function trickle(port: number, head: string, rest: string): Promise<Trickle> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let sent = 0;
    let answer = "";
    let timer: ReturnType<typeof setInterval> | undefined;
    socket.on("connect", () => {
      socket.write(head);
      timer = setInterval(() => {
        if (sent < rest.length) socket.write(rest[sent++]!);
        else socket.end();
      }, 1000);
    });
    socket.on("data", (chunk) => {
      answer += chunk;
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      clearInterval(timer);
      resolve({ closedEarly: sent < rest.length, sent, answer });
    });
  });
}

describe("connection limits (IDLE_TIMEOUT=5, MAX_REQUESTS_IN_FLIGHT=2)", () => {
  test("slowloris: headers trickled and bodies trickled are cut off unanswered; over the cap a request gets 503 + Retry-After + Connection: close; good requests before and after are served", async () => {
    const { analyzer, distributor } = await startPair({ IDLE_TIMEOUT: "5", MAX_REQUESTS_IN_FLIGHT: "2" });
    const port = distributor.port;
    // Before the trickles start: once they fill the two slots, /stats itself gets the 503.
    const stats = await getJson<DistributorStats>(`${distributor.url}/stats`);
    // 50 header bytes at one a second would take 50 s; Bun's header timeout comes first.
    const headers = trickle(port, "GET /health HTTP/1.1\r\n", `Host: a\r\nX-Pad: ${"p".repeat(40)}\r\n\r\n`);
    // Two bodies of 50 bytes at one a second: each is a request in flight until IDLE_TIMEOUT cuts it.
    const body = `{"log": "${"b".repeat(37)}"}`;
    const head = `POST /analyze HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const bodies = [trickle(port, head, body), trickle(port, head, body)];
    for (let i = 0; i < 200 && (await fetch(`${distributor.url}/health`)).status !== 503; i++) await Bun.sleep(10);

    const refused = await fetch(`${distributor.url}/health`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(refused.headers.get("connection")).toBe("close");
    expect(await errorOf(refused)).toBe("too many requests in flight (MAX_REQUESTS_IN_FLIGHT=2): retry later");
    // OTLP/HTTP's error body is a google.rpc.Status in the request's encoding, this refusal's too:
    // code 14 (UNAVAILABLE) as field 1, the message as field 2.
    const otlp = await fetch(`${distributor.url}/v1/logs`, {
      method: "POST",
      headers: { "content-type": "application/x-protobuf" },
      body: new Uint8Array(0),
    });
    expect(otlp.status).toBe(503);
    expect(otlp.headers.get("retry-after")).toBe("1");
    expect(otlp.headers.get("content-type")).toBe("application/x-protobuf");
    const why = new TextEncoder().encode("too many requests in flight (MAX_REQUESTS_IN_FLIGHT=2): retry later");
    expect([...(await otlp.bytes())]).toEqual([0x08, 14, 0x12, why.length, ...why]);

    for (const cut of [await headers, ...(await Promise.all(bodies))]) {
      expect(cut.closedEarly).toBe(true);
      expect(cut.answer).toBe(""); // closed without an answer: nothing of theirs reached a handler's reply
    }
    // The slow bodies were never taken as messages; good traffic flows again.
    const after = await getJson<DistributorStats>(`${distributor.url}/stats`);
    expect(after.received).toBe(stats.received);
    await undisturbed({ distributor: distributor.url, analyzer: analyzer.url });
    expect(distributor.exitCode).toBeNull();
  });
});
