// The control gate in-process: a hono app with one guarded route, its client address given as the
// server Bun.serve would pass (app.request's env). The same gate against real servers and processes
// is in test/control.test.ts.

import { describe, expect, test } from "bun:test";
import type { ErrorBody } from "../protocol/error.ts";
import { createJsonApp } from "./app.ts";
import { type ControlOptions, controlGate, isLoopback } from "./control.ts";

function guarded(options: ControlOptions) {
  const app = createJsonApp();
  app.use("/ctl", controlGate({ ...options, what: "the thing" }));
  app.post("/ctl", (c) => c.json({ done: true }));
  /** POST /ctl from `address` (null: no server to ask, as for a unix socket). */
  return (address: string | null, headers: Record<string, string> = {}) =>
    app.request("/ctl", { method: "POST", headers }, address === null ? undefined : fakeServer(address));
}

const fakeServer = (address: string) => ({ requestIP: () => ({ address, family: "IPv4", port: 40000 }) });
const errorOf = async (res: Response) => ((await res.json()) as ErrorBody).error;

const OFF =
  "the thing is off: set ADMIN_TOKEN to enable it for requests with Authorization: Bearer <token>, or ADMIN_LOOPBACK=true for clients on this machine only";
const LOOPBACK_ONLY =
  "the thing answers only clients on this machine (ADMIN_LOOPBACK=true); for remote calls set ADMIN_TOKEN instead";
const TOKEN = { authorization: "Bearer s3cret" };

describe("neither ADMIN_TOKEN nor ADMIN_LOOPBACK", () => {
  test.each([["127.0.0.1"], ["192.0.2.2"], [null]])("from %p: 404 saying how to turn it on", async (address) => {
    const res = await guarded({ token: undefined, loopback: false })(address, TOKEN);
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toBe(OFF);
  });
});

describe("ADMIN_TOKEN", () => {
  const call = guarded({ token: "s3cret", loopback: false });
  test.each([
    ["no Authorization header", {}],
    ["a wrong token", { authorization: "Bearer guess" }],
    ["the token without a scheme", { authorization: "s3cret" }],
    ["another scheme", { authorization: "Basic czNjcmV0" }],
    ["the scheme alone", { authorization: "Bearer" }],
    ["the scheme and a blank", { authorization: "Bearer " }],
    ["a token that starts like it", { authorization: "Bearer s3cret2" }],
    ["bytes that are not text", { authorization: "Bearer \u00ff\u00fe" }],
  ])("%s: 401 with WWW-Authenticate: Bearer", async (_, headers) => {
    const res = await call("192.0.2.2", headers);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe("Bearer");
    expect(await errorOf(res)).toBe("missing or wrong bearer token: send Authorization: Bearer <token>");
  });

  test.each([["127.0.0.1"], ["192.0.2.2"], [null]])("the right token from %p: through", async (address) => {
    expect((await call(address, TOKEN)).status).toBe(200);
  });
});

describe("ADMIN_LOOPBACK=true", () => {
  const call = guarded({ token: undefined, loopback: true });
  test.each([["127.0.0.1"], ["127.3.2.1"], ["::1"], ["::ffff:127.0.0.1"]])(
    "a client at %s needs no token",
    async (address) => {
      expect((await call(address)).status).toBe(200);
    },
  );

  test.each([["192.0.2.2"], ["::ffff:192.0.2.2"], ["fd00::2"], [null]])(
    "a client at %p gets the 404, token or not",
    async (address) => {
      const res = await call(address, TOKEN);
      expect(res.status).toBe(404);
      expect(await errorOf(res)).toBe(LOOPBACK_ONLY);
    },
  );
});

describe("both", () => {
  const call = guarded({ token: "s3cret", loopback: true });
  test("a loopback client needs the token too", async () => {
    expect((await call("127.0.0.1")).status).toBe(401);
    expect((await call("127.0.0.1", TOKEN)).status).toBe(200);
  });

  test("another client gets the 404 even with the token: it cannot try tokens", async () => {
    const res = await call("192.0.2.2", TOKEN);
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toBe(LOOPBACK_ONLY);
  });
});

test.each([
  ["127.0.0.1", true],
  ["127.255.255.254", true],
  ["::1", true],
  ["::ffff:127.0.0.1", true],
  ["128.0.0.1", false],
  ["10.127.0.1", false],
  ["::ffff:10.0.0.1", false],
  ["::2", false],
  ["0:0:0:0:0:0:0:1", false], // Bun reports ::1 in its short form; a long one is refused, never let through
  ["localhost", false],
  ["", false],
  [null, false],
])("isLoopback(%p) is %p", (address, loopback) => {
  expect(isLoopback(address)).toBe(loopback);
});
