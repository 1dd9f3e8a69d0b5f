// Picks the analyzer for each message: a Vose alias table over the healthy analyzers' weights,
// rebuilt from scratch and swapped in whole whenever the healthy set changes. Rebuilding (instead of
// remapping indices of a table built for another set) is what keeps a failed analyzer's share going
// to the survivors in proportion to their own weights.

import { buildAlias, pickAlias, type AliasTable } from "./alias.ts";
import type { Random } from "../math/random.ts";
import type { Upstream } from "./upstream.ts";

export type HealthChange = { upstream: Upstream; healthy: boolean; reason: string };

export type BalancerOptions = {
  random?: Random;
  /**
   * A recovered analyzer's weight ramps from SLOW_START_FLOOR to its full value over this many ms
   * (HAProxy's `slowstart`), so it is not flooded the moment it returns. 0: full weight at once.
   * Not applied to an analyzer's first time up (at startup, nothing has a backlog to catch up).
   */
  slowStartMs?: number;
  /**
   * Passive ejection for failures that may be partial (5xx, timeouts) stops once this share of the
   * analyzers is down (Envoy's max_ejection_percent): when all of them fail some requests, keeping
   * them in and retrying beats refusing everything with 503.
   */
  maxEjectionPercent?: number;
  now?: () => number;
};

const SLOW_START_FLOOR = 0.05;
const SLOW_START_STEPS = 20;

export class Balancer {
  #upstreams: readonly Upstream[];
  #random: Random;
  #slowStartMs: number;
  #maxEjectionPercent: number;
  #now: () => number;
  #rampTimer: ReturnType<typeof setInterval> | undefined;
  #table: AliasTable | undefined;
  #candidates: Upstream[] = [];
  #healthyWaiters: (() => void)[] = [];
  #listeners: ((change: HealthChange) => void)[] = [];

  constructor(upstreams: readonly Upstream[], options: BalancerOptions = {}) {
    this.#upstreams = upstreams;
    this.#random = options.random ?? Math.random;
    this.#slowStartMs = options.slowStartMs ?? 0;
    this.#maxEjectionPercent = options.maxEjectionPercent ?? 50;
    this.#now = options.now ?? (() => performance.now());
    this.#rebuild();
  }

  get upstreams(): readonly Upstream[] {
    return this.#upstreams;
  }

  /**
   * Replaces the set of analyzers (service discovery). Pass the same Upstream objects for analyzers
   * that stay, so their health and counters carry over; new ones count once they are healthy.
   */
  setUpstreams(upstreams: readonly Upstream[]): void {
    this.#upstreams = upstreams;
    this.#rebuild();
  }

  /** The analyzer for the next message, or undefined when none is healthy (and weighted). */
  pick(): Upstream | undefined {
    const table = this.#table;
    return table && this.#candidates[pickAlias(table, this.#random)];
  }

  get healthyCount(): number {
    return this.#candidates.length;
  }

  /** Sets an analyzer's health; rebuilds the table and tells listeners only on a real change. */
  setHealthy(upstream: Upstream, healthy: boolean, reason: string): void {
    if (!healthy) upstream.lastError = reason;
    if (upstream.healthy === healthy) return;
    upstream.healthy = healthy;
    upstream.healthChanges++;
    if (healthy) {
      upstream.lastError = null;
      if (this.#slowStartMs > 0 && upstream.everHealthy) upstream.rampStartedAt = this.#now();
      upstream.everHealthy = true;
    }
    this.#rebuild();
    for (const listener of this.#listeners) listener({ upstream, healthy, reason });
  }

  /** May one more analyzer be taken out for a failure that could be partial? */
  mayEject(): boolean {
    const down = this.#upstreams.reduce((n, u) => n + (u.healthy ? 0 : 1), 0);
    return down + 1 <= Math.floor((this.#upstreams.length * this.#maxEjectionPercent) / 100);
  }

  /**
   * The analyzer for a retry: picked by weight among the healthy ones other than `avoid` (the one
   * that just failed this message), by rejection sampling, which keeps the others' proportions.
   */
  pickOtherThan(avoid: Upstream | undefined): Upstream | undefined {
    let pick = this.pick();
    for (let i = 0; i < 8 && pick === avoid && this.#candidates.length > 1; i++) pick = this.pick();
    return pick;
  }

  /** Changes an analyzer's weight; 0 drains it. */
  setWeight(upstream: Upstream, weight: number): void {
    if (!Number.isFinite(weight) || weight < 0) throw new RangeError(`weight must be a finite number >= 0, got ${weight}`);
    upstream.weight = weight;
    this.#rebuild();
  }

  onChange(listener: (change: HealthChange) => void): void {
    this.#listeners.push(listener);
  }

  /** Resolves as soon as some analyzer can be picked. */
  whenAvailable(): Promise<void> {
    if (this.#table) return Promise.resolve();
    return new Promise((resolve) => this.#healthyWaiters.push(resolve));
  }

  /** The weight picks use now: the configured one, scaled down while slow start ramps it up. */
  effectiveWeight(upstream: Upstream): number {
    if (upstream.rampStartedAt === null) return upstream.weight;
    const progress = (this.#now() - upstream.rampStartedAt) / this.#slowStartMs;
    if (progress >= 1) {
      upstream.rampStartedAt = null;
      return upstream.weight;
    }
    return upstream.weight * Math.max(SLOW_START_FLOOR, progress);
  }

  /** Stops the slow-start timer (for shutdown). */
  stop(): void {
    clearInterval(this.#rampTimer);
    this.#rampTimer = undefined;
  }

  #rebuild(): void {
    const candidates = this.#upstreams.filter((u) => u.healthy && u.weight > 0);
    const weights = candidates.map((u) => this.effectiveWeight(u));
    this.#candidates = candidates;
    this.#table = candidates.length > 0 ? buildAlias(weights) : undefined;
    if (this.#table) for (const resolve of this.#healthyWaiters.splice(0)) resolve();
    // While someone ramps up, rebuild in steps; the table is O(n) to build, so this is cheap.
    const ramping = candidates.some((u) => u.rampStartedAt !== null);
    if (ramping && !this.#rampTimer) {
      this.#rampTimer = setInterval(() => this.#rebuild(), this.#slowStartMs / SLOW_START_STEPS);
      this.#rampTimer.unref();
    } else if (!ramping) this.stop();
  }
}
