// Sends one batch of messages to one analyzer in one of its batch forms (src/protocol/batch.ts):
// NDJSON, one message per line (an agent's raw line as it came, or a record as JSON), or
// {"logs": [record, ...], "ids": [...]} when the messages were stored; over a kept-alive
// connection (httpclient/), and classifies what came back for the dispatcher.
// It asks for NDJSON (`Accept: application/x-ndjson`): the analyzer's id, then one result per line,
// each line a complete JSON value. The distributor splices those lines into its own answers as they
// are, so a result is serialized once, by the analyzer, instead of parsed and encoded again here.
// When nobody will read the analyses it asks for none (`Prefer: return=minimal`): a summary line.
// An analyzer that answers plain JSON works too; its results are re-encoded.

import { type BatchSummary, NDJSON, REJECTED_PREFIX, RETURN_MINIMAL } from "../protocol/batch.ts";
import { isRaw, type Routable } from "../protocol/record.ts";
import { type AnalyzerTls, tlsFor } from "./analyzertls.ts";
import { HttpClient } from "./httpclient/client.ts";
import { ClientError, type ClientResponse } from "./httpclient/parser.ts";
import type { Upstream } from "./upstream.ts";

export type ForwardResult =
  /**
   * results: each message's analysis as JSON text, in order (none when minimal was asked and
   * granted); rejected: the reason of each message (by its index in the batch) the analyzer refused.
   */
  | { ok: true; analyzer: string; results?: string[]; rejected?: Map<number, string> }
  /**
   * retryable: the analyzer is at fault (connection error, timeout, 5xx, nonsense answer).
   * unreachable: no connection at all, the one failure that says for sure nothing is there.
   */
  | { ok: false; retryable: boolean; unreachable: boolean; timedOut: boolean; reason: string; tooLarge?: boolean };

/**
 * `ids`: the messages' ids, for the analyzer to drop repeats by (null for a message without one).
 * `minimal`: nobody will read the analyses.
 */
export type ForwardOptions = { ids?: (string | null)[]; minimal?: boolean };

/**
 * Runs of raw lines as the bytes they span in their bodies (whole lines, nothing but blanks between
 * them), `count` lines in all: sent as they are, one copy per run instead of one look per line.
 */
export type RawRuns = { readonly count: number; readonly runs: readonly Uint8Array[] };

export type Forward = (
  upstream: Upstream,
  logs: readonly Routable[] | RawRuns,
  options?: ForwardOptions,
) => Promise<ForwardResult>;

/**
 * `tls`: for https analyzers, what to verify them against and the client certificate to present;
 * a function when it can change (AnalyzerTlsSource), read for every request.
 */
export function createForward(timeoutMs: number, tls: AnalyzerTls | (() => AnalyzerTls) = {}): Forward {
  const currentTls = typeof tls === "function" ? tls : () => tls;
  // One client per analyzer; one that discovery drops takes its idle connections with it.
  const clients = new WeakMap<Upstream, { client: HttpClient; path: string; tls: AnalyzerTls }>();
  function clientFor(upstream: Upstream) {
    let c = clients.get(upstream);
    const material = currentTls();
    // Reloaded TLS files: a new client, whose connections use them; the old one's idle ones close.
    if (c !== undefined && c.tls !== material) c.client.close();
    if (c === undefined || c.tls !== material) {
      const url = new URL(upstream.analyzeUrl);
      const client = new HttpClient(url.origin, { tls: tlsFor(upstream, material) });
      c = { client, path: url.pathname + url.search, tls: material };
      clients.set(upstream, c);
    }
    return c;
  }

  return async function forward(upstream, logs, options = {}) {
    const { client, path } = clientFor(upstream);
    const { ids, minimal = false } = options;
    let res: ClientResponse;
    const count = "runs" in logs ? logs.count : logs.length;
    const ndjson = "runs" in logs || (ids === undefined && logs.some(isRaw));
    try {
      const body =
        "runs" in logs
          ? logs.runs.flatMap((run) => [run, LINE_BREAK])
          : ndjson
            ? ndjsonBody(logs)
            : JSON.stringify(ids ? { logs, ids } : { logs });
      res = await client.post(path, body, HEADERS[ndjson ? 1 : 0][minimal ? 1 : 0], timeoutMs);
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
        // over the analyzer's MAX_BODY_BYTES: the batch, not its messages, may be what is too large
        tooLarge: res.status === 413,
      };
    }
    try {
      if (res.contentType.startsWith(NDJSON)) {
        const lines = text.split("\n");
        if (lines.at(-1) === "") lines.pop();
        const analyzer = JSON.parse(lines[0]) as string;
        if (minimal && lines.length === 2 && lines[1].startsWith('{"analyzed":')) {
          const summary = JSON.parse(lines[1]) as BatchSummary;
          const rejected = summary.rejected && new Map(summary.rejected.map((r) => [r.index, r.reason]));
          if (summary.analyzed + (rejected?.size ?? 0) === count) return { ok: true, analyzer, rejected };
        }
        const results = lines.slice(1);
        if (results.length === count && results.every(looksLikeJsonObject)) {
          // Only a line the analyzer read on its own can be refused alone (src/protocol/batch.ts).
          let rejected: Map<number, string> | undefined;
          for (let i = 0; ndjson && i < results.length; i++) {
            if (!results[i].startsWith(REJECTED_PREFIX)) continue;
            rejected ??= new Map();
            rejected.set(i, (JSON.parse(results[i]) as { rejected: string }).rejected);
          }
          return { ok: true, analyzer, results, rejected };
        }
      } else {
        const body = JSON.parse(text) as { analyzer?: unknown; results?: unknown };
        if (Array.isArray(body.results) && body.results.length === count) {
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
      reason: `answered ${res.status} without ${count} results`,
    };
  };
}

// [JSON, NDJSON body][full, minimal answer]
const HEADERS = [
  [
    { contentType: "application/json", accept: NDJSON },
    { contentType: "application/json", accept: NDJSON, prefer: RETURN_MINIMAL },
  ],
  [
    { contentType: NDJSON, accept: NDJSON },
    { contentType: NDJSON, accept: NDJSON, prefer: RETURN_MINIMAL },
  ],
] as const;

/**
 * A batch mixing raw lines with records (raw lines alone come as RawRuns), one message per line: a
 * raw line as it came, anything else as JSON (a line break cannot occur in JSON text). Raw lines that follow each other in their body are copied as one range (what lies
 * between them is blank), so a slice of a packet costs one copy, not one per line.
 */
function ndjsonBody(logs: readonly Routable[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let run: { body: Uint8Array; start: number; end: number } | undefined;
  const flush = () => {
    if (run === undefined) return;
    chunks.push(run.body.subarray(run.start, run.end), LINE_BREAK);
    run = undefined;
  };
  for (const r of logs) {
    if (!isRaw(r)) {
      flush();
      chunks.push(encoder.encode(`${JSON.stringify(r)}\n`));
    } else if (run !== undefined && run.body === r.body && r.start >= run.end && blank(r.body, run.end, r.start)) {
      run.end = r.end;
    } else {
      flush();
      run = { body: r.body, start: r.start, end: r.end };
    }
  }
  flush();
  return chunks;
}

const encoder = new TextEncoder();
const LINE_BREAK = new Uint8Array([10]);

function blank(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = bytes[i];
    if (c !== 10 && c !== 13 && c !== 32 && c !== 9) return false;
  }
  return true;
}

// A cheap guard that a result line is one JSON object, so that splicing it into an answer can
// only produce valid JSON. (The first line, the id, is parsed for real.)
function looksLikeJsonObject(line: string): boolean {
  return line.charCodeAt(0) === 123 && line.charCodeAt(line.length - 1) === 125;
}
