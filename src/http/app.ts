// HTTP plumbing shared by the distributor and the analyzer: JSON errors for every failure, 404 for
// unknown paths, 405 (with Allow) for known paths with the wrong method, and a body size limit that
// counts bytes as they arrive, so a chunked body without Content-Length is cut off too.

import { createHash, timingSafeEqual } from "node:crypto";
import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import { getPath } from "hono/utils/url";
import type { Context } from "hono";
import type { z } from "zod";
import { BadRequestError, errorResponse, HttpError, MethodNotAllowedError, NotFoundError, PayloadTooLargeError, UnauthorizedError } from "./errors.ts";

export function createJsonApp(): Hono {
  // Without a Host header (HTTP/1.0, as HAProxy's default httpchk sends) Bun hands over a relative
  // URL, which hono's path extraction would cut in the wrong place.
  const app = new Hono({ getPath: (req) => getPath(req.url.charCodeAt(0) === 47 ? ({ url: `http://host${req.url}` } as Request) : req) });
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

export function limitBody(maxBytes: number, onRefuse?: () => void): MiddlewareHandler {
  const limit = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      onRefuse?.();
      return errorResponse(new PayloadTooLargeError(maxBytes));
    },
  });
  return async function limitedBody(c, next) {
    // Only the body reading can throw here: hono answers for the handlers behind next() itself.
    try {
      return await limit(c, next);
    } catch (error) {
      onRefuse?.();
      return errorResponse(unreadableBody(error));
    }
  };
}

/**
 * Bun's own body cap, set out of the way so that every oversized body gets limitBody's JSON 413:
 * limitBody refuses a declared length without reading the body and stops a chunked one at the
 * limit, so nothing larger than MAX_BODY_BYTES is ever buffered.
 */
export const SERVER_BODY_CAP = Number.MAX_SAFE_INTEGER;

/** The request body as text; a body that breaks off mid-read is the client's 400, not our 500. */
export function readText(c: Context): Promise<string> {
  return readBodyText(c.req.raw);
}

/** readText for a bare Request (one routed by Bun, not hono). */
export async function readBodyText(req: Request): Promise<string> {
  try {
    return await req.text();
  } catch (error) {
    throw unreadableBody(error);
  }
}

/** A body that broke off while being read (the client went away, a bad chunk): the client's 400. */
function unreadableBody(error: unknown): BadRequestError {
  return new BadRequestError(`request body could not be read: ${error instanceof Error ? error.message : String(error)}`);
}

/**
 * Requires `Authorization: Bearer <token>` on `method path` when a token is configured. Call it
 * before registering the route's handler. Without a token it registers nothing at all, so the hot
 * path pays nothing for the option.
 */
export function requireToken(app: Hono, method: string, path: string, token: string | undefined): void {
  if (!token) return;
  // Compare digests so the comparison takes the same time whatever the length of the guess.
  const want = createHash("sha256").update(token).digest();
  const bearerToken: MiddlewareHandler = async function bearerToken(c, next) {
    const header = c.req.header("authorization") ?? "";
    const given = header.startsWith("Bearer ") ? header.slice(7).trim() : "";
    if (!timingSafeEqual(createHash("sha256").update(given).digest(), want)) return errorResponse(new UnauthorizedError());
    await next();
  };
  app.on(method, path, bearerToken);
}

/**
 * A finished text body as a Response, for answers completed after the handler has awaited
 * something. Bun 1.4 corks a socket only while the request handler runs synchronously: a later
 * response that does not fit its 16 KiB cork buffer goes out one header fragment per send(), about
 * 15 syscalls, ~80 µs of CPU for a 100-log answer (measured; oven-sh/bun#41341). Handed over as one
 * stream chunk it leaves in one send(). That costs chunked framing instead of Content-Length and a
 * few µs of stream setup (still ~3× cheaper than fragmented writes), so only bodies that could overflow the cork buffer take that path.
 */
export function textResponse(body: string, contentType: string): Response {
  const headers = { "content-type": contentType };
  if (body.length <= STREAM_ABOVE_CHARS) return new Response(body, { headers });
  // Bun's "direct" stream writes the string straight into the socket's buffer: no copy to bytes first.
  const once = new ReadableStream({ type: "direct", pull: (c) => (c.write(body), c.close()) });
  return new Response(once, { headers });
}
const STREAM_ABOVE_CHARS = 8 * 1024;

/** A small JSON body checked with `schema`: any problem is a 400 naming the field, ending in `usage`. */
export async function readJsonBody<S extends z.ZodType>(c: Context, schema: S, usage: string): Promise<z.infer<S>> {
  const text = await readText(c);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new BadRequestError(`body must be JSON: ${usage}`);
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const what = issue.code === "unrecognized_keys" ? `unknown field(s): ${issue.keys.join(", ")}` : `${issue.path.join(".") || "body"} ${issue.message}`;
    throw new BadRequestError(`${what}: ${usage}`, { details: parsed.error.issues });
  }
  return parsed.data;
}
