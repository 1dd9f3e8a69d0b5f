// An analyzer as the distributor sees it: where it is, its weight, its health and its counters.
// Health state lives here, on the upstream (as in Caddy), but it has one writer: the balancer
// (balancer.ts), so the pick table follows every change. Everyone else holds an `Upstream`, whose
// fields are read-only.

export type UpstreamState = {
  /** The analyzer's own id, learned from its /health answer; host:port until then. */
  id: string;
  readonly url: string;
  readonly analyzeUrl: string;
  readonly healthUrl: string;
  /** Its ANALYZER_GROUPS group, which shares a weight among its healthy instances; null outside groups. */
  readonly group: string | null;
  /**
   * The name its TLS certificate must be for, when not the URL's host: with discovery over https,
   * the DNS name its address was found under. Null: the URL's host.
   */
  readonly serverName: string | null;
  /**
   * Outside a group, its weight. In a group, its part of the group's weight, relative to the other
   * instances' (1 each unless an operator changes one; 0 drains it).
   */
  weight: number;
  /** Set at run time through the admin API: discovery then leaves the weight alone. */
  weightPinned: boolean;
  healthy: boolean;
  /** Has it been healthy before? (Slow start applies to returns, not to the first time up.) */
  everHealthy: boolean;
  /** When its slow-start ramp began, while it ramps; else null. */
  rampStartedAt: number | null;
  /** Why it was last marked down, for /stats and logs. */
  lastError: string | null;
  /** Times it went down or came back. */
  healthChanges: number;
  /** Requests sent to it (each carries a batch of messages). */
  requests: number;
  /** Messages it analyzed. */
  delivered: number;
  /** Messages in requests to it that failed. */
  failed: number;
  /** Requests to it in flight right now. */
  inflight: number;
};

/** An upstream as everyone but the balancer sees it. */
export type Upstream = Readonly<UpstreamState>;

/** Where an analyzer is, its group and the weight it should have (configuration, discovery). */
export type UpstreamTarget = {
  readonly url: string;
  readonly weight: number;
  readonly group?: string | null;
  readonly serverName?: string | null;
};

export function createUpstream(
  url: string,
  weight: number,
  group: string | null = null,
  serverName: string | null = null,
): Upstream {
  return {
    id: new URL(url).host,
    url,
    analyzeUrl: `${url}/analyze`,
    healthUrl: `${url}/health`,
    group,
    serverName,
    weight,
    weightPinned: false,
    healthy: false,
    everHealthy: false,
    rampStartedAt: null,
    lastError: "not checked yet",
    healthChanges: 0,
    requests: 0,
    delivered: 0,
    failed: 0,
    inflight: 0,
  };
}
