// What both programs hand to Bun.serve besides where to listen: the connection limits and the body
// cap, in one place (src/http/server.ts), so that whoever changes how the servers are started wraps
// this one function. What each limit does, as measured on Bun 1.4.5 (docs/operations.md#connection-limits):
// - IDLE_TIMEOUT: a connection is closed after this many seconds without a complete exchange:
//   idle between keep-alive requests, a request body still arriving (trickled bytes do not extend
//   it), or a handler still working. Bun checks in 4 s ticks, so the close comes up to ~4 s late.
// - headers: a connection that has not finished sending its request headers is closed after ~12 s
//   whatever IDLE_TIMEOUT says (uWS's fixed header timeout, not configurable; bytes do not extend it).
// - MAX_REQUESTS_IN_FLIGHT: Bun.serve has no connection count or connection events, so the cap is on
//   what it does count, requests in flight; over it a request is answered 503 with Retry-After and
//   Connection: close. Idle connections are bounded by IDLE_TIMEOUT, not counted.

import type { Server } from "bun";
import { type Settings, wholeNumber } from "../config/env.ts";
import { SERVER_BODY_CAP } from "./app.ts";
import { errorResponse, type HttpError, TooManyRequestsInFlightError } from "./errors.ts";

/**
 * Above the distributor's HTTP client's keep-alive reuse window (httpclient/client.ts: 4 s), so an
 * analyzer never closes a pooled connection the distributor is about to reuse; Bun's own default.
 */
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 10;
/** As nginx's worker_connections default; the load tester's default concurrency is 50. */
export const DEFAULT_MAX_REQUESTS_IN_FLIGHT = 1024;

/** The settings both programs take for their server; each program's config lists them. */
export const serverSettings = {
  idleTimeoutSeconds: {
    env: "IDLE_TIMEOUT",
    // 5: above the distributor's 4 s keep-alive reuse; 255: Bun's maximum.
    schema: wholeNumber(DEFAULT_IDLE_TIMEOUT_SECONDS, 5, 255),
    doc: "seconds a connection may go without a complete exchange before it is closed: idle between requests, a request body still arriving (bytes trickling in do not extend it) or an answer not ready yet; Bun closes up to ~4 s later. Unfinished request headers are cut after ~12 s regardless (see [connection limits](operations.md#connection-limits))",
  },
  maxRequestsInFlight: {
    env: "MAX_REQUESTS_IN_FLIGHT",
    schema: wholeNumber(DEFAULT_MAX_REQUESTS_IN_FLIGHT, 1, 1_000_000),
    doc: "requests being read or answered at once; beyond it a request gets 503 + `Retry-After` + `Connection: close` (Bun counts requests, not connections: idle connections are bounded by `IDLE_TIMEOUT` instead)",
  },
} satisfies Settings;

export type ServerLimits = { idleTimeoutSeconds: number; maxRequestsInFlight: number };

type Handler = (req: Request, server: Server<undefined>) => Response | Promise<Response>;
export type Handlers = {
  fetch: Handler;
  /** Bun.serve's `routes`: path → method → handler. */
  routes?: Record<string, Record<string, Handler>>;
  /**
   * The answer to a request refused before any handler saw it (too many in flight), for a path
   * whose protocol defines its own error body (OTLP's google.rpc.Status); undefined: the JSON error.
   */
  refusal?: (error: HttpError, req: Request) => Response | undefined;
};

/** Bun.serve's options for `handlers` under `limits`: spread them beside port and hostname. */
export function serveOptions(limits: ServerLimits, handlers: Handlers) {
  const limited = limitInFlight(limits.maxRequestsInFlight, handlers.refusal);
  const routes = handlers.routes
    ? Object.fromEntries(
        Object.entries(handlers.routes).map(([path, methods]) => [
          path,
          Object.fromEntries(Object.entries(methods).map(([method, handler]) => [method, limited(handler)])),
        ]),
      )
    : undefined;
  return {
    idleTimeout: limits.idleTimeoutSeconds,
    maxRequestBodySize: SERVER_BODY_CAP,
    fetch: limited(handlers.fetch),
    ...(routes && { routes }),
  };
}

/** Wraps a handler so that a request beyond `max` in flight (itself included) is refused. */
export function limitInFlight(max: number, refusal?: Handlers["refusal"]): (handler: Handler) => Handler {
  return (handler) =>
    function limited(req, server) {
      if (server.pendingRequests <= max) return handler(req, server);
      const error = new TooManyRequestsInFlightError(max);
      return refusal?.(error, req) ?? errorResponse(error);
    };
}
