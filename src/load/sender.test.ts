import { afterAll, describe, expect, test } from "bun:test";
import { createSender, errorMessage } from "./sender.ts";

const seen: { prefer: string | null; contentType: string | null; body: string; headers: Headers }[] = [];

// A stand-in for the distributor that answers according to the body it gets.
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(request) {
    const body = await request.text();
    const { headers } = request;
    seen.push({ prefer: headers.get("prefer"), contentType: headers.get("content-type"), body, headers });
    if (body === "full")
      return Response.json({ error: "queue is full" }, { status: 503, headers: { "retry-after": "1" } });
    if (body === "plain") return new Response("upstream  exploded\n", { status: 502 });
    if (body === "slow") await Bun.sleep(1_000);
    return Response.json({ analyzer: "a1", result: {} });
  },
});
const url = `http://127.0.0.1:${server.port}/analyze`;
const bytes = (text: string) => new TextEncoder().encode(text);

afterAll(() => server.stop(true));

describe("createSender", () => {
  test("a 2xx reply is its bare status, and the body goes out as JSON", async () => {
    const send = createSender({ url, async: false, timeoutMs: 5_000 });
    expect(await send(bytes('{"log":"x"}'))).toBe(200);
    expect(seen.at(-1)).toMatchObject({ prefer: null, contentType: "application/json", body: '{"log":"x"}' });
  });

  test("async mode asks the distributor to respond asynchronously", async () => {
    await createSender({ url, async: true, timeoutMs: 5_000 })(bytes("{}"));
    expect(seen.at(-1)!.prefer).toBe("respond-async");
  });

  test("extra headers go out on every request; a repeated name sends both values", async () => {
    const send = createSender({
      url,
      async: false,
      timeoutMs: 5_000,
      headers: [
        ["Authorization", "Bearer s3cret"],
        ["X-Tag", "a"],
        ["X-Tag", "b"],
      ],
    });
    for (let i = 0; i < 2; i++) {
      await send(bytes("{}"));
      expect(seen.at(-1)!.headers.get("authorization")).toBe("Bearer s3cret");
      expect(seen.at(-1)!.headers.get("x-tag")).toBe("a, b");
    }
  });

  test("an extra header replaces a default of the same name instead of joining it", async () => {
    const send = createSender({
      url,
      async: true,
      timeoutMs: 5_000,
      headers: [
        ["Content-Type", "text/plain"],
        ["prefer", "wait=1"],
      ],
    });
    await send(bytes("{}"));
    expect(seen.at(-1)).toMatchObject({ contentType: "text/plain", prefer: "wait=1" });
  });

  test("a JSON error reply carries the distributor's message", async () => {
    const send = createSender({ url, async: false, timeoutMs: 5_000 });
    expect(await send(bytes("full"))).toEqual({ status: 503, message: "queue is full" });
    expect(await send(bytes("plain"))).toEqual({ status: 502, message: "upstream exploded" });
  });

  test("a reply slower than the timeout rejects with a TimeoutError", async () => {
    const send = createSender({ url, async: false, timeoutMs: 20 });
    await expect(send(bytes("slow"))).rejects.toMatchObject({ name: "TimeoutError" });
  });
});

describe("errorMessage", () => {
  test.each([
    ['{"error":"no healthy analyzer"}', "Service Unavailable", "no healthy analyzer"],
    ['{"message":"other shape"}', "Bad Request", '{"message":"other shape"}'],
    ["", "Bad Gateway", "Bad Gateway"],
    ["", "", "(empty body)"],
  ])("body %p with status text %p reads %p", (body, statusText, message) => {
    expect(errorMessage(body, statusText)).toBe(message);
  });

  test("a long non-JSON body is cut to 200 characters", () => {
    expect(errorMessage("x".repeat(300), "")).toBe(`${"x".repeat(200)}…`);
  });
});
