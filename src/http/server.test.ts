// serveOptions against a real Bun.serve: the cap on requests in flight, through `fetch` and through
// `routes` alike. The timeouts against real sockets are in test/bad_input.test.ts.

import { afterEach, expect, test } from "bun:test";
import type { Server } from "bun";
import type { ErrorBody } from "../protocol/error.ts";
import { serveOptions } from "./server.ts";

let server: Server<undefined> | undefined;
afterEach(() => server?.stop(true));

/** A server whose handlers wait until release(); `served` counts the requests they answered. */
function held(maxRequestsInFlight: number) {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  let served = 0;
  const answer = async () => {
    await gate;
    served++;
    return new Response("done");
  };
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    ...serveOptions(
      { idleTimeoutSeconds: 10, maxRequestsInFlight },
      { fetch: answer, routes: { "/r": { GET: answer } } },
    ),
  });
  return { url: server.url.origin, release, served: () => served, server };
}

test.each([["/"], ["/r"]])(
  "over MAX_REQUESTS_IN_FLIGHT, a request to %s is refused with 503, Retry-After, Connection: close and the setting named",
  async (path) => {
    const s = held(2);
    const waiting = [fetch(`${s.url}${path}`), fetch(`${s.url}/other`)];
    for (let i = 0; i < 1000 && s.server.pendingRequests < 2; i++) await Bun.sleep(5);
    expect(s.server.pendingRequests).toBe(2);
    const refused = await fetch(`${s.url}${path}`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("1");
    expect(refused.headers.get("connection")).toBe("close");
    expect((await refused.json()) as ErrorBody).toEqual({
      error: "too many requests in flight (MAX_REQUESTS_IN_FLIGHT=2): retry later",
    });
    s.release();
    expect(await Promise.all(waiting.map(async (r) => (await r).status))).toEqual([200, 200]);
    expect(s.served()).toBe(2);
    // Below the cap again: served.
    expect((await fetch(`${s.url}${path}`)).status).toBe(200);
  },
);

test("the options carry the idle timeout and leave the body limit to the handlers", () => {
  const options = serveOptions({ idleTimeoutSeconds: 42, maxRequestsInFlight: 1 }, { fetch: () => new Response() });
  expect(options.idleTimeout).toBe(42);
  expect(options.maxRequestBodySize).toBe(Number.MAX_SAFE_INTEGER);
  expect("routes" in options).toBe(false);
});

test("over the cap, a path with a protocol of its own gets that protocol's error body; other paths the JSON error", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    ...serveOptions(
      { idleTimeoutSeconds: 10, maxRequestsInFlight: 1 },
      {
        fetch: async () => {
          await gate;
          return new Response("done");
        },
        refusal: (error, req) =>
          new URL(req.url).pathname === "/own"
            ? new Response(`own: ${error.status} ${error.message}`, { status: error.status, headers: error.headers })
            : undefined,
      },
    ),
  });
  const held = fetch(`${server.url.origin}/`);
  for (let i = 0; i < 1000 && server.pendingRequests < 1; i++) await Bun.sleep(5);
  const own = await fetch(`${server.url.origin}/own`);
  expect(own.status).toBe(503);
  expect(own.headers.get("retry-after")).toBe("1");
  expect(await own.text()).toBe("own: 503 too many requests in flight (MAX_REQUESTS_IN_FLIGHT=1): retry later");
  const other = await fetch(`${server.url.origin}/other`);
  expect(other.status).toBe(503);
  expect((await other.json()) as ErrorBody).toEqual({
    error: "too many requests in flight (MAX_REQUESTS_IN_FLIGHT=1): retry later",
  });
  release();
  expect((await held).status).toBe(200);
});
