// One POST to the distributor. fetch in Bun keeps connections alive and pools them, so
// `concurrency` workers reuse about that many sockets for the whole run.

import type { ErrorBody } from "../protocol/error.ts";
import type { FetchTls } from "./tls.ts";

/** A non-2xx reply, with the distributor's {"error"} message when it sent one. */
export type HttpFailure = { status: number; message: string };

/** The status of a 2xx reply (a bare number: nothing allocated on the happy path) or the failure. */
export type SendOutcome = number | HttpFailure;

/** Sends one body; a rejected promise means no reply (connection error, timeout). */
export type Send = (body: Uint8Array) => Promise<SendOutcome>;

export type SenderOptions = {
  url: string;
  /** Ask for 202 Accepted with queued delivery instead of waiting for the analysis. */
  async: boolean;
  timeoutMs: number;
  /** Extra headers (-H), sent on every request; a repeated name sends every value. */
  headers?: readonly (readonly [name: string, value: string])[];
  /** For https: the CA, client certificate and checks from --cacert, --cert, --key, -k. */
  tls?: FetchTls;
};

const MAX_MESSAGE_LENGTH = 200;

export function createSender({ url, async, timeoutMs, headers: extra = [], tls }: SenderOptions): Send {
  const headers = new Headers({ "content-type": "application/json" });
  if (async) headers.set("prefer", "respond-async");
  // A name given with -H replaces our default rather than joining it ("application/json, text/plain").
  for (const [name] of extra) headers.delete(name);
  for (const [name, value] of extra) headers.append(name, value);
  return async function send(body) {
    const response = await fetch(url, { method: "POST", headers, body, tls, signal: AbortSignal.timeout(timeoutMs) });
    if (response.ok) {
      // Read the body to the end so the connection goes back to the pool.
      await response.arrayBuffer();
      return response.status;
    }
    return { status: response.status, message: errorMessage(await response.text(), response.statusText) };
  };
}

/** The `error` field of a JSON error body, else the start of the body, else the status text. */
export function errorMessage(body: string, statusText: string): string {
  try {
    // Any JSON may come back (another server, a proxy): only a string `error` counts.
    const parsed = JSON.parse(body) as Partial<ErrorBody> | null;
    if (typeof parsed?.error === "string") return parsed.error;
  } catch {
    // Not JSON: fall through to the raw text.
  }
  const text = body.trim().replace(/\s+/g, " ");
  if (text === "") return statusText || "(empty body)";
  return text.length > MAX_MESSAGE_LENGTH ? `${text.slice(0, MAX_MESSAGE_LENGTH)}…` : text;
}
