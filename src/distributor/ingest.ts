// Every endpoint that takes log messages (POST /analyze, and each agent's protocol): check the
// token, read the body within MAX_BODY_BYTES, let the format decode it into records, refuse more
// than MAX_PACKET of them, admit them all into the queue or refuse them all at once (503 +
// Retry-After), then either answer once they are queued (Prefer: respond-async) or wait until every
// record's delivery is settled. The format builds the answer, and only when every record was
// accepted: agents retry a request that failed, so one failed record fails the whole request (a
// format whose clients read only the body may shape that 5xx answer: format.failure).
// One handler of a bare Request, so Bun's router and the hono app that both lead here behave the
// same, and every error becomes its answer in one place.

import { bearerCheck, readLimitedBytes, textResponse } from "../http/app.ts";
import {
  asHttpError,
  BadRequestError,
  errorResponse,
  HttpError,
  NoHealthyAnalyzerError,
  QueueFullError,
  ShuttingDownError,
  UnauthorizedError,
} from "../http/errors.ts";
import type { Decoded, LogRecord, Routable } from "../protocol/record.ts";
import type { Balancer } from "./balancer.ts";
import type { Channel } from "./channel.ts";
import type { Counters } from "./counters.ts";
import type { Job, Outcome, Reply } from "./dispatch.ts";
import type { Intake } from "./intake.ts";

/** One record's analysis: the analyzer's id and its result as JSON text (see forward.ts); no result when none was asked for. */
export type Delivered = Extract<Outcome, { analyzer: string }>;

/** How a request's records were accepted: queued (respond-async), or delivered, each with its analysis in order. */
export type Acceptance = { readonly async: true } | { readonly async: false; readonly results: readonly Delivered[] };

/** A wire format an endpoint takes: src/protocol/formats/ decodes it, and builds its answer. */
export type IngestFormat<D extends Decoded<Routable> = Decoded> = {
  readonly name: string;
  /** The records in a body; throws an HttpError (400, 415) a person can act on. */
  decode(body: Uint8Array, contentType: string, req: Request): D;
  /** The answer once every record is accepted. */
  respond(decoded: D, req: Request, acceptance: Acceptance): Response;
  /** Whether the error body of a failed delivery lists every record's outcome (POST /analyze's does). */
  listsOutcomes?(decoded: D): boolean;
  /**
   * Whether the answer shows the analyses (POST /analyze's, unless `Prefer: return=minimal`); without
   * it, analyzers are asked only how many they took, which saves them, and us, the bytes.
   */
  wantsResults?(decoded: D, req: Request): boolean;
  /**
   * The answer to a decoded request the distributor could not take (a 5xx: 503, 502, 504), for a
   * protocol whose clients read the body rather than the status; keeps the error's status and headers.
   * Without it, the JSON error of every other answer.
   */
  failure?(decoded: D, error: HttpError): Response;
  /**
   * The answer to any refused request (4xx or 5xx, decoded or not), for a protocol that defines its
   * own error body (OTLP's google.rpc.Status); keeps the error's status and headers. `failure` comes
   * first where both apply. Without it, the JSON error of every other answer.
   */
  refusal?(error: HttpError, req: Request): Response;
};

export type IngestOptions<D extends Decoded<Routable> = Decoded> = {
  format: IngestFormat<D>;
  channel: Channel<Job>;
  /** Where async requests' messages go (the spool, or the queue): intake.ts. */
  intake: Intake;
  balancer: Balancer;
  counters: Counters;
  maxBodyBytes: number;
  /** Records per request (MAX_PACKET), whatever the format. */
  maxPacket: number;
  /** When set, requests must carry `Authorization: Bearer <authToken>`. */
  authToken?: string;
  /** Told how long each request took, arrival to answer, in seconds. */
  observe?: (seconds: number) => void;
};

/** The handler of one format's endpoint: every answer, errors included, comes out of it as a Response. */
export function createIngestHandler<D extends Decoded<Routable>>(
  options: IngestOptions<D>,
): (req: Request) => Promise<Response> {
  const { format, counters, maxBodyBytes, maxPacket, observe } = options;
  const admit = createAdmission(options);
  const authorized = options.authToken ? bearerCheck(options.authToken) : undefined;

  return async function ingest(req: Request): Promise<Response> {
    const started = performance.now();
    let decoded: D | undefined;
    try {
      if (authorized && !authorized(req)) throw new UnauthorizedError();
      try {
        const body = await readLimitedBytes(req, maxBodyBytes);
        decoded = format.decode(body, req.headers.get("content-type") ?? "", req);
        const n = decoded.records.length;
        if (n > maxPacket) {
          throw new BadRequestError(`${n} messages in one request, more than MAX_PACKET (${maxPacket}): split it`);
        }
      } catch (error) {
        counters.invalid++;
        throw error;
      }
      const async = prefersAsync(req.headers.get("prefer"));
      const acceptance = await admit(decoded.records, async, {
        listsOutcomes: format.listsOutcomes?.(decoded) ?? false,
        minimal: !(format.wantsResults?.(decoded, req) ?? false),
      });
      // Counted once the rest is taken: a request refused whole is sent again, and refused again.
      if (decoded.rejected) counters.invalidMessages += decoded.rejected.count;
      return format.respond(decoded, req, acceptance);
    } catch (error) {
      if (format.failure && decoded !== undefined && error instanceof HttpError && error.status >= 500) {
        return format.failure(decoded, error);
      }
      if (format.refusal) return format.refusal(asHttpError(error), req);
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

const ASYNC: Acceptance = { async: true };
const NOTHING: Acceptance = { async: false, results: [] };

// Admission and delivery, for records already decoded.
function createAdmission(options: Pick<IngestOptions, "channel" | "intake" | "balancer" | "counters">) {
  const { channel, intake, balancer, counters } = options;

  return async function admit(
    records: readonly Routable[],
    async: boolean,
    { listsOutcomes, minimal }: { listsOutcomes: boolean; minimal: boolean },
  ): Promise<Acceptance> {
    const n = records.length;
    if (n === 0) return async ? ASYNC : NOTHING; // e.g. an OTLP export with no records: nothing to deliver
    if (async) {
      try {
        // Raw lines are made only for waiting clients (formats.ts): what is stored was parsed, whole.
        await intake.accept(records as readonly LogRecord[]); // stored (or queued) whole, or refused whole
      } catch (error) {
        counters.rejected += n;
        throw error;
      }
      counters.received += n;
      return ASYNC;
    }
    if (channel.closed) {
      counters.rejected += n;
      throw new ShuttingDownError();
    }
    // Waiting clients are refused at once; async messages may wait for a recovery.
    if (balancer.healthyCount === 0) {
      counters.rejected += n;
      throw new NoHealthyAnalyzerError();
    }
    const reply = new Collector(n);
    // The whole request is one queue item, admitted whole or refused whole; capacity counts messages.
    if (!channel.trySend({ logs: records, reply, minimal })) {
      counters.rejected += n;
      throw new QueueFullError(channel.capacity);
    }
    counters.received += n;

    const outcomes = await reply.done;
    if (reply.failures === 0) return { async: false, results: outcomes as Delivered[] };
    if (n === 1 && !listsOutcomes) throw outcomeError(outcomes[0] as Failed);
    // The worst status for the request; /analyze lists every message's own outcome in the body.
    const failed = outcomes.filter((o) => "error" in o) as Failed[];
    const worst = failed.reduce((a, b) => (rank(b.status) > rank(a.status) ? b : a));
    const error = outcomeError(worst);
    const results = listsOutcomes
      ? outcomes.map((o) =>
          "error" in o || o.result === undefined
            ? o
            : { analyzer: o.analyzer, result: JSON.parse(o.result) as unknown },
        )
      : undefined;
    throw new HttpError(
      error.status,
      `${failed.length} of ${n} messages failed: ${worst.error}`,
      results && { results },
      error.headers,
    );
  };
}

type Failed = Extract<Outcome, { error: string }>;

// The analysis arrives as JSON text (see forward.ts) and is spliced in as it is; only the
// short prefix per analyzer is encoded, once.
const prefixes = new Map<string, string>();
/** `{"analyzer": <id>, "result": <analysis>}` as JSON text. */
export function deliveredJson(o: Delivered): string {
  let prefix = prefixes.get(o.analyzer);
  if (prefix === undefined) {
    if (prefixes.size > 10_000) prefixes.clear(); // ids come from analyzers: keep the memo bounded
    prefix = `{"analyzer":${JSON.stringify(o.analyzer)},"result":`;
    prefixes.set(o.analyzer, prefix);
  }
  return `${prefix}${o.result}}`;
}

/** A JSON answer already serialized. */
export function jsonText(body: string): Response {
  return textResponse(body, "application/json");
}

function outcomeError(o: Failed): HttpError {
  return o.status === 503 ? new NoHealthyAnalyzerError() : new HttpError(o.status, o.error);
}

// 503 says "retry later", which is the most useful thing to tell a client that retries the packet;
// a 400 (a line the analyzer refused) is the least: resent, it would be refused again.
function rank(status: number): number {
  return status === 503 ? 3 : status === 504 ? 2 : status === 400 ? 0 : 1;
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

  settle(start: number, end: number, outcome: Outcome): void {
    // One message at a time is the common case with analyses; fill() costs ~10× a store for it.
    if (end - start === 1) this.#outcomes[start] = outcome;
    else this.#outcomes.fill(outcome, start, end);
    if ("error" in outcome) this.failures += end - start;
    this.#remaining -= end - start;
    if (this.#remaining === 0) this.#resolve(this.#outcomes);
  }
}
