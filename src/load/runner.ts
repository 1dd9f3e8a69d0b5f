// Drives the load: `concurrency` workers share one request counter.
//
// Closed loop (no rate): each worker sends its next request as soon as the previous one is
// answered; latency is measured from the actual send.
// Open loop (rate): request i is due at start + i/rate. A worker claims the next due time, sleeps
// until it, sends, and measures latency from the *intended* time. When all workers are stuck
// on a slow server, later requests go out late and that lateness is counted — the stall shows
// up in the percentiles instead of being hidden (coordinated omission, as in wrk2).

import { classifyError, type ErrorCount, ErrorTally } from "./errors.ts";
import { LatencyRecorder } from "./latency.ts";
import type { Send } from "./sender.ts";

export type RunnerOptions = {
  send: Send;
  /** Cycled through in order: request i sends bodies[i % bodies.length]. */
  bodies: readonly Uint8Array[];
  concurrency: number;
  /** Stop after this many requests. */
  requests?: number;
  /** Stop starting requests after this long (open loop: requests due after this). */
  durationMs?: number;
  /** Requests per second across all workers, open loop. */
  rate?: number;
  /** Stops starting new requests; those in flight still finish and are counted. */
  signal?: AbortSignal;
  now?: () => number;
  sleep?: (ms: number) => Promise<unknown>;
};

export type RunResult = {
  elapsedMs: number;
  requests: number;
  successes: number;
  failures: number;
  /** Milliseconds, ascending, one per reply (any status); requests with no reply have none. */
  latencies: Float64Array;
  /** Replies by HTTP status. */
  statusCodes: Record<string, number>;
  errors: ErrorCount[];
};

const PREALLOCATED_SAMPLES = 1 << 20;

export class LoadRun {
  readonly #options: RunnerOptions & Required<Pick<RunnerOptions, "now" | "sleep">>;
  readonly #interval: number | undefined;
  readonly #latencies: LatencyRecorder;
  readonly #statuses = new Map<number, number>();
  readonly #errors = new ErrorTally();
  #next = 0;
  #completed = 0;
  #failures = 0;
  #start = 0;
  #ran = false;

  constructor(options: RunnerOptions) {
    const { concurrency, requests, durationMs, rate, bodies } = options;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    }
    if (requests !== undefined && (!Number.isInteger(requests) || requests < 1)) {
      throw new RangeError(`requests must be a positive integer, got ${requests}`);
    }
    if (durationMs !== undefined && !(durationMs > 0))
      throw new RangeError(`durationMs must be positive, got ${durationMs}`);
    if (rate !== undefined && !(rate > 0 && Number.isFinite(rate)))
      throw new RangeError(`rate must be a positive number, got ${rate}`);
    if (requests === undefined && durationMs === undefined)
      throw new RangeError("give requests or durationMs, or the run never ends");
    if (bodies.length === 0) throw new RangeError("bodies must not be empty");
    this.#options = { ...options, now: options.now ?? (() => performance.now()), sleep: options.sleep ?? Bun.sleep };
    this.#interval = rate === undefined ? undefined : 1000 / rate;
    // Room for every sample of a typical run up front; a huge -n grows as it goes instead.
    this.#latencies = new LatencyRecorder(Math.min(requests ?? PREALLOCATED_SAMPLES, PREALLOCATED_SAMPLES));
  }

  /** Requests answered or failed so far. */
  get completed(): number {
    return this.#completed;
  }

  /** Of those, how many did not get a 2xx. */
  get failures(): number {
    return this.#failures;
  }

  async run(): Promise<RunResult> {
    if (this.#ran) throw new Error("a LoadRun runs once; create another");
    this.#ran = true;
    const { concurrency, requests, now } = this.#options;
    this.#start = now();
    const workers = Math.min(concurrency, requests ?? concurrency);
    await Promise.all(Array.from({ length: workers }, () => this.#worker()));
    const elapsedMs = now() - this.#start;

    const statusCodes: Record<string, number> = {};
    for (const [status, count] of [...this.#statuses].sort(([a], [b]) => a - b)) statusCodes[status] = count;
    return {
      elapsedMs,
      requests: this.#completed,
      successes: this.#completed - this.#failures,
      failures: this.#failures,
      latencies: this.#latencies.sorted(),
      statusCodes,
      errors: this.#errors.entries(),
    };
  }

  async #worker(): Promise<void> {
    const { send, bodies, requests, durationMs, signal, now, sleep } = this.#options;
    const interval = this.#interval;
    for (;;) {
      const i = this.#next;
      if ((requests !== undefined && i >= requests) || signal?.aborted) return;
      let sentAt: number;
      if (interval === undefined) {
        sentAt = now();
        if (durationMs !== undefined && sentAt - this.#start >= durationMs) return;
        this.#next++;
      } else {
        const offset = i * interval;
        if (durationMs !== undefined && offset >= durationMs) return;
        this.#next++;
        sentAt = this.#start + offset;
        // Timers may fire a little early; sending before the intended time would make latency negative.
        for (let wait = sentAt - now(); wait > 0; wait = sentAt - now()) await sleep(wait);
      }

      try {
        const outcome = await send(bodies[i % bodies.length]!);
        this.#latencies.record(now() - sentAt);
        const status = typeof outcome === "number" ? outcome : outcome.status;
        this.#statuses.set(status, (this.#statuses.get(status) ?? 0) + 1);
        if (typeof outcome !== "number") {
          this.#failures++;
          this.#errors.add("http", `${outcome.status} ${outcome.message}`);
        } else if (outcome < 200 || outcome > 299) {
          // A Send that reports a non-2xx status as a number still counts it as a failure.
          this.#failures++;
        }
      } catch (error) {
        const { kind, message } = classifyError(error);
        this.#failures++;
        this.#errors.add(kind, message);
      }
      this.#completed++;
    }
  }
}
