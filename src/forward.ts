// Sends one batch of messages to one analyzer in its batch form, {"logs": [...]}, over a kept-alive
// connection (Bun's fetch pools them), and classifies what came back for the dispatcher.
// It asks for NDJSON (`Accept: application/x-ndjson`): the analyzer's id, then one result per line,
// each line a complete JSON value. The distributor splices those lines into its own answers as they
// are, so a result is serialized once, by the analyzer, instead of parsed and encoded again here.
// An analyzer that answers plain JSON works too; its results are re-encoded.

import { describeFetchError } from "./health.ts";
import type { Upstream } from "./upstream.ts";

export type ForwardResult =
  /** results: each message's analysis as JSON text, in order. */
  | { ok: true; analyzer: string; results: string[] }
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
        headers: { "content-type": "application/json", accept: NDJSON },
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
      if (res.headers.get("content-type")?.startsWith(NDJSON)) {
        const lines = text.split("\n");
        if (lines.at(-1) === "") lines.pop();
        const results = lines.slice(1);
        if (results.length === logs.length && results.every(looksLikeJsonObject)) {
          return { ok: true, analyzer: JSON.parse(lines[0]) as string, results };
        }
      } else {
        const body = JSON.parse(text) as { analyzer?: unknown; results?: unknown };
        if (Array.isArray(body.results) && body.results.length === logs.length) {
          const analyzer = typeof body.analyzer === "string" ? body.analyzer : upstream.id;
          return { ok: true, analyzer, results: body.results.map((r) => JSON.stringify(r)) };
        }
      }
    } catch {
      // fall through: an answer we cannot use is the analyzer's fault
    }
    return { ok: false, retryable: true, unreachable: false, timedOut: false, reason: `answered 200 without ${logs.length} results` };
  };
}

export const NDJSON = "application/x-ndjson";

// A cheap guard that a result line is one JSON object, so that splicing it into an answer can
// only produce valid JSON. (The first line, the id, is parsed for real.)
function looksLikeJsonObject(line: string): boolean {
  return line.charCodeAt(0) === 123 && line.charCodeAt(line.length - 1) === 125;
}
