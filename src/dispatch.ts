// What a worker does with a batch: pick an analyzer per message (message-weighted, never
// packet-weighted), send one request per analyzer carrying all of its messages, and settle each
// message with its result. A failed request marks that analyzer down at once (passive health
// check; for 5xx and timeouts only while Balancer.mayEject allows) and its messages are picked
// again among the other healthy analyzers, up to maxAttempts in all and within the retry budget,
// so a client sees no error when one analyzer dies.
// Async messages (nobody waits on them) are never refused for lack of an analyzer: they wait for
// one to come back; waiting does not use up attempts.

import type { Balancer } from "./balancer.ts";
import type { Counters } from "./counters.ts";
import type { Forward } from "./forward.ts";
import type { RetryBudget } from "./retrybudget.ts";
import type { Upstream } from "./upstream.ts";

/** `result` is the analyzer's analysis as JSON text, passed through without parsing. */
export type Outcome = { analyzer: string; result: string } | { status: 502 | 503 | 504; error: string };

/** Collects a request's outcomes; `settle` is called exactly once per message index. */
export type Reply = { settle(index: number, outcome: Outcome): void };

export type Message = {
  readonly log: string;
  /** null for async messages. */
  readonly reply: Reply | null;
  readonly index: number;
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
  /** Told about each async message given up on: nobody else will hear of it. */
  onLost?: (message: Message, outcome: Outcome) => void;
};

export function createDispatcher(options: DispatchOptions): (batch: Message[]) => Promise<void> {
  const { balancer, forward, counters, maxAttempts, budget, observe } = options;
  const onLost = options.onLost ?? ((m, o) => console.error(`dropped an async message after ${m.attempts} attempts: ${"error" in o ? o.error : ""}`));

  function fail(message: Message, outcome: Outcome & { status: number }): void {
    if (message.reply) message.reply.settle(message.index, outcome);
    else onLost(message, outcome);
  }

  async function deliver(upstream: Upstream, messages: Message[], retry: Message[]): Promise<void> {
    const logs = messages.map((m) => m.log);
    upstream.inflight++;
    upstream.requests++;
    const started = performance.now();
    const r = await forward(upstream, logs);
    observe?.(upstream, (performance.now() - started) / 1000);
    upstream.inflight--;
    if (r.ok) {
      budget?.deposit();
      upstream.delivered += messages.length;
      counters.delivered += messages.length;
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i];
        m.reply?.settle(m.index, { analyzer: r.analyzer, result: r.results[i] });
      }
      return;
    }
    upstream.failed += messages.length;
    if (r.retryable && (r.unreachable || balancer.mayEject())) balancer.setHealthy(upstream, false, r.reason);
    const wantsRetry = r.retryable && messages.some((m) => m.attempts + 1 < maxAttempts);
    const mayRetry = wantsRetry && (budget?.tryWithdraw() ?? true);
    if (wantsRetry && !mayRetry) counters.retriesDenied++;
    if (mayRetry) counters.retriedRequests++;
    const reason = wantsRetry && !mayRetry ? `${r.reason} (retry budget spent)` : r.reason;
    for (const m of messages) {
      m.attempts++;
      m.failedOn = upstream;
      if (mayRetry && m.attempts < maxAttempts) {
        counters.retried++;
        retry.push(m);
      } else {
        counters.failed++;
        const status = r.timedOut ? 504 : 502;
        fail(m, { status, error: `analyzer ${upstream.id} ${reason}; gave up after ${m.attempts} attempt(s)` });
      }
    }
  }

  return async function dispatch(batch: Message[]): Promise<void> {
    let pending = batch;
    while (pending.length > 0) {
      const groups = new Map<Upstream, Message[]>();
      const parked: Message[] = [];
      for (const m of pending) {
        const upstream = m.failedOn ? balancer.pickOtherThan(m.failedOn) : balancer.pick();
        if (upstream === undefined) {
          if (m.reply) {
            counters.failed++;
            m.reply.settle(m.index, { status: 503, error: NO_HEALTHY_ANALYZER });
          } else parked.push(m);
          continue;
        }
        const group = groups.get(upstream);
        if (group) group.push(m);
        else groups.set(upstream, [m]);
      }
      const retry: Message[] = [];
      await Promise.all(Array.from(groups, ([upstream, messages]) => deliver(upstream, messages, retry)));
      if (parked.length > 0) {
        await balancer.whenAvailable();
        for (const m of parked) retry.push(m);
      }
      pending = retry;
    }
  };
}
