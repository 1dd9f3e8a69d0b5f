// What a worker does with a batch: pick an analyzer per message (message-weighted, never
// packet-weighted), send one request per analyzer carrying all of its messages, and settle each
// message with its result. A failed request marks that analyzer down at once (passive health
// check; for 5xx and timeouts only while Balancer.mayEject allows) and its messages are picked
// again among the other healthy analyzers, up to maxAttempts in all and within the retry budget,
// so a client sees no error when one analyzer dies.
// Async messages (nobody waits on them) are never refused for lack of an analyzer: they wait for
// one to come back; waiting does not use up attempts. What becomes of them is told to the ledger
// (intake.ts): analyzed, or given up on (a dead letter).
//
// A job is one client request's messages. Each message is still picked on its own, but the
// messages a job sends to one analyzer travel as one contiguous slice of it (a Part): which
// positions go where does not change how many go where, so every analyzer's expected share stays
// exactly its weight's, and a 100-line packet costs a few slices instead of 100 objects.
// A stored message (from the spool) is the exception: its pick is drawn from its id, so that a
// replay goes where the first try went; its slices are runs of messages picked alike, in place.

import { isRaw, type Routable } from "../protocol/record.ts";
import type { Balancer } from "./balancer.ts";
import type { Counters } from "./counters.ts";
import type { Forward, RawRuns } from "./forward.ts";
import type { Ledger } from "./intake.ts";
import type { RetryBudget } from "./retrybudget.ts";
import type { Upstream } from "./upstream.ts";

/**
 * `result` is the analyzer's analysis as JSON text, passed through without parsing (none when the
 * job is minimal). A 400 is a message the analyzer refused on its own (a raw line it could not read).
 */
export type Outcome = { analyzer: string; result?: string } | { status: 400 | 413 | 502 | 503 | 504; error: string };

/** Collects a request's outcomes: `settle` is called once for each message index, start..end-1 at a time. */
export type Reply = { settle(start: number, end: number, outcome: Outcome): void };

/** One client request's messages (records, src/protocol/record.ts), queued as a unit. */
export type Job = {
  readonly logs: readonly Routable[];
  /** null for async requests: nobody waits for the outcomes. */
  readonly reply: Reply | null;
  /** Nobody reads the analyses (async, or a client that said so): analyzers answer a summary. */
  readonly minimal?: boolean;
  /** An async request stored in the spool: its row, its messages not settled yet, its size on disk. */
  readonly stored?: { readonly row: number; remaining: number; readonly bytes: number };
};

/** The messages start..end-1 of a job, on their way to one analyzer. */
type Part = {
  readonly job: Job;
  readonly start: number;
  readonly end: number;
  attempts: number;
  /** The analyzer its last attempt failed on: a retry goes elsewhere when it can. */
  failedOn?: Upstream;
};

export const NO_HEALTHY_ANALYZER = "no healthy analyzer";

export type DispatchOptions = {
  balancer: Balancer;
  forward: Forward;
  counters: Counters;
  maxAttempts: number;
  budget?: RetryBudget;
  /** Told how long each analyzer request took, in seconds (for the latency histograms). */
  observe?: (upstream: Upstream, seconds: number) => void;
  /** Told what became of async messages: nobody else hears of it. */
  ledger?: Ledger;
  /**
   * An analyzer request carries about this many bytes of messages at most (BATCH_MAX_BYTES); a
   * single larger message goes alone. Default: no limit (tests of dispatch alone).
   */
  maxBatchBytes?: number;
};

/** Without an intake (tests of dispatch alone): async messages given up on are only logged. */
const LOG_ONLY: Ledger = {
  delivered() {},
  givenUp: (_job, start, end, reason) => console.error(`gave up on ${end - start} async message(s): ${reason}`),
  messageId: () => undefined,
};

export function createDispatcher(options: DispatchOptions): (batch: Job[]) => Promise<void> {
  const { balancer, forward, counters, maxAttempts, budget, observe } = options;
  const maxBatchBytes = options.maxBatchBytes ?? Number.POSITIVE_INFINITY;
  const ledger = options.ledger ?? LOG_ONLY;

  function fail(part: Part, outcome: Extract<Outcome, { error: string }>): void {
    const reply = part.job.reply;
    if (reply) reply.settle(part.start, part.end, outcome);
    else ledger.givenUp(part.job, part.start, part.end, outcome.error);
  }

  /**
   * Picks an analyzer for each message of `part` and adds the resulting slices to `groups`.
   * Returns false when no analyzer is left (nothing was added then).
   */
  function split(part: Part, groups: Map<Upstream, Part[]>): boolean {
    if (part.job.stored && !part.failedOn && ledger.draw) return splitByDraw(part, groups);
    const counts = part.failedOn
      ? countOtherThan(part.failedOn, part.end - part.start)
      : balancer.pickCounts(part.end - part.start);
    if (counts === undefined) return false;
    let offset = part.start;
    for (const [upstream, count] of counts) {
      const slice: Part = {
        job: part.job,
        start: offset,
        end: offset + count,
        attempts: part.attempts,
        failedOn: part.failedOn,
      };
      offset += count;
      const group = groups.get(upstream);
      if (group) group.push(slice);
      else groups.set(upstream, [slice]);
    }
    return true;
  }

  /** `n` picks avoiding `failedOn` where another analyzer is healthy, as counts per analyzer. */
  function countOtherThan(failedOn: Upstream, n: number): Map<Upstream, number> | undefined {
    const counts = new Map<Upstream, number>();
    for (let i = 0; i < n; i++) {
      const upstream = balancer.pickOtherThan(failedOn);
      if (upstream === undefined) return undefined;
      counts.set(upstream, (counts.get(upstream) ?? 0) + 1);
    }
    return counts;
  }

  /** A stored part: each message picked by its own draw, in runs of neighbours picked alike. */
  function splitByDraw(part: Part, groups: Map<Upstream, Part[]>): boolean {
    const picks: Upstream[] = [];
    for (let i = part.start; i < part.end; i++) {
      const upstream = balancer.pickAt(ledger.draw!(part.job, i));
      if (upstream === undefined) return false;
      picks.push(upstream);
    }
    let runStart = part.start;
    for (let i = part.start + 1; i <= part.end; i++) {
      const upstream = picks[runStart - part.start];
      if (i < part.end && picks[i - part.start] === upstream) continue;
      const slice: Part = { job: part.job, start: runStart, end: i, attempts: part.attempts };
      const group = groups.get(upstream);
      if (group) group.push(slice);
      else groups.set(upstream, [slice]);
      runStart = i;
    }
    return true;
  }

  async function deliver(upstream: Upstream, parts: Part[], retry: Part[]): Promise<void> {
    // Message ids travel only in the {"logs", "ids"} form, raw lines only in NDJSON (batch.ts): a
    // batch holding both goes as two requests.
    const stored = parts.filter((p) => p.job.stored);
    if (stored.length > 0 && stored.length < parts.length) {
      const others = parts.filter((p) => !p.job.stored);
      await Promise.all([deliver(upstream, stored, retry), deliver(upstream, others, retry)]);
      return;
    }
    // Messages of several requests share a batch, so it can outgrow the analyzer's body limit though
    // each request was within the distributor's: cut it into requests of at most maxBatchBytes.
    const pieces = bySize(parts, maxBatchBytes);
    if (pieces.length > 1) {
      await Promise.all(pieces.map((piece) => deliver(upstream, piece, retry)));
      return;
    }
    let count = 0;
    for (const p of parts) count += p.end - p.start;
    // Runs of NDJSON lines go as the bytes they span; records one by one (stored ones are never raw).
    const logs = rawRuns(parts, count) ?? messagesOf(parts);
    // Stored messages carry their ids, so that the analyzer can drop one it has analyzed before.
    let ids: (string | null)[] | undefined;
    if (stored.length > 0) {
      ids = [];
      for (const p of parts) for (let i = p.start; i < p.end; i++) ids.push(ledger.messageId(p.job, i) ?? null);
    }
    const minimal = parts.every((p) => p.job.reply === null || p.job.minimal);
    balancer.requestStarted(upstream);
    const started = performance.now();
    const r = await forward(upstream, logs, { ids, minimal });
    observe?.(upstream, (performance.now() - started) / 1000);
    balancer.requestEnded(upstream, count, r.ok);
    if (r.ok) {
      budget?.deposit();
      const { results, rejected } = r;
      const refused = rejected?.size ?? 0;
      counters.delivered += count - refused;
      counters.failed += refused;
      counters.invalidMessages += refused;
      // Without analyses every message's outcome is the same: one object for the whole batch.
      const bare: Outcome | undefined = results === undefined ? { analyzer: r.analyzer } : undefined;
      let k = 0;
      for (const p of parts) {
        const reply = p.job.reply;
        if (reply === null) {
          if (refused === 0) {
            k += p.end - p.start;
            ledger.delivered(p.job, p.start, p.end);
            continue;
          }
          for (let i = p.start; i < p.end; i++, k++) {
            const reason = rejected?.get(k);
            if (reason === undefined) ledger.delivered(p.job, i, i + 1);
            else ledger.givenUp(p.job, i, i + 1, `analyzer ${upstream.id} refused it: ${reason}`);
          }
          continue;
        }
        if (bare && refused === 0) {
          reply.settle(p.start, p.end, bare);
          k += p.end - p.start;
          continue;
        }
        for (let i = p.start; i < p.end; i++, k++) {
          const reason = refused === 0 ? undefined : rejected?.get(k);
          if (reason !== undefined) reply.settle(i, i + 1, { status: 400, error: `message ${i + 1}: ${reason}` });
          else reply.settle(i, i + 1, bare ?? { analyzer: r.analyzer, result: results![k] });
        }
      }
      return;
    }
    // 413: the analyzer takes less than maxBatchBytes (its MAX_BODY_BYTES is lower, or JSON escaping
    // grew the body): halves go again at once, the analyzer is not at fault and no attempt is used.
    // A message alone that is still too large is refused for good: every analyzer would refuse it.
    if (r.tooLarge && count > 1) {
      await Promise.all(halves(parts, count).map((half) => deliver(upstream, half, retry)));
      return;
    }
    if (r.tooLarge) {
      counters.failed += 1;
      fail(parts[0], { status: 413, error: `a message is larger than analyzer ${upstream.id} takes: it ${r.reason}` });
      return;
    }
    if (r.retryable && (r.unreachable || balancer.mayEject())) balancer.setHealthy(upstream, false, r.reason);
    const wantsRetry = r.retryable && parts.some((p) => p.attempts + 1 < maxAttempts);
    const mayRetry = wantsRetry && (budget?.tryWithdraw() ?? true);
    if (wantsRetry && !mayRetry) counters.retriesDenied++;
    if (mayRetry) counters.retriedRequests++;
    const reason = wantsRetry && !mayRetry ? `${r.reason} (retry budget spent)` : r.reason;
    for (const p of parts) {
      p.attempts++;
      p.failedOn = upstream;
      const n = p.end - p.start;
      if (mayRetry && p.attempts < maxAttempts) {
        counters.retried += n;
        retry.push(p);
      } else {
        counters.failed += n;
        const status = r.timedOut ? 504 : 502;
        fail(p, { status, error: `analyzer ${upstream.id} ${reason}; gave up after ${p.attempts} attempt(s)` });
      }
    }
  }

  return async function dispatch(batch: Job[]): Promise<void> {
    let pending: Part[] = batch.map((job) => ({ job, start: 0, end: job.logs.length, attempts: 0 }));
    while (pending.length > 0) {
      const groups = new Map<Upstream, Part[]>();
      const parked: Part[] = [];
      for (const part of pending) {
        if (split(part, groups)) continue;
        if (part.job.reply) {
          counters.failed += part.end - part.start;
          fail(part, { status: 503, error: NO_HEALTHY_ANALYZER });
        } else parked.push(part);
      }
      const retry: Part[] = [];
      await Promise.all(Array.from(groups, ([upstream, parts]) => deliver(upstream, parts, retry)));
      if (parked.length > 0) {
        await balancer.whenAvailable();
        for (const p of parked) retry.push(p);
      }
      pending = retry;
    }
  };
}

/** About how many bytes a message adds to an analyzer request (exact for a raw line, the text's length for a record). */
function sizeOf(log: Routable): number {
  if (typeof log === "string") return log.length + 3;
  if (isRaw(log)) return log.end - log.start + 1;
  // A record's fields are not measured (that would cost a JSON encoding): a generous allowance.
  return log.message.length + 256;
}

/**
 * The bytes a part's raw lines span in their body, from its first line's first byte to its last
 * line's last, when it has raw lines: a request's raw lines are all of its messages, in the order
 * of its body, nothing but blanks between them (src/protocol/record.ts).
 */
function rawRun(p: Part): Uint8Array | undefined {
  const first = p.job.logs[p.start];
  const last = p.job.logs[p.end - 1];
  if (!isRaw(first) || !isRaw(last) || first.body !== last.body) return undefined;
  return first.body.subarray(first.start, last.end);
}

/** A part's raw lines' bytes, with their line break: at least what they add to a request. */
function rawSpan(p: Part): number | undefined {
  const run = rawRun(p);
  return run && run.length + 1;
}

/** `parts` (`count` messages) as runs of raw lines, when every part is one. */
function rawRuns(parts: Part[], count: number): RawRuns | undefined {
  const runs: Uint8Array[] = [];
  for (const p of parts) {
    const run = rawRun(p);
    if (run === undefined) return undefined;
    runs.push(run);
  }
  return { count, runs };
}

/** The messages of `parts`, one by one. */
function messagesOf(parts: Part[]): Routable[] {
  if (parts.length === 1) return parts[0].job.logs.slice(parts[0].start, parts[0].end);
  const logs: Routable[] = [];
  for (const p of parts) for (let i = p.start; i < p.end; i++) logs.push(p.job.logs[i]);
  return logs;
}

/** `parts` cut into runs of at most `maxBytes` (a message larger than that alone); [parts] when they fit. */
function bySize(parts: Part[], maxBytes: number): Part[][] {
  if (maxBytes === Number.POSITIVE_INFINITY) return [parts];
  const pieces: Part[][] = [];
  let piece: Part[] = [];
  let bytes = 0;
  for (const p of parts) {
    // A slice of an NDJSON body is measured at once: its lines' bytes and what lies between them.
    const whole = rawSpan(p);
    if (whole !== undefined && bytes + whole <= maxBytes) {
      piece.push(p);
      bytes += whole;
      continue;
    }
    let start = p.start;
    for (let i = p.start; i < p.end; i++) {
      const size = sizeOf(p.job.logs[i]);
      if (bytes + size > maxBytes && bytes > 0) {
        if (i > start) piece.push({ ...p, start, end: i });
        pieces.push(piece);
        piece = [];
        bytes = 0;
        start = i;
      }
      bytes += size;
    }
    piece.push(start === p.start ? p : { ...p, start });
  }
  if (piece.length > 0) pieces.push(piece);
  return pieces;
}

/** `parts` (holding `count` messages) as two runs of about half the messages each. */
function halves(parts: Part[], count: number): [Part[], Part[]] {
  const first: Part[] = [];
  const second: Part[] = [];
  let left = Math.floor(count / 2);
  for (const p of parts) {
    const n = p.end - p.start;
    if (left >= n) first.push(p);
    else if (left === 0) second.push(p);
    else {
      first.push({ ...p, end: p.start + left });
      second.push({ ...p, start: p.start + left });
    }
    left = Math.max(0, left - n);
  }
  return [first, second];
}
