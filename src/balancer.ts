// Picks the analyzer for each message: a Vose alias table over the healthy analyzers' weights,
// rebuilt from scratch and swapped in whole whenever the healthy set changes. Rebuilding (instead of
// remapping indices of a table built for another set) is what keeps a failed analyzer's share going
// to the survivors in proportion to their own weights.

import { buildAlias, pickAlias, type AliasTable } from "./alias.ts";
import type { Random } from "./random.ts";
import type { Upstream } from "./upstream.ts";

export type HealthChange = { upstream: Upstream; healthy: boolean; reason: string };

export class Balancer {
  #upstreams: readonly Upstream[];
  #random: Random;
  #table: AliasTable | undefined;
  #candidates: Upstream[] = [];
  #healthyWaiters: (() => void)[] = [];
  #listeners: ((change: HealthChange) => void)[] = [];

  constructor(upstreams: readonly Upstream[], random: Random = Math.random) {
    this.#upstreams = upstreams;
    this.#random = random;
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
    if (healthy) upstream.lastError = null;
    this.#rebuild();
    for (const listener of this.#listeners) listener({ upstream, healthy, reason });
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

  #rebuild(): void {
    const candidates = this.#upstreams.filter((u) => u.healthy && u.weight > 0);
    this.#candidates = candidates;
    this.#table = candidates.length > 0 ? buildAlias(candidates.map((u) => u.weight)) : undefined;
    if (this.#table) for (const resolve of this.#healthyWaiters.splice(0)) resolve();
  }
}
