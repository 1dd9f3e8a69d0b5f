// POST /analyze on the distributor: check the token, read the body within its limit, validate,
// admit the whole request into the queue or refuse it at once (503 + Retry-After), then either
// answer 202 (Prefer: respond-async) or wait for every message's outcome and answer with the
// results in input order. One handler of a bare Request, so Bun's router and the hono app that
// both lead here behave the same, and every error becomes its answer in one place.

import { bearerCheck, readLimitedBody, textResponse } from "../http/app.ts";
import {
  errorResponse,
  HttpError,
  NoHealthyAnalyzerError,
  QueueFullError,
  ShuttingDownError,
  UnauthorizedError,
} from "../http/errors.ts";
import type { Payload } from "../protocol/payload.ts";
import type { Balancer } from "./balancer.ts";
import type { Channel } from "./channel.ts";
import type { Counters } from "./counters.ts";
import type { Job, Outcome, Reply } from "./dispatch.ts";

type IngestOptions = {
  channel: Channel<Job>;
  balancer: Balancer;
  counters: Counters;
};

export type AnalyzeOptions = IngestOptions & {
  maxBodyBytes: number;
  parsePayload: (text: string) => Payload;
  /** When set, requests must carry `Authorization: Bearer <authToken>`. */
  authToken?: string;
  /** Told how long each request took, arrival to answer, in seconds. */
  observe?: (seconds: number) => void;
};

/** The POST /analyze handler: every answer, errors included, comes out of it as a Response. */
export function createAnalyzeHandler(options: AnalyzeOptions): (req: Request) => Promise<Response> {
  const { counters, maxBodyBytes, parsePayload, observe } = options;
  const ingest = createIngest(options);
  const authorized = options.authToken ? bearerCheck(options.authToken) : undefined;

  return async function analyze(req: Request): Promise<Response> {
    const started = performance.now();
    try {
      if (authorized && !authorized(req)) throw new UnauthorizedError();
      let payload: Payload;
      try {
        payload = parsePayload(await readLimitedBody(req, maxBodyBytes));
      } catch (error) {
        counters.invalid++;
        throw error;
      }
      return await ingest(payload, prefersAsync(req.headers.get("prefer")));
    } catch (error) {
      return errorResponse(error);
    } finally {
      observe?.((performance.now() - started) / 1000);
    }
  };
}

/** RFC 7240: `Prefer: respond-async`, possibly among other preferences. */
export function prefersAsync(prefer: string | null | undefined): boolean {
  return prefer != null && /(^|[,\s])respond-async\s*(,|;|$)/i.test(prefer);
}

// Admission and the answer, for a payload already read and validated.
function createIngest(options: IngestOptions) {
  const { channel, balancer, counters } = options;

  return async function ingest(payload: Payload, async: boolean): Promise<Response> {
    const n = payload.logs.length;
    if (channel.closed) {
      counters.rejected += n;
      throw new ShuttingDownError();
    }
    // Waiting clients are refused at once; async messages may wait in the queue for a recovery.
    if (!async && balancer.healthyCount === 0) {
      counters.rejected += n;
      throw new NoHealthyAnalyzerError();
    }
    const reply = async ? null : new Collector(n);
    // The whole request is one queue item, admitted whole or refused whole; capacity counts messages.
    if (!channel.trySend({ logs: payload.logs, reply })) {
      counters.rejected += n;
      throw new QueueFullError(channel.capacity);
    }
    counters.received += n;
    if (reply === null) return Response.json({ accepted: n }, { status: 202 });

    const outcomes = await reply.done;
    if (!payload.packet) {
      const o = outcomes[0];
      if ("error" in o) throw outcomeError(o);
      return jsonText(delivered(o));
    }
    if (reply.failures === 0) {
      let body = '{"results":[';
      for (let i = 0; i < n; i++) body += (i === 0 ? "" : ",") + delivered(outcomes[i] as Delivered);
      return jsonText(`${body}]}`);
    }
    // Partial failure: the worst status for the request, every message's own outcome in the body.
    const failed = outcomes.filter((o) => "error" in o) as Extract<Outcome, { error: string }>[];
    const worst = failed.reduce((a, b) => (rank(b.status) > rank(a.status) ? b : a));
    const error = outcomeError(worst);
    const results = outcomes.map((o) =>
      "error" in o ? o : { analyzer: o.analyzer, result: JSON.parse(o.result) as unknown },
    );
    throw new HttpError(
      error.status,
      `${failed.length} of ${n} messages failed: ${worst.error}`,
      { results },
      error.headers,
    );
  };
}

type Delivered = Extract<Outcome, { result: string }>;

// The analysis arrives as JSON text (see forward.ts) and is spliced in as it is; only the
// short prefix per analyzer is encoded, once.
const prefixes = new Map<string, string>();
function delivered(o: Delivered): string {
  let prefix = prefixes.get(o.analyzer);
  if (prefix === undefined) {
    if (prefixes.size > 10_000) prefixes.clear(); // ids come from analyzers: keep the memo bounded
    prefix = `{"analyzer":${JSON.stringify(o.analyzer)},"result":`;
    prefixes.set(o.analyzer, prefix);
  }
  return `${prefix}${o.result}}`;
}

function jsonText(body: string): Response {
  return textResponse(body, "application/json");
}

function outcomeError(o: Extract<Outcome, { error: string }>): HttpError {
  return o.status === 503 ? new NoHealthyAnalyzerError() : new HttpError(o.status, o.error);
}

// 503 says "retry later", which is the most useful thing to tell a client that retries the packet.
function rank(status: number): number {
  return status === 503 ? 3 : status === 504 ? 2 : 1;
}

/** Gathers one outcome per message of a request; resolves once all are in. */
class Collector implements Reply {
  readonly done: Promise<Outcome[]>;
  #outcomes: Outcome[];
  #remaining: number;
  #resolve!: (outcomes: Outcome[]) => void;
  /** Outcomes that are errors: counted as they arrive, so the happy path never scans. */
  failures = 0;

  constructor(n: number) {
    this.#outcomes = new Array(n);
    this.#remaining = n;
    this.done = new Promise((resolve) => (this.#resolve = resolve));
  }

  settle(index: number, outcome: Outcome): void {
    this.#outcomes[index] = outcome;
    if ("error" in outcome) this.failures++;
    if (--this.#remaining === 0) this.#resolve(this.#outcomes);
  }
}
