// Control endpoints (the distributor's /admin/…, the analyzer's POST /fault) change what a running
// program does, so they are off unless an operator turns them on, as HAProxy's runtime API is until a
// stats socket is declared and Envoy's admin is meant for localhost:
//   ADMIN_TOKEN=<token>   on, for requests with Authorization: Bearer <token> (401 otherwise)
//   ADMIN_LOOPBACK=true   on, for clients connecting from a loopback address only (404 for others)
// Both: a loopback client with the token. Neither: 404 for everyone, saying how to turn them on.

import type { MiddlewareHandler } from "hono";
import { bearerCheck } from "./app.ts";
import { ControlOffError, errorResponse, UnauthorizedError } from "./errors.ts";

export type ControlOptions = {
  /** ADMIN_TOKEN: required as `Authorization: Bearer <token>` when set. */
  token: string | undefined;
  /** ADMIN_LOOPBACK: only clients on this machine. */
  loopback: boolean;
};

/** What Bun.serve passes as fetch's second argument, and hono as `c.env`: the part the gate reads. */
type PeerSource = { requestIP?: (req: Request) => { address: string } | null };

/**
 * Middleware for a control endpoint; `what` names it in the 404 ("the admin API"). The client's
 * address comes from the server hono was given (`app.fetch(req, server)`); a request without one (a
 * unix socket, an in-process app.request without an env) is not a loopback client: the gate fails closed.
 */
export function controlGate(options: ControlOptions & { what: string }): MiddlewareHandler {
  const { token, loopback, what } = options;
  const authorized = token ? bearerCheck(token) : undefined;
  return async function control(c, next) {
    if (!token && !loopback) return errorResponse(new ControlOffError(what, false));
    if (loopback && !isLoopback(clientAddress(c.env as PeerSource | undefined, c.req.raw)))
      return errorResponse(new ControlOffError(what, true));
    if (authorized && !authorized(c.req.raw)) return errorResponse(new UnauthorizedError());
    await next();
  };
}

function clientAddress(server: PeerSource | undefined, req: Request): string | null {
  return server?.requestIP?.(req)?.address ?? null;
}

/** 127.0.0.0/8, ::1, and IPv4 loopback mapped into IPv6 (a dual-stack socket's view of 127.0.0.1). */
export function isLoopback(address: string | null): boolean {
  if (address === null) return false;
  const v4 = address.startsWith("::ffff:") ? address.slice(7) : address;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) || address === "::1";
}
