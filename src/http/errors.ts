// Every error a client can get, as a named class carrying its status; errorResponse() is the one
// place that turns them into JSON responses ({"error": "<what to do>"}, plus details for some): an
// ErrorBody, the type src/protocol/error.ts defines for every reader.

import type { ErrorBody, ErrorDetails } from "../protocol/error.ts";

export class HttpError extends Error {
  override name = "HttpError";
  constructor(
    readonly status: number,
    message: string,
    readonly details?: ErrorDetails,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export class BadRequestError extends HttpError {
  override name = "BadRequestError";
  constructor(message: string, details?: ErrorDetails) {
    super(400, message, details);
  }
}

export class PayloadTooLargeError extends HttpError {
  override name = "PayloadTooLargeError";
  constructor(maxBytes: number) {
    super(413, `body is larger than ${maxBytes} bytes (MAX_BODY_BYTES): split it into smaller packets`);
  }
}

export class UnauthorizedError extends HttpError {
  override name = "UnauthorizedError";
  constructor() {
    super(401, "missing or wrong bearer token: send Authorization: Bearer <token>", undefined, {
      "www-authenticate": "Bearer",
    });
  }
}

export class NotFoundError extends HttpError {
  override name = "NotFoundError";
  constructor(method: string, path: string) {
    super(404, `no such endpoint: ${method} ${path}`);
  }
}

export class MethodNotAllowedError extends HttpError {
  override name = "MethodNotAllowedError";
  constructor(method: string, path: string, allow: string[]) {
    super(405, `${method} is not allowed on ${path}; use ${allow.join(" or ")}`, undefined, {
      allow: allow.join(", "),
    });
  }
}

/**
 * A control endpoint (the distributor's /admin/…, the analyzer's POST /fault) that is not enabled
 * for this client: a 404, as for a path that does not exist, saying how an operator turns it on.
 */
export class ControlOffError extends HttpError {
  override name = "ControlOffError";
  constructor(what: string, loopbackOnly: boolean) {
    super(
      404,
      loopbackOnly
        ? `${what} answers only clients on this machine (ADMIN_LOOPBACK=true); for remote calls set ADMIN_TOKEN instead`
        : `${what} is off: set ADMIN_TOKEN to enable it for requests with Authorization: Bearer <token>, or ADMIN_LOOPBACK=true for clients on this machine only`,
    );
  }
}

/** Retry-After for the 503s: a health interval is about how long a recovery takes to be seen. */
const RETRY_AFTER_SECONDS = "1";

export class QueueFullError extends HttpError {
  override name = "QueueFullError";
  constructor(capacity: number) {
    super(503, `queue full (${capacity} messages): retry later or slow down`, undefined, {
      "retry-after": RETRY_AFTER_SECONDS,
    });
  }
}

export class NoHealthyAnalyzerError extends HttpError {
  override name = "NoHealthyAnalyzerError";
  constructor() {
    super(503, "no healthy analyzer", undefined, { "retry-after": RETRY_AFTER_SECONDS });
  }
}

export class ShuttingDownError extends HttpError {
  override name = "ShuttingDownError";
  constructor() {
    super(503, "distributor is shutting down: retry on another instance", undefined, {
      "retry-after": RETRY_AFTER_SECONDS,
      connection: "close",
    });
  }
}

/** More requests in flight than MAX_REQUESTS_IN_FLIGHT: refused, and the connection closed to shed it. */
export class TooManyRequestsInFlightError extends HttpError {
  override name = "TooManyRequestsInFlightError";
  constructor(max: number) {
    super(503, `too many requests in flight (MAX_REQUESTS_IN_FLIGHT=${max}): retry later`, undefined, {
      "retry-after": RETRY_AFTER_SECONDS,
      connection: "close",
    });
  }
}

/** Async messages could not be stored (spool full, disk full, I/O error): refused, never dropped. */
export class SpoolUnavailableError extends HttpError {
  override name = "SpoolUnavailableError";
  constructor(reason: string) {
    super(503, `${reason}: async requests are refused until it can store them again; retry later`, undefined, {
      "retry-after": RETRY_AFTER_SECONDS,
    });
  }
}

/** The error as a client sees it: an HttpError as it is, anything else (a bug) logged and a 500. */
export function asHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  console.error("unexpected error:", error);
  return new HttpError(500, "internal error");
}

export function errorResponse(error: unknown): Response {
  const e = asHttpError(error);
  return Response.json({ error: e.message, ...e.details } satisfies ErrorBody, {
    status: e.status,
    headers: e.headers,
  });
}
