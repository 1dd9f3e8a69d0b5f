// DNS discovery: every `intervalMs`, resolve each name to all of its IPv4 addresses (compose gives
// a service one A record per container, so `--scale analyzer=N` means N addresses; so does a
// Kubernetes headless Service, one per ready pod) and hand the balancer one analyzer per address.
// - ANALYZER_GROUPS: one name per group; every address is an instance of that group, and the
//   balancer shares the group's weight among them, so a weight follows the name, not an address.
// - ANALYZER_HOST: one name; DISTRIBUTION_WEIGHTS applies by position among the addresses sorted
//   numerically (DNS answers come in any order, the sorted one is the same on every round and
//   anyone can rebuild it from /stats).
// With ANALYZER_SCHEME=https each analyzer is https://<address>:<port>, and its certificate is
// verified against the name that was resolved (upstream.serverName), not the address: the
// certificate a Kubernetes user has is for the Service's name, not for every pod's IP.
// The balancer keeps the Upstream of an analyzer that stays (Balancer.setTargets), so health and
// counters carry over. A failed lookup keeps that name's last known set: a DNS hiccup must not empty
// the pick table, and dead analyzers are the health checker's business.

import { lookup } from "node:dns/promises";
import type { Balancer } from "./balancer.ts";
import type { DiscoveredName } from "./config.ts";
import type { Upstream, UpstreamTarget } from "./upstream.ts";

/** All addresses of `host`; rejects when there are none. */
export type Resolver = (host: string) => Promise<string[]>;

/** The weight of a discovered analyzer that DISTRIBUTION_WEIGHTS has no entry for. */
export const DEFAULT_DISCOVERED_WEIGHT = 1;

/** getaddrinfo, so /etc/hosts and Docker's embedded DNS both answer. IPv4 only: the services listen on 0.0.0.0. */
export const resolveIPv4: Resolver = async function resolveIPv4(host) {
  const answers = await lookup(host, { all: true, family: 4 });
  return answers.map((a) => a.address);
};

/** Unique addresses, IPv4 in numeric order (10.0.0.9 before 10.0.0.10), anything else after, as text. */
export function sortAddresses(addresses: readonly string[]): string[] {
  return [...new Set(addresses)].sort((a, b) => {
    const x = ipv4Number(a);
    const y = ipv4Number(b);
    if (x !== null && y !== null) return x - y;
    if (x !== null) return -1;
    if (y !== null) return 1;
    return a < b ? -1 : a > b ? 1 : 0;
  });
}

function ipv4Number(address: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (!m) return null;
  const octets = m.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return null;
  return ((octets[0] * 256 + octets[1]) * 256 + octets[2]) * 256 + octets[3];
}

export type Scheme = "http" | "https";

export type Plan = {
  targets: UpstreamTarget[];
  /** Set when the number of analyzers differs from the number of weights: what was done about it. */
  warning: string | null;
};

/**
 * One analyzer per address, in sorted order, with weights[i] for the i-th; analyzers beyond the
 * weights get DEFAULT_DISCOVERED_WEIGHT, weights beyond the analyzers are unused. No weights: all 1.
 */
export function planTargets(
  addresses: readonly string[],
  port: number,
  weights: readonly number[] | null,
  scheme: Scheme = "http",
): Plan {
  const sorted = sortAddresses(addresses);
  const targets = sorted.map((address, i) => ({
    url: `${scheme}://${address.includes(":") ? `[${address}]` : address}:${port}`,
    weight: weights?.[i] ?? DEFAULT_DISCOVERED_WEIGHT,
  }));
  if (weights === null || weights.length === sorted.length) return { targets, warning: null };
  const counted = `found ${plural(sorted.length, "analyzer")} for ${plural(weights.length, "weight")} in DISTRIBUTION_WEIGHTS`;
  const warning =
    sorted.length > weights.length
      ? `${counted}: the ${sorted.length - weights.length} beyond them by address (${sorted.slice(weights.length).join(", ")}) get weight ${DEFAULT_DISCOVERED_WEIGHT}`
      : `${counted}: weights ${weights.slice(sorted.length).join(",")} are unused until more analyzers appear`;
  return { targets, warning };
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

export type DiscoveryOptions = {
  /** The names to resolve: one per ANALYZER_GROUPS group, or ANALYZER_HOST with its weights. */
  names: readonly DiscoveredName[];
  port: number;
  /** https: each address is reached over TLS and its certificate verified against the name resolved. */
  scheme?: Scheme;
  intervalMs: number;
  balancer: Pick<Balancer, "upstreams" | "setTargets">;
  resolve?: Resolver;
  log?: (line: string) => void;
  /** Called after the set changed, e.g. to probe the new analyzers now rather than next round. */
  onChange?: (upstreams: readonly Upstream[]) => void | Promise<void>;
};

export type Discovery = {
  /** Resolves now (or joins the round in progress) and applies the answer. Never rejects. */
  refresh(): Promise<void>;
  stop(): void;
};

/** Starts resolving at once, then every `intervalMs` after the previous round began (rounds never overlap). */
export function startDiscovery(options: DiscoveryOptions): Discovery {
  const { names, port, intervalMs, balancer } = options;
  const scheme = options.scheme ?? "http";
  const resolve = options.resolve ?? resolveIPv4;
  const log = options.log ?? ((line: string) => console.log(line));
  const grouped = names.some((n) => n.group !== null);
  // Per name: its last good answer, sorted (kept through failed lookups), and its last lookup error,
  // so each is logged once, not every round.
  const known = new Map<string, string[]>(names.map((n) => [n.host, []]));
  const failing = new Map<string, string | null>();
  let applied: string | null = null; // the answers last handed to the balancer

  /** Resolves one name into `known`; false when the lookup failed (its last set is kept). */
  async function lookupOne(host: string): Promise<boolean> {
    let addresses: string[];
    try {
      addresses = sortAddresses(await resolve(host));
      if (addresses.length === 0) throw new Error("no addresses");
    } catch (error) {
      const why = describeLookupError(error);
      if (why !== (failing.get(host) ?? null)) {
        const kept = known.get(host)!.length;
        log(`discovery: cannot resolve ${host}: ${why}; keeping the last known ${plural(kept, "analyzer")}`);
      }
      failing.set(host, why);
      return false;
    }
    if ((failing.get(host) ?? null) !== null) log(`discovery: ${host} resolves again`);
    failing.set(host, null);
    known.set(host, addresses);
    return true;
  }

  async function round(): Promise<void> {
    const answered = await Promise.all(names.map((n) => lookupOne(n.host)));
    if (!answered.includes(true)) return; // nothing new: every set is as it was
    const key = JSON.stringify(names.map((n) => known.get(n.host)));
    if (key === applied) return;
    applied = key;
    const targets: UpstreamTarget[] = [];
    const seen = new Map<string, string>(); // url → the name it was found under
    for (const n of names) {
      const plan = planName(n, known.get(n.host)!, port, scheme);
      if (plan.warning) log(`discovery: warning: ${n.host}:${port}: ${plan.warning}`);
      for (const t of plan.targets) {
        const first = seen.get(t.url);
        if (first !== undefined) {
          log(`discovery: warning: ${t.url} is found under both ${first} and ${n.host}: it stays in ${first}`);
          continue;
        }
        seen.set(t.url, n.host);
        targets.push(t);
      }
    }
    const before = new Set(balancer.upstreams.map((u) => `${u.group}\n${u.url}`));
    const next = balancer.setTargets(targets);
    const joined = next.filter((u) => !before.has(`${u.group}\n${u.url}`)).length;
    const left = before.size - (next.length - joined);
    const counted = `${plural(next.length, "analyzer")} (${joined} joined, ${left} left)`;
    if (grouped) {
      const byGroup = names
        .map((n) => {
          const urls = next.filter((u) => u.group === n.group).map((u) => u.url);
          return `${n.group} ${urls.length === 0 ? "none" : urls.join(" ")}`;
        })
        .join("; ");
      log(`discovery: groups → ${counted}: ${byGroup}`);
    } else {
      const mapping = next.map((u) => `${u.url}=${u.weight}`).join(", ");
      log(`discovery: ${names[0]!.host}:${port} → ${counted}, weights by address: ${mapping}`);
    }
    try {
      await options.onChange?.(next);
    } catch (error) {
      log(`discovery: after the change: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  let inflight: Promise<void> | null = null;
  function refresh(): Promise<void> {
    inflight ??= round().finally(() => (inflight = null));
    return inflight;
  }

  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  async function loop(): Promise<void> {
    const started = performance.now();
    await refresh();
    if (stopped) return;
    timer = setTimeout(loop, Math.max(0, intervalMs - (performance.now() - started)));
  }
  void loop();

  return {
    refresh,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** A group's instances weigh 1 each (the balancer shares the group's weight); ANALYZER_HOST's go by position. */
function planName(name: DiscoveredName, addresses: readonly string[], port: number, scheme: Scheme): Plan {
  const serverName = scheme === "https" ? name.host : null;
  const plan = planTargets(addresses, port, name.group === null ? name.weights : null, scheme);
  const group = name.group;
  return {
    targets: plan.targets.map((t) => ({ ...t, group, serverName })),
    warning: group === null ? plan.warning : null,
  };
}

function describeLookupError(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  if (typeof e?.code === "string") return e.code;
  return String(e?.message ?? error);
}
