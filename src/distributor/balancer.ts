// Picks the analyzer for each message: a Vose alias table over the healthy analyzers' weights,
// rebuilt from scratch and swapped in whole whenever the healthy set changes. Rebuilding (instead of
// remapping indices of a table built for another set) is what keeps a failed analyzer's share going
// to the survivors in proportion to their own weights.
// Analyzer groups (ANALYZER_GROUPS): a group's weight is shared among its healthy instances (evenly,
// unless an operator changed an instance's part), so a group's share does not depend on how many
// replicas it has; an analyzer outside a group is its own weight.
// The balancer is the only writer of upstream state (health, weight, id, counters) and of the group
// weights: every change goes through one of its methods, so none can miss the table. Its reads never write.

import type { Random } from "../math/random.ts";
import { type AliasTable, buildAlias, pickAlias } from "./alias.ts";
import { createUpstream, type Upstream, type UpstreamState, type UpstreamTarget } from "./upstream.ts";

export type HealthChange = { upstream: Upstream; healthy: boolean; reason: string };

export type BalancerOptions = {
  random?: Random;
  /** ANALYZER_GROUPS: each group's weight, shared among its healthy instances. */
  groups?: readonly { name: string; weight: number }[];
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

// The one place an Upstream is written: the balancer's own methods below.
const state = (upstream: Upstream) => upstream as UpstreamState;

export class Balancer {
  #upstreams: readonly Upstream[];
  #groups: Map<string, number>;
  /** Per group, the sum of its healthy instances' parts: what its weight is divided by. */
  #groupParts = new Map<string, number>();
  #random: Random;
  #slowStartMs: number;
  #maxEjectionPercent: number;
  #now: () => number;
  #rampTimer: ReturnType<typeof setInterval> | undefined;
  #table: AliasTable | undefined;
  #candidates: Upstream[] = [];
  /** pickCounts' tally, one slot per candidate, all zero between calls. */
  #counts = new Uint32Array(0);
  #healthyWaiters: (() => void)[] = [];
  #listeners: ((change: HealthChange) => void)[] = [];

  constructor(upstreams: readonly Upstream[], options: BalancerOptions = {}) {
    this.#upstreams = upstreams;
    this.#groups = new Map((options.groups ?? []).map((g) => [g.name, checkWeight(g.weight)]));
    for (const u of upstreams) this.#checkGroup(u.group);
    this.#random = options.random ?? Math.random;
    this.#slowStartMs = options.slowStartMs ?? 0;
    this.#maxEjectionPercent = options.maxEjectionPercent ?? 50;
    this.#now = options.now ?? (() => performance.now());
    this.#rebuild();
  }

  get upstreams(): readonly Upstream[] {
    return this.#upstreams;
  }

  /** Each group's weight, in ANALYZER_GROUPS order; empty outside groups. */
  get groups(): ReadonlyMap<string, number> {
    return this.#groups;
  }

  /**
   * Replaces the set of analyzers with one per target, in order (service discovery). An analyzer
   * already known by URL keeps its Upstream, so its health and counters carry over, and takes the
   * target's weight unless an operator pinned one (pinWeight); the others are new and count once
   * they are healthy. An address that now belongs to another group (a pod's IP given to another
   * Service's pod) is a new analyzer. Returns the new set.
   */
  setTargets(targets: readonly UpstreamTarget[]): readonly Upstream[] {
    for (const t of targets) this.#checkGroup(t.group ?? null);
    const byUrl = new Map(this.#upstreams.map((u) => [u.url, u]));
    this.#upstreams = targets.map((t) => {
      const existing = byUrl.get(t.url);
      const group = t.group ?? null;
      const serverName = t.serverName ?? null;
      if (!existing || existing.group !== group || existing.serverName !== serverName)
        return createUpstream(t.url, t.weight, group, serverName);
      if (!existing.weightPinned) state(existing).weight = t.weight;
      return existing;
    });
    this.#rebuild();
    return this.#upstreams;
  }

  /** The analyzer for the next message, or undefined when none is healthy (and weighted). */
  pick(): Upstream | undefined {
    const table = this.#table;
    return table && this.#candidates[pickAlias(table, this.#random)];
  }

  /**
   * `n` picks at once, as how many went to each analyzer (the order the picks came in is not
   * kept): the same draws as `n` calls of pick(), without a lookup per message. Undefined when
   * none is healthy.
   */
  pickCounts(n: number): [Upstream, number][] | undefined {
    const table = this.#table;
    if (table === undefined) return undefined;
    const candidates = this.#candidates;
    if (n === 1) return [[candidates[pickAlias(table, this.#random)], 1]]; // a single log: most requests
    const counts = this.#counts; // sized by #rebuild; zeroed again below, so no allocation per call
    for (let i = 0; i < n; i++) counts[pickAlias(table, this.#random)]++;
    const out: [Upstream, number][] = [];
    for (let c = 0; c < candidates.length; c++) {
      if (counts[c] > 0) out.push([candidates[c], counts[c]]);
      counts[c] = 0;
    }
    return out;
  }

  /**
   * The analyzer for a message whose draw is `u` in [0, 1) instead of a random one: a stored
   * message draws from its id (math/random.ts hashUniform), so a replay picks the same analyzer
   * as the first try while the healthy set is the same, and that analyzer can tell the repeat.
   */
  pickAt(u: number): Upstream | undefined {
    const table = this.#table;
    return table && this.#candidates[pickAlias(table, () => u)];
  }

  get healthyCount(): number {
    return this.#candidates.length;
  }

  /** Sets an analyzer's health; rebuilds the table and tells listeners only on a real change. */
  setHealthy(upstream: Upstream, healthy: boolean, reason: string): void {
    const s = state(upstream);
    if (!healthy) s.lastError = reason;
    if (s.healthy === healthy) return;
    s.healthy = healthy;
    s.healthChanges++;
    if (healthy) {
      s.lastError = null;
      if (this.#slowStartMs > 0 && s.everHealthy) s.rampStartedAt = this.#now();
      s.everHealthy = true;
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

  /** Changes an analyzer's weight (in a group: its part of the group's); 0 drains it. */
  setWeight(upstream: Upstream, weight: number): void {
    state(upstream).weight = checkWeight(weight);
    this.#rebuild();
  }

  /** Changes a group's weight (admin API); 0 drains the whole group. */
  setGroupWeight(group: string, weight: number): void {
    this.#checkGroup(group);
    this.#groups.set(group, checkWeight(weight));
    this.#rebuild();
  }

  /** Changes an analyzer's weight for an operator (admin API): discovery leaves it alone from then on. */
  pinWeight(upstream: Upstream, weight: number): void {
    this.setWeight(upstream, weight);
    state(upstream).weightPinned = true;
  }

  /** Records the analyzer's own id, as its /health answer gives it. */
  learnId(upstream: Upstream, id: string): void {
    state(upstream).id = id;
  }

  /** Counts a request to the analyzer as sent and in flight; pair with requestEnded. */
  requestStarted(upstream: Upstream): void {
    const s = state(upstream);
    s.inflight++;
    s.requests++;
  }

  /** Counts a request's `messages` as delivered (ok) or failed. */
  requestEnded(upstream: Upstream, messages: number, ok: boolean): void {
    const s = state(upstream);
    s.inflight--;
    if (ok) s.delivered += messages;
    else s.failed += messages;
  }

  onChange(listener: (change: HealthChange) => void): void {
    this.#listeners.push(listener);
  }

  /** Resolves as soon as some analyzer can be picked. */
  whenAvailable(): Promise<void> {
    if (this.#table) return Promise.resolve();
    return new Promise((resolve) => this.#healthyWaiters.push(resolve));
  }

  /**
   * The weight picks use now: 0 while down, else the configured one, scaled down while slow start
   * ramps it up. Computed from the clock, without writing: a /metrics scrape changes nothing.
   */
  effectiveWeight(upstream: Upstream): number {
    if (!upstream.healthy) return 0;
    const weight = this.#baseWeight(upstream);
    const progress = this.#rampProgress(upstream, this.#now());
    return progress >= 1 ? weight : weight * Math.max(SLOW_START_FLOOR, progress);
  }

  /** Its weight, or in a group its part of the group's weight among the healthy instances. */
  #baseWeight(upstream: Upstream): number {
    if (upstream.group === null) return upstream.weight;
    const parts = this.#groupParts.get(upstream.group) ?? 0;
    return parts > 0 ? ((this.#groups.get(upstream.group) ?? 0) * upstream.weight) / parts : 0;
  }

  #checkGroup(group: string | null): void {
    if (group !== null && !this.#groups.has(group)) {
      const known = [...this.#groups.keys()].join(", ") || "none";
      throw new RangeError(`no analyzer group ${JSON.stringify(group)}; known: ${known}`);
    }
  }

  /** How far its slow-start ramp is, from 0 to 1 (1: not ramping). */
  #rampProgress(upstream: Upstream, now: number): number {
    return upstream.rampStartedAt === null ? 1 : (now - upstream.rampStartedAt) / this.#slowStartMs;
  }

  /** Stops the slow-start timer (for shutdown). */
  stop(): void {
    clearInterval(this.#rampTimer);
    this.#rampTimer = undefined;
  }

  #rebuild(): void {
    // Ramps that have run their course end here: effectiveWeight only compares them with the clock.
    const now = this.#now();
    for (const u of this.#upstreams)
      if (u.rampStartedAt !== null && this.#rampProgress(u, now) >= 1) state(u).rampStartedAt = null;
    this.#groupParts.clear();
    for (const u of this.#upstreams)
      if (u.group !== null && u.healthy) this.#groupParts.set(u.group, (this.#groupParts.get(u.group) ?? 0) + u.weight);
    const candidates = this.#upstreams.filter((u) => u.healthy && this.#baseWeight(u) > 0);
    const weights = candidates.map((u) => this.effectiveWeight(u));
    this.#candidates = candidates;
    this.#counts = new Uint32Array(candidates.length);
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

function checkWeight(weight: number): number {
  if (!Number.isFinite(weight) || weight < 0)
    throw new RangeError(`weight must be a finite number >= 0, got ${weight}`);
  return weight;
}
