// Sends one batch of messages to one analyzer in its batch form, {"logs": [...]}, over a kept-alive
// connection (Bun's fetch pools them), and classifies what came back for the dispatcher.

import { describeFetchError } from "./health.ts";
import type { Upstream } from "./upstream.ts";

export type ForwardResult =
  | { ok: true; analyzer: string; results: unknown[] }
  /**
   * retryable: the analyzer is at fault (connection error, timeout, 5xx, nonsense answer).
   * unreachable: no connection at all, the one failure that says for sure nothing is there.
   */
  | { ok: false; retryable: boolean; unreachable: boolean; timedOut: boolean; reason: string };

export type Forward = (upstream: Upstream, logs: string[]) => Promise<ForwardResult>;

export function createForward(timeoutMs: number): Forward {
  return async function forward(upstream, logs) {
    let res: Response;
    let text: string;
    try {
      res = await fetch(upstream.analyzeUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ logs }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await res.text();
    } catch (error) {
      const timedOut = error instanceof DOMException && error.name === "TimeoutError";
      return { ok: false, retryable: true, unreachable: !timedOut, timedOut, reason: describeFetchError(error, timeoutMs) };
    }
    if (!res.ok) {
      // 4xx means the analyzer refused these messages: another analyzer would refuse them too.
      const retryable = res.status >= 500 || res.status === 429 || res.status === 408;
      return { ok: false, retryable, unreachable: false, timedOut: false, reason: `answered ${res.status}: ${text.slice(0, 200)}` };
    }
    try {
      const body = JSON.parse(text) as { analyzer?: unknown; results?: unknown };
      if (Array.isArray(body.results) && body.results.length === logs.length) {
        return { ok: true, analyzer: typeof body.analyzer === "string" ? body.analyzer : upstream.id, results: body.results };
      }
    } catch {
      // fall through: an answer we cannot use is the analyzer's fault
    }
    return { ok: false, retryable: true, unreachable: false, timedOut: false, reason: `answered 200 without ${logs.length} results` };
  };
}
