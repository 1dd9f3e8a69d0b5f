import { afterAll, describe, expect, test } from "bun:test";
import {
  bearerCheck,
  createJsonApp,
  limitBody,
  readLimitedBody,
  readText,
  SERVER_BODY_CAP,
  textResponse,
} from "./app.ts";
import { BadRequestError, type HttpError } from "./errors.ts";

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
  expect((await fetch(`${server.url.origin}/?size=10`)).headers.get("content-length")).toBe(
    String(Buffer.byteLength(JSON.stringify({ text: "é".repeat(10) }))),
  );
  const large = await fetch(`${server.url.origin}/?size=20000`);
  expect(large.headers.get("transfer-encoding")).toBe("chunked");
});

describe("the body limit", () => {
  /** A body stream in `pieces`, recording how many were read; `fail` breaks it after them. */
  function streamOf(pieces: string[], fail = false) {
    const read = { count: 0 };
    const encoder = new TextEncoder();
    // highWaterMark 0: a piece is made only when the reader asks for it
    const stream = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          if (read.count === pieces.length)
            return fail ? controller.error(new Error("connection reset")) : controller.close();
          controller.enqueue(encoder.encode(pieces[read.count++]));
        },
      },
      { highWaterMark: 0 },
    );
    return { stream, read };
  }
  const request = (body: RequestInit["body"], headers: Record<string, string> = {}) =>
    new Request("http://x/", { method: "POST", body, headers });
  const statusOf = (p: Promise<unknown>) =>
    p.then(
      () => 200,
      (e: HttpError) => e.status,
    );

  test("a declared length over the limit is refused before anything is read", async () => {
    const { stream, read } = streamOf(["0123456789", "0123456789"]);
    expect(await statusOf(readLimitedBody(request(stream, { "content-length": "20" }), 10))).toBe(413);
    expect(read.count).toBe(0);
  });

  test("a chunked body is refused as it crosses the limit, without reading the rest", async () => {
    const { stream, read } = streamOf(["0123456", "789ab", "c", "d"]);
    expect(await statusOf(readLimitedBody(request(stream), 10))).toBe(413);
    expect(read.count).toBe(2);
  });

  test.each([
    ["declared", { "content-length": "10" }],
    ["chunked", {}],
  ])("a %s body of exactly the limit is read whole", async (_, headers) => {
    expect(await readLimitedBody(request(streamOf(["01234", "56789"]).stream, headers), 10)).toBe("0123456789");
  });

  test("a chunked body decodes as Request.text() does: invalid bytes as U+FFFD, a byte order mark dropped", async () => {
    const bytes = Uint8Array.from([0xef, 0xbb, 0xbf, 0x61, 0xff, 0x62]);
    const want = await request(bytes).text();
    const split = new ReadableStream<Uint8Array>({
      start(c) {
        for (const b of bytes) c.enqueue(Uint8Array.of(b)); // a character split across pieces, too
        c.close();
      },
    });
    expect(await readLimitedBody(request(split), 10)).toBe(want);
    expect(want).toBe("a\uFFFDb");
  });

  test("a body that breaks off mid-read is the client's 400", async () => {
    const { stream } = streamOf(["012"], true);
    const error = await readLimitedBody(request(stream), 10).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BadRequestError);
    expect((error as Error).message).toMatch(/request body could not be read: connection reset/);
  });

  test("no body reads as empty", async () => {
    expect(await readLimitedBody(request(null), 10)).toBe("");
  });

  describe("as hono middleware, over HTTP", () => {
    let refused = 0;
    const app = createJsonApp();
    app.post(
      "/",
      limitBody(10, () => refused++),
      async (c) => c.json({ text: await readText(c) }),
    );
    const limited = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: app.fetch,
      maxRequestBodySize: SERVER_BODY_CAP,
    });
    afterAll(() => limited.stop(true));
    const post = (body: RequestInit["body"]) => fetch(limited.url, { method: "POST", body });

    test.each([
      ["declared", () => "0123456789"],
      ["chunked", () => streamOf(["01234", "56789"]).stream],
    ])("a %s body within the limit reaches the handler whole", async (_, body) => {
      const res = await post(body());
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ text: "0123456789" });
    });

    test.each([
      ["declared", () => "0123456789a"],
      ["chunked", () => streamOf(["01234", "56789", "a"]).stream],
    ])("a %s body over the limit gets the JSON 413, and onRefuse hears of it", async (_, body) => {
      const before = refused;
      const res = await post(body());
      expect(res.status).toBe(413);
      expect(await res.json()).toEqual({
        error: "body is larger than 10 bytes (MAX_BODY_BYTES): split it into smaller packets",
      });
      expect(refused).toBe(before + 1);
    });
  });
});

describe("bearerCheck", () => {
  const authorized = bearerCheck("s3cret");
  test.each([
    ["Bearer s3cret", true],
    ["Bearer  s3cret ", true],
    ["Bearer wrong", false],
    ["Bearer s3cret2", false],
    ["s3cret", false],
    ["Basic s3cret", false],
    [undefined, false],
  ])("Authorization: %p is %p", (header, want) => {
    expect(
      authorized(new Request("http://x/", { headers: header === undefined ? {} : { authorization: header } })),
    ).toBe(want);
  });
});
