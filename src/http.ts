// HTTP plumbing shared by the distributor and the analyzer: JSON errors for every failure, 404 for
// unknown paths, 405 (with Allow) for known paths with the wrong method, and a body size limit that
// counts bytes as they arrive, so a chunked body without Content-Length is cut off too.

import { createHash, timingSafeEqual } from "node:crypto";
import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { errorResponse, HttpError, MethodNotAllowedError, NotFoundError, PayloadTooLargeError, UnauthorizedError } from "./errors.ts";

export function createJsonApp(): Hono {
  const app = new Hono();
  app.notFound((c) => errorResponse(new NotFoundError(c.req.method, c.req.path)));
  app.onError((error) => {
    // hono's own exceptions (e.g. a body stream that broke mid-read) keep their status.
    if (error instanceof HTTPException) return errorResponse(new HttpError(error.status, error.message || "bad request"));
    return errorResponse(error);
  });
  return app;
}

/** Answers 405 on `path` for every method not routed before this call. */
export function allowOnly(app: Hono, path: string, allow: string[]): void {
  app.all(path, (c) => errorResponse(new MethodNotAllowedError(c.req.method, path, allow)));
}

export function limitBody(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => errorResponse(new PayloadTooLargeError(maxBytes)),
  });
}

/** The server's own cap, a little above ours, so oversized bodies reach limitBody's JSON 413. */
export function serverBodyCap(maxBytes: number): number {
  return maxBytes + 64 * 1024;
}

/** Requires `Authorization: Bearer <token>` when a token is configured; a no-op otherwise. */
export function requireToken(token: string | undefined): MiddlewareHandler {
  if (!token) return async function noToken(_c, next) {
    await next();
  };
  // Compare digests so the comparison takes the same time whatever the length of the guess.
  const want = createHash("sha256").update(token).digest();
  return async function bearerToken(c, next) {
    const header = c.req.header("authorization") ?? "";
    const given = header.startsWith("Bearer ") ? header.slice(7).trim() : "";
    if (!timingSafeEqual(createHash("sha256").update(given).digest(), want)) return errorResponse(new UnauthorizedError());
    await next();
  };
}
