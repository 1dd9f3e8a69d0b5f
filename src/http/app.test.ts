import { afterAll, expect, test } from "bun:test";
import { textResponse } from "./app.ts";

// Answers built after the handler has awaited, as the distributor's are, small and large.
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(req) {
    const size = Number(new URL(req.url).searchParams.get("size"));
    await Bun.sleep(1);
    return textResponse(JSON.stringify({ text: "é".repeat(size) }), "application/json");
  },
});
afterAll(() => server.stop(true));

test.each([10, 8 * 1024, 100_000])("a %i-character answer arrives whole", async (size) => {
  const want = JSON.stringify({ text: "é".repeat(size) });
  const res = await fetch(`${server.url.origin}/?size=${size}`);
  expect(res.headers.get("content-type")).toBe("application/json");
  expect(await res.text()).toBe(want);
});

test("small answers keep Content-Length; large ones go chunked", async () => {
  expect((await fetch(`${server.url.origin}/?size=10`)).headers.get("content-length")).toBe(String(Buffer.byteLength(JSON.stringify({ text: "é".repeat(10) }))));
  const large = await fetch(`${server.url.origin}/?size=20000`);
  expect(large.headers.get("transfer-encoding")).toBe("chunked");
});
