// HTTP plumbing shared by the distributor and the analyzer: JSON errors for every failure, 404 for
// unknown paths, 405 (with Allow) for known paths with the wrong method, and a body size limit that
// counts bytes as they arrive, so a chunked body without Content-Length is cut off too.

import { createHash, timingSafeEqual } from "node:crypto";
import type { Context } from "hono";
import { Hono, type MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { getPath } from "hono/utils/url";
import type { z } from "zod";
import {
  BadRequestError,
  errorResponse,
  HttpError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
} from "./errors.ts";

export function createJsonApp(): Hono {
  // Without a Host header (HTTP/1.0, as HAProxy's default httpchk sends) Bun hands over a relative
  // URL, which hono's path extraction would cut in the wrong place.
  const app = new Hono({
    getPath: (req) => getPath(req.url.charCodeAt(0) === 47 ? ({ url: `http://host${req.url}` } as Request) : req),
  });
  app.notFound((c) => errorResponse(new NotFoundError(c.req.method, c.req.path)));
  app.onError((error) => {
    // hono's own exceptions (e.g. a body stream that broke mid-read) keep their status.
    if (error instanceof HTTPException)
      return errorResponse(new HttpError(error.status, error.message || "bad request"));
    return errorResponse(error);
  });
  return app;
}

/** Answers 405 on `path` for every method not routed before this call. */
export function allowOnly(app: Hono, path: string, allow: string[]): void {
  app.all(path, (c) => errorResponse(new MethodNotAllowedError(c.req.method, path, allow)));
}

/**
 * The body limit for hono routes that read with readText(c): a declared length over `maxBytes` is
 * refused without reading the body; a chunked body is read here and refused as it crosses the limit
 * (as hono's bodyLimit does). `onRefuse` hears of every body refused, too large or unreadable.
 */
export function limitBody(maxBytes: number, onRefuse?: () => void): MiddlewareHandler {
  return async function limitedBody(c, next) {
    const req = c.req.raw;
    try {
      if (!declaredWithin(req, maxBytes) && req.body)
        c.req.raw = new Request(req, { body: await readUpTo(req.body, maxBytes) });
    } catch (error) {
      onRefuse?.();
      return errorResponse(error);
    }
    await next();
  };
}

/**
 * The request body as text, refused with a 413 when it is larger than `maxBytes` (the same limit as
 * limitBody, for a handler that takes a bare Request); a body that breaks off mid-read is a 400.
 */
export async function readLimitedBody(req: Request, maxBytes: number): Promise<string> {
  if (declaredWithin(req, maxBytes) || !req.body) return textOf(req);
  return utf8.decode(await readUpTo(req.body, maxBytes));
}

/** The request body as bytes, within `maxBytes` as readLimitedBody counts them: for formats that are not text. */
export async function readLimitedBytes(req: Request, maxBytes: number): Promise<Uint8Array> {
  if (!declaredWithin(req, maxBytes) && req.body) return readUpTo(req.body, maxBytes);
  try {
    return await req.bytes();
  } catch (error) {
    throw unreadableBody(error);
  }
}

/**
 * Bun's own body cap, set out of the way so that every oversized body gets our JSON 413: the limit
 * refuses a declared length without reading the body and stops a chunked one at the limit, so
 * nothing larger than MAX_BODY_BYTES is ever buffered.
 */
export const SERVER_BODY_CAP = Number.MAX_SAFE_INTEGER;

/** The request body as text (behind limitBody); a body that breaks off mid-read is the client's 400, not our 500. */
export function readText(c: Context): Promise<string> {
  return textOf(c.req.raw);
}

async function textOf(req: Request): Promise<string> {
  try {
    return await req.text();
  } catch (error) {
    throw unreadableBody(error);
  }
}

/**
 * True when the body's length is declared and within `maxBytes` (Bun then reads no more than that);
 * throws the 413 when it is declared and over; false when the body is chunked.
 */
function declaredWithin(req: Request, maxBytes: number): boolean {
  const declared = req.headers.get("content-length");
  if (declared === null || req.headers.has("transfer-encoding")) return false;
  if (Number(declared) > maxBytes) throw new PayloadTooLargeError(maxBytes);
  return true;
}

/** A body of undeclared length, counted as it arrives and refused as soon as it passes `maxBytes`. */
async function readUpTo(body: ReadableStream<Uint8Array>, maxBytes: number): Promise<Uint8Array> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let chunk: Awaited<ReturnType<typeof reader.read>>;
    try {
      chunk = await reader.read();
    } catch (error) {
      throw unreadableBody(error);
    }
    if (chunk.done) return Buffer.concat(chunks, size);
    size += chunk.value.length;
    if (size > maxBytes) {
      reader.cancel().catch(() => {});
      throw new PayloadTooLargeError(maxBytes);
    }
    chunks.push(chunk.value);
  }
}

// As Request.text() decodes: invalid bytes become U+FFFD, a byte order mark is dropped.
const utf8 = new TextDecoder();

/** A body that broke off while being read (the client went away, a bad chunk): the client's 400. */
function unreadableBody(error: unknown): BadRequestError {
  return new BadRequestError(
    `request body could not be read: ${error instanceof Error ? error.message : String(error)}`,
  );
}

/** Whether a request carries `Authorization: Bearer <token>`, for a handler that takes a bare Request. */
export function bearerCheck(token: string): (req: Request) => boolean {
  // Compare digests so the comparison takes the same time whatever the length of the guess.
  const want = createHash("sha256").update(token).digest();
  return function authorized(req) {
    const header = req.headers.get("authorization") ?? "";
    const given = header.startsWith("Bearer ") ? header.slice(7).trim() : "";
    return timingSafeEqual(createHash("sha256").update(given).digest(), want);
  };
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
  const once = new ReadableStream({
    type: "direct",
    pull(c) {
      c.write(body);
      c.close();
    },
  });
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
    const what =
      issue.code === "unrecognized_keys"
        ? `unknown field(s): ${issue.keys.join(", ")}`
        : `${issue.path.join(".") || "body"} ${issue.message}`;
    throw new BadRequestError(`${what}: ${usage}`, { details: parsed.error.issues });
  }
  return parsed.data;
}
