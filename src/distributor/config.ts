// The distributor's settings, from environment variables (src/config/env.ts).

import { z } from "zod";
import { ConfigError, decimal, host, MIB, parseEnv, wholeNumber, type Env } from "../config/env.ts";

export type AnalyzerTarget = { url: string; weight: number };

/** DNS discovery (ANALYZER_HOST): analyzers are whatever ANALYZER_HOST resolves to, re-resolved every intervalMs. */
export type DiscoveryConfig = {
  host: string;
  port: number;
  intervalMs: number;
  /** DISTRIBUTION_WEIGHTS, applied to the discovered analyzers sorted by address; null when unset. */
  weights: number[] | null;
};

export type DistributorConfig = {
  port: number;
  host: string;
  /** The fixed list from ANALYZERS; empty when `discovery` is set. */
  analyzers: AnalyzerTarget[];
  discovery: DiscoveryConfig | null;
  workers: number;
  batchMax: number;
  batchLingerMs: number;
  queueCapacity: number;
  healthIntervalMs: number;
  healthTimeoutMs: number;
  healthRise: number;
  healthFall: number;
  requestTimeoutMs: number;
  maxAttempts: number;
  maxBodyBytes: number;
  maxPacket: number;
  shutdownTimeoutMs: number;
  /** Bearer token required on POST /analyze, when set. */
  authToken: string | undefined;
  /** Bearer token required on the /admin endpoints, when set. */
  adminToken: string | undefined;
  /** Share of first attempts that may be retried (plus retryBudgetMinPerSecond): stops retry storms. */
  retryBudgetRatio: number;
  retryBudgetMinPerSecond: number;
  /** A recovered analyzer's weight ramps up over this long (0 = at once). */
  slowStartMs: number;
  maxEjectionPercent: number;
};

export const DEFAULT_ANALYZERS = "http://localhost:5000";

const distributorEnv = z.object({
  PORT: wholeNumber(6000, 0, 65535),
  HOST: host,
  // Optional rather than defaulted: setting it together with ANALYZER_HOST is an error.
  ANALYZERS: z.string().optional(),
  DISTRIBUTION_WEIGHTS: z.string().optional(),
  ANALYZER_HOST: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$/, { message: "must be a host name like analyzer (no scheme, no port)" })
    .optional(),
  ANALYZER_PORT: wholeNumber(5000, 1, 65535),
  DISCOVERY_INTERVAL_MS: wholeNumber(2000, 10, 3_600_000),
  WORKERS: wholeNumber(16, 1, 1024),
  BATCH_MAX: wholeNumber(512, 1, 100_000),
  BATCH_LINGER_MS: wholeNumber(2, 0, 1000),
  QUEUE_CAPACITY: wholeNumber(10_000, 1, 10_000_000),
  HEALTH_INTERVAL_MS: wholeNumber(500, 10, 600_000),
  HEALTH_TIMEOUT_MS: wholeNumber(400, 1, 600_000),
  HEALTH_RISE: wholeNumber(1, 1, 100),
  HEALTH_FALL: wholeNumber(2, 1, 100),
  REQUEST_TIMEOUT_MS: wholeNumber(2000, 1, 600_000),
  MAX_ATTEMPTS: wholeNumber(3, 1, 100),
  MAX_BODY_BYTES: wholeNumber(MIB, 1, 1024 * MIB),
  MAX_PACKET: wholeNumber(1000, 1, 1_000_000),
  SHUTDOWN_TIMEOUT_MS: wholeNumber(10_000, 0, 3_600_000),
  AUTH_TOKEN: z.string().optional(),
  ADMIN_TOKEN: z.string().optional(),
  RETRY_BUDGET_RATIO: decimal(0.2, 0, 100),
  RETRY_BUDGET_MIN_PER_SECOND: wholeNumber(100, 0, 1_000_000),
  SLOW_START_MS: wholeNumber(0, 0, 3_600_000),
  MAX_EJECTION_PERCENT: wholeNumber(50, 0, 100),
});

export function loadDistributorConfig(env: Env): DistributorConfig {
  const v = parseEnv(distributorEnv, env);
  if (v.MAX_PACKET > v.QUEUE_CAPACITY) {
    throw new ConfigError(`MAX_PACKET (${v.MAX_PACKET}) is larger than QUEUE_CAPACITY (${v.QUEUE_CAPACITY}): a full packet could never be queued`);
  }
  if (v.ANALYZER_HOST !== undefined && v.ANALYZERS !== undefined) {
    throw new ConfigError(
      `ANALYZER_HOST (${JSON.stringify(v.ANALYZER_HOST)}) and ANALYZERS are both set: use ANALYZER_HOST to find analyzers by DNS or ANALYZERS to list them, not both`,
    );
  }
  return {
    port: v.PORT,
    host: v.HOST,
    analyzers: v.ANALYZER_HOST === undefined ? parseAnalyzers(v.ANALYZERS ?? DEFAULT_ANALYZERS, v.DISTRIBUTION_WEIGHTS) : [],
    discovery:
      v.ANALYZER_HOST === undefined
        ? null
        : {
            host: v.ANALYZER_HOST,
            port: v.ANALYZER_PORT,
            intervalMs: v.DISCOVERY_INTERVAL_MS,
            weights: v.DISTRIBUTION_WEIGHTS === undefined ? null : parseDiscoveryWeights(v.DISTRIBUTION_WEIGHTS),
          },
    workers: v.WORKERS,
    batchMax: v.BATCH_MAX,
    batchLingerMs: v.BATCH_LINGER_MS,
    queueCapacity: v.QUEUE_CAPACITY,
    healthIntervalMs: v.HEALTH_INTERVAL_MS,
    healthTimeoutMs: v.HEALTH_TIMEOUT_MS,
    healthRise: v.HEALTH_RISE,
    healthFall: v.HEALTH_FALL,
    requestTimeoutMs: v.REQUEST_TIMEOUT_MS,
    maxAttempts: v.MAX_ATTEMPTS,
    maxBodyBytes: v.MAX_BODY_BYTES,
    maxPacket: v.MAX_PACKET,
    shutdownTimeoutMs: v.SHUTDOWN_TIMEOUT_MS,
    authToken: v.AUTH_TOKEN,
    adminToken: v.ADMIN_TOKEN,
    retryBudgetRatio: v.RETRY_BUDGET_RATIO,
    retryBudgetMinPerSecond: v.RETRY_BUDGET_MIN_PER_SECOND,
    slowStartMs: v.SLOW_START_MS,
    maxEjectionPercent: v.MAX_EJECTION_PERCENT,
  };
}

/**
 * ANALYZERS is a comma-separated list of base URLs, each optionally `URL=WEIGHT`;
 * DISTRIBUTION_WEIGHTS (`1,2,3` or `[1,2,3]`) gives one weight per analyzer, in order, instead.
 */
export function parseAnalyzers(analyzers: string, weights: string | undefined): AnalyzerTarget[] {
  const entries = analyzers
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (entries.length === 0) throw new ConfigError(`ANALYZERS must list at least one URL, got ${JSON.stringify(analyzers)}`);

  const targets = entries.map((entry) => {
    const eq = entry.lastIndexOf("=");
    const rawUrl = eq === -1 ? entry : entry.slice(0, eq);
    const rawWeight = eq === -1 ? undefined : entry.slice(eq + 1);
    return { url: parseUrl(rawUrl), weight: rawWeight === undefined ? undefined : parseWeight("ANALYZERS", rawWeight) };
  });

  if (weights !== undefined) {
    if (targets.some((t) => t.weight !== undefined)) {
      throw new ConfigError("ANALYZERS gives weights with URL=WEIGHT and DISTRIBUTION_WEIGHTS is set too: use one or the other");
    }
    const list = parseWeightList(weights);
    if (list.length !== targets.length) {
      throw new ConfigError(
        `DISTRIBUTION_WEIGHTS has ${list.length} weights for ${targets.length} analyzers, got ${JSON.stringify(weights)}: give one weight per analyzer, in ANALYZERS order`,
      );
    }
    targets.forEach((t, i) => (t.weight = list[i]));
  }

  const resolved = targets.map((t) => ({ url: t.url, weight: t.weight ?? 1 }));
  const seen = new Set<string>();
  for (const t of resolved) {
    if (seen.has(t.url)) throw new ConfigError(`ANALYZERS lists ${t.url} twice: give it one entry with the sum of the weights`);
    seen.add(t.url);
  }
  if (!resolved.some((t) => t.weight > 0)) {
    throw new ConfigError(`at least one analyzer weight must be positive, got ${JSON.stringify(resolved.map((t) => t.weight))}`);
  }
  return resolved;
}

/** With discovery the analyzer count is only known at run time, so only the list itself is checked here. */
function parseDiscoveryWeights(raw: string): number[] {
  const list = parseWeightList(raw);
  if (!list.some((w) => w > 0)) throw new ConfigError(`at least one analyzer weight must be positive, got ${JSON.stringify(list)}`);
  return list;
}

function parseWeightList(raw: string): number[] {
  const inner = raw.trim().replace(/^\[(.*)\]$/s, "$1");
  const parts = inner.split(",").map((s) => s.trim());
  if (parts.length === 1 && parts[0] === "") {
    throw new ConfigError(`DISTRIBUTION_WEIGHTS must be a list like 1,2,3 or [1,2,3], got ${JSON.stringify(raw)}`);
  }
  return parts.map((p) => parseWeight("DISTRIBUTION_WEIGHTS", p));
}

function parseWeight(variable: string, raw: string): number {
  const s = raw.trim();
  const n = Number(s);
  if (s === "" || !Number.isFinite(n) || n < 0) {
    throw new ConfigError(`${variable} weights must be finite numbers >= 0, got ${JSON.stringify(raw)}`);
  }
  return n;
}

function parseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`ANALYZERS entries must be http(s) URLs like http://localhost:5000, got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(`ANALYZERS entries must be http(s) URLs like http://localhost:5000, got ${JSON.stringify(raw)}`);
  }
  return url.href.replace(/\/+$/, "");
}
