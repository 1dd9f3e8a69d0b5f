import { afterEach, beforeEach, describe, expect, spyOn, test } from "bun:test";
import type { ErrorBody } from "../protocol/error.ts";
import {
  BadRequestError,
  errorResponse,
  HttpError,
  MethodNotAllowedError,
  NoHealthyAnalyzerError,
  NotFoundError,
  PayloadTooLargeError,
  QueueFullError,
  ShuttingDownError,
  UnauthorizedError,
} from "./errors.ts";

/** The headers a response carries besides content-type and content-length, lower-cased. */
function extraHeaders(res: Response): Record<string, string> {
  const out: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (name !== "content-type" && name !== "content-length") out[name] = value;
  });
  return out;
}

describe("errorResponse", () => {
  test.each([
    ["a bad request", new BadRequestError("log must be a string"), 400, "log must be a string", {}],
    [
      "a body over the limit",
      new PayloadTooLargeError(1024),
      413,
      "body is larger than 1024 bytes (MAX_BODY_BYTES): split it into smaller packets",
      {},
    ],
    [
      "a missing token",
      new UnauthorizedError(),
      401,
      "missing or wrong bearer token: send Authorization: Bearer <token>",
      { "www-authenticate": "Bearer" },
    ],
    ["an unknown path", new NotFoundError("GET", "/nope"), 404, "no such endpoint: GET /nope", {}],
    [
      "a wrong method",
      new MethodNotAllowedError("PUT", "/stats", ["GET", "HEAD"]),
      405,
      "PUT is not allowed on /stats; use GET or HEAD",
      { allow: "GET, HEAD" },
    ],
    [
      "a full queue",
      new QueueFullError(500),
      503,
      "queue full (500 messages): retry later or slow down",
      { "retry-after": "1" },
    ],
    ["no healthy analyzer", new NoHealthyAnalyzerError(), 503, "no healthy analyzer", { "retry-after": "1" }],
    [
      "a distributor shutting down",
      new ShuttingDownError(),
      503,
      "distributor is shutting down: retry on another instance",
      { "retry-after": "1", connection: "close" },
    ],
    ["a bare HttpError", new HttpError(504, "analyzer timed out"), 504, "analyzer timed out", {}],
  ])(
    "answers %s with its status, a JSON error a person can act on and its headers",
    async (_, error, status, message, headers) => {
      const res = errorResponse(error);
      expect(res.status).toBe(status);
      expect(res.headers.get("content-type")).toStartWith("application/json");
      expect(extraHeaders(res)).toEqual(headers);
      expect((await res.json()) as ErrorBody).toEqual({ error: message });
    },
  );

  test("each error class names itself, for stack traces and logs", () => {
    expect(
      [
        new BadRequestError("x"),
        new PayloadTooLargeError(1),
        new UnauthorizedError(),
        new NotFoundError("GET", "/"),
        new MethodNotAllowedError("GET", "/", ["POST"]),
        new QueueFullError(1),
        new NoHealthyAnalyzerError(),
        new ShuttingDownError(),
      ].map((e) => e instanceof HttpError && e.name),
    ).toEqual([
      "BadRequestError",
      "PayloadTooLargeError",
      "UnauthorizedError",
      "NotFoundError",
      "MethodNotAllowedError",
      "QueueFullError",
      "NoHealthyAnalyzerError",
      "ShuttingDownError",
    ]);
  });

  test("details go into the body beside the error", async () => {
    const details = {
      details: [
        { path: "logs.1", message: "must be a string" },
        { path: ["weight"], message: "must be a number" },
      ],
    };
    const res = errorResponse(new BadRequestError("logs.1 must be a string", details));
    expect((await res.json()) as ErrorBody).toEqual({ error: "logs.1 must be a string", ...details });
  });

  test("a packet's partial failure carries every message's outcome", async () => {
    const results = [
      { analyzer: "a1", result: { level: "INFO" } },
      { status: 504, error: "analyzer timed out" },
    ];
    const res = errorResponse(new HttpError(504, "1 of 2 messages failed", { results }));
    expect(res.status).toBe(504);
    expect((await res.json()) as ErrorBody).toEqual({ error: "1 of 2 messages failed", results });
  });

  describe("an unexpected error", () => {
    let consoleError: ReturnType<typeof spyOn>;
    beforeEach(() => {
      consoleError = spyOn(console, "error").mockImplementation(() => {});
    });
    afterEach(() => consoleError.mockRestore());

    test.each([
      ["an Error", new TypeError("cannot read properties of undefined (secret: hunter2)")],
      ["a thrown string", "secret: hunter2"],
      ["undefined", undefined],
    ])("%s becomes a 500 that leaks nothing, and is logged for the operator", async (_, error) => {
      const res = errorResponse(error);
      expect(res.status).toBe(500);
      expect(extraHeaders(res)).toEqual({});
      const text = await res.text();
      expect(JSON.parse(text) as ErrorBody).toEqual({ error: "internal error" });
      expect(text).not.toContain("hunter2");
      expect(consoleError.mock.calls).toEqual([["unexpected error:", error]]);
    });
  });
});
