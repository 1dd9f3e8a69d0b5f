// Sends one batch of messages to one analyzer in its batch form, {"logs": [record, ...]} (each a
// string, or {"message", "fields"}: src/protocol/record.ts), with "ids" beside it when the messages
// were stored (src/protocol/batch.ts), over a kept-alive
// connection (httpclient/), and classifies what came back for the dispatcher.
// It asks for NDJSON (`Accept: application/x-ndjson`): the analyzer's id, then one result per line,
// each line a complete JSON value. The distributor splices those lines into its own answers as they
// are, so a result is serialized once, by the analyzer, instead of parsed and encoded again here.
// An analyzer that answers plain JSON works too; its results are re-encoded.

import { NDJSON } from "../protocol/batch.ts";
import type { LogRecord } from "../protocol/record.ts";
import { type AnalyzerTls, tlsFor } from "./analyzertls.ts";
import { HttpClient } from "./httpclient/client.ts";
import { ClientError, type ClientResponse } from "./httpclient/parser.ts";
import type { Upstream } from "./upstream.ts";

export type ForwardResult =
  /** results: each message's analysis as JSON text, in order. */
  | { ok: true; analyzer: string; results: string[] }
  /**
   * retryable: the analyzer is at fault (connection error, timeout, 5xx, nonsense answer).
   * unreachable: no connection at all, the one failure that says for sure nothing is there.
   */
  | { ok: false; retryable: boolean; unreachable: boolean; timedOut: boolean; reason: string };

/** `ids`: the messages' ids, for the analyzer to drop repeats by (null for a message without one). */
export type Forward = (upstream: Upstream, logs: LogRecord[], ids?: (string | null)[]) => Promise<ForwardResult>;

/** `tls`: for https analyzers, what to verify them against and the client certificate to present. */
export function createForward(timeoutMs: number, tls: AnalyzerTls = {}): Forward {
  // One client per analyzer; one that discovery drops takes its idle connections with it.
  const clients = new WeakMap<Upstream, { client: HttpClient; path: string }>();
  function clientFor(upstream: Upstream) {
    let c = clients.get(upstream);
    if (c === undefined) {
      const url = new URL(upstream.analyzeUrl);
      c = { client: new HttpClient(url.origin, { tls: tlsFor(upstream, tls) }), path: url.pathname + url.search };
      clients.set(upstream, c);
    }
    return c;
  }

  return async function forward(upstream, logs, ids) {
    const { client, path } = clientFor(upstream);
    let res: ClientResponse;
    try {
      res = await client.post(path, JSON.stringify(ids ? { logs, ids } : { logs }), POST_HEADERS, timeoutMs);
    } catch (error) {
      // Anything else thrown is our bug, but the batch's messages must still be settled: retryable.
      const kind = error instanceof ClientError ? error.kind : undefined;
      // Only a connection that could not be made or broke says for sure that nothing is there.
      const unreachable = kind === "connect" || kind === "closed";
      const reason = error instanceof Error ? error.message : String(error);
      return { ok: false, retryable: true, unreachable, timedOut: kind === "timeout", reason };
    }
    const text = res.body;
    if (res.status < 200 || res.status > 299) {
      // 4xx means the analyzer refused these messages: another analyzer would refuse them too.
      const retryable = res.status >= 500 || res.status === 429 || res.status === 408;
      return {
        ok: false,
        retryable,
        unreachable: false,
        timedOut: false,
        reason: `answered ${res.status}: ${text.slice(0, 200)}`,
      };
    }
    try {
      if (res.contentType.startsWith(NDJSON)) {
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
    return {
      ok: false,
      retryable: true,
      unreachable: false,
      timedOut: false,
      reason: `answered ${res.status} without ${logs.length} results`,
    };
  };
}

const POST_HEADERS = { contentType: "application/json", accept: NDJSON };

// A cheap guard that a result line is one JSON object, so that splicing it into an answer can
// only produce valid JSON. (The first line, the id, is parsed for real.)
function looksLikeJsonObject(line: string): boolean {
  return line.charCodeAt(0) === 123 && line.charCodeAt(line.length - 1) === 125;
}
