// The distributor's settings, each described once (src/config/env.ts): parsed from the environment
// and rendered into docs/configuration.md by `bun run docs:config`.

import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import {
  ConfigError,
  decimal,
  type Env,
  flag,
  host,
  MIB,
  matching,
  oneOf,
  parseSettings,
  pemFile,
  type Settings,
  text,
  wholeNumber,
} from "../config/env.ts";
import { tlsFiles, tlsSettings } from "../config/tls.ts";
import { serverSettings } from "../http/server.ts";

export type AnalyzerTarget = { url: string; weight: number };

/** An entry of ANALYZER_GROUPS: a DNS name whose instances share `weight` evenly. */
export type AnalyzerGroup = { name: string; weight: number };

const HOST_NAME = /^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9])?$/;

export const DEFAULT_ANALYZERS = "http://localhost:5000";
export const DEFAULT_SPOOL_DIR = "data/spool";

/** Every setting once, in the order docs/configuration.md lists them; keys are the config's fields. */
export const distributorSettings = {
  port: { env: "PORT", schema: wholeNumber(6000, 0, 65535), doc: "port to listen on (`0` picks a free one)" },
  host: { env: "HOST", schema: host(), doc: "address to listen on" },
  ...tlsSettings,
  // Optional rather than defaulted: setting it together with ANALYZER_HOST is an error.
  analyzers: {
    env: "ANALYZERS",
    schema: text("http(s) URLs"),
    shownDefault: DEFAULT_ANALYZERS,
    doc: "comma-separated analyzer base URLs, each optionally `URL=WEIGHT` (weight 1 when omitted)",
  },
  distributionWeights: {
    env: "DISTRIBUTION_WEIGHTS",
    schema: text("numbers >= 0, `1,2,3` or `[1,2,3]`"),
    doc: "one weight per analyzer in `ANALYZERS` order; decimals and zeros allowed, at least one positive; a count that differs from `ANALYZERS` is a startup error",
  },
  analyzerHost: {
    env: "ANALYZER_HOST",
    schema: matching(HOST_NAME, "host name like analyzer (no scheme, no port)"),
    doc: "find the analyzers by DNS instead of `ANALYZERS` (setting both is a startup error): every IPv4 address this name resolves to is one analyzer; `DISTRIBUTION_WEIGHTS` then applies to them sorted by address, extras weigh 1, surplus weights are unused (see [DNS discovery](#dns-discovery))",
  },
  analyzerGroups: {
    env: "ANALYZER_GROUPS",
    schema: text("`name=weight` entries, like `analyzer-main=9,analyzer-canary=1`"),
    doc: "find the analyzers by DNS, one weighted group per name (instead of `ANALYZERS`, `ANALYZER_HOST` and `DISTRIBUTION_WEIGHTS`): every IPv4 address a name resolves to is one instance of its group, and a group's weight is shared evenly among its healthy instances, however many there are (weight 1 when omitted; see [Analyzer groups](#analyzer-groups))",
  },
  analyzerPort: {
    env: "ANALYZER_PORT",
    schema: wholeNumber(5000, 1, 65535),
    doc: "with `ANALYZER_HOST` or `ANALYZER_GROUPS`: the analyzers' port",
  },
  discoveryIntervalMs: {
    env: "DISCOVERY_INTERVAL_MS",
    schema: wholeNumber(2000, 10, 3_600_000),
    doc: "with `ANALYZER_HOST` or `ANALYZER_GROUPS`: how often the names are resolved again, so analyzers added or removed join or leave without a restart",
  },
  analyzerScheme: {
    env: "ANALYZER_SCHEME",
    schema: oneOf(["http", "https"], "http"),
    doc: "with `ANALYZER_HOST` or `ANALYZER_GROUPS`: `https` connects to each address found and verifies its certificate against the DNS name that was resolved (sent as SNI too), so one certificate for the Service name covers every instance; with `ANALYZERS` each URL says its scheme, and setting this is a startup error (see [TLS to analyzers](operations.md#tls-to-analyzers))",
  },
  analyzerCaFile: {
    env: "ANALYZER_CA_FILE",
    schema: pemFile(),
    doc: "the CA bundle `https` analyzers' certificates must chain to, instead of the CAs Bun trusts by default (Mozilla's list, which a private CA is not in); a certificate that does not verify (another CA, another name, expired) is refused at the handshake, and the analyzer counts as down with the reason in `/stats`; set while no analyzer is `https`: a startup error. Read again on `SIGHUP` and when it changes, as the client certificate is",
  },
  analyzerCertFile: {
    env: "ANALYZER_CERT_FILE",
    schema: pemFile(),
    doc: "a client certificate the distributor presents to `https` analyzers that ask for one (mTLS); needs `ANALYZER_KEY_FILE`",
  },
  analyzerKeyFile: {
    env: "ANALYZER_KEY_FILE",
    schema: pemFile(),
    doc: "the private key of `ANALYZER_CERT_FILE` (unencrypted PEM); one without the other, or a key that is not the certificate's: a startup error",
  },
  workers: {
    env: "WORKERS",
    schema: wholeNumber(16, 1, 1024),
    doc: "async workers draining the queue; each has at most one batch in flight",
  },
  batchMax: {
    env: "BATCH_MAX",
    // 2048 rather than 512: agents' 100-line batches merge into fewer, larger analyzer requests
    // (docs/operations.md#tuning-workers-batch_max-and-batch_linger_ms).
    schema: wholeNumber(2048, 1, 100_000),
    doc: "most messages a worker takes from the queue at once (one request per analyzer carries its share of them)",
  },
  batchMaxBytes: {
    env: "BATCH_MAX_BYTES",
    // Half the analyzers' default MAX_BODY_BYTES: room for JSON escaping and the wrapping.
    schema: wholeNumber(512 * 1024, 1024, 1024 * MIB),
    doc: "about the most bytes of messages one analyzer request carries: a worker's batch (messages of several requests) is cut into requests of at most this; keep it below the analyzers' `MAX_BODY_BYTES`. A request an analyzer still refuses as too large (413) is halved and sent again; a single message it refuses is a 413 to its client (a dead letter when async)",
  },
  batchLingerMs: {
    env: "BATCH_LINGER_MS",
    schema: wholeNumber(2, 0, 1000),
    doc: "while a worker is busy with a batch it started less than this long ago, a queue shorter than `BATCH_MAX` waits for it instead of waking an idle worker (bigger batches, fewer analyzer requests); never delays a message when no worker is busy; 0: off",
  },
  queueCapacity: {
    env: "QUEUE_CAPACITY",
    schema: wholeNumber(10_000, 1, 10_000_000),
    doc: "messages the queue holds; beyond it requests get 503 at once",
  },
  spool: {
    env: "SPOOL",
    schema: oneOf(["disk", "memory"], "disk"),
    doc: "where async requests' messages wait: `disk` stores them in `SPOOL_DIR` before the 202, so a crash loses none of them (replayed on the next start); `memory` keeps them in the queue only, and a crash loses what is queued (see [what a 202 promises](operations.md#what-a-202-promises))",
  },
  spoolDir: {
    env: "SPOOL_DIR",
    schema: text("folder path"),
    shownDefault: DEFAULT_SPOOL_DIR,
    doc: "the spool's folder, created if missing, relative to the working directory; one distributor per folder (a second one refuses to start); set but empty (`SPOOL_DIR=`): same as `SPOOL=memory`",
  },
  spoolMaxBytes: {
    env: "SPOOL_MAX_BYTES",
    schema: wholeNumber(1024 * MIB, 1024, 1024 * 1024 * MIB),
    doc: "most bytes of stored messages and dead letters; beyond it async requests get 503 + `Retry-After`, nothing is dropped",
  },
  spoolSync: {
    env: "SPOOL_SYNC",
    schema: oneOf(["normal", "full"], "normal"),
    doc: "`normal`: a commit is written to the OS before the 202 (survives a crash of the distributor, not of the machine); `full`: also fsync'ed (survives a power loss, costs a disk flush per commit)",
  },
  healthIntervalMs: {
    env: "HEALTH_INTERVAL_MS",
    schema: wholeNumber(500, 10, 600_000),
    doc: "how often every analyzer's `/health` is probed (in parallel)",
  },
  healthTimeoutMs: {
    env: "HEALTH_TIMEOUT_MS",
    schema: wholeNumber(400, 1, 600_000),
    doc: "a probe without an answer by then fails",
  },
  healthRise: {
    env: "HEALTH_RISE",
    schema: wholeNumber(1, 1, 100),
    doc: "good probes in a row to bring an analyzer back",
  },
  healthFall: {
    env: "HEALTH_FALL",
    schema: wholeNumber(2, 1, 100),
    doc: "failed probes in a row to take an analyzer out",
  },
  requestTimeoutMs: {
    env: "REQUEST_TIMEOUT_MS",
    schema: wholeNumber(2000, 1, 600_000),
    doc: "a forward to an analyzer without an answer by then fails (and is retried elsewhere)",
  },
  maxAttempts: {
    env: "MAX_ATTEMPTS",
    schema: wholeNumber(3, 1, 100),
    doc: "delivery attempts per message, on different analyzers",
  },
  maxBodyBytes: {
    env: "MAX_BODY_BYTES",
    schema: wholeNumber(MIB, 1, 1024 * MIB),
    doc: "largest request body (413 beyond)",
  },
  maxPacket: {
    env: "MAX_PACKET",
    schema: wholeNumber(1000, 1, 1_000_000),
    doc: 'most messages in one request, in every format (a `{"logs"}` packet, an agent\'s batch; 400 beyond); at most `QUEUE_CAPACITY`',
  },
  shutdownTimeoutMs: {
    env: "SHUTDOWN_TIMEOUT_MS",
    schema: wholeNumber(10_000, 0, 3_600_000),
    doc: "on SIGTERM/SIGINT, how long to keep delivering queued messages before giving up",
  },
  retryBudgetRatio: {
    env: "RETRY_BUDGET_RATIO",
    schema: decimal(0.2, 0, 100),
    doc: "retries of failed analyzer requests may add at most this share of the successful ones, plus `RETRY_BUDGET_MIN_PER_SECOND`…",
  },
  retryBudgetMinPerSecond: {
    env: "RETRY_BUDGET_MIN_PER_SECOND",
    schema: wholeNumber(100, 0, 1_000_000),
    doc: "…retries per second on top of `RETRY_BUDGET_RATIO`, so retries cannot multiply the load when many analyzers fail at once",
  },
  maxEjectionPercent: {
    env: "MAX_EJECTION_PERCENT",
    schema: wholeNumber(50, 0, 100),
    doc: "a 5xx or timeout while forwarding takes an analyzer out at once only while at most this share of analyzers is out; a refused connection always does",
  },
  slowStartMs: {
    env: "SLOW_START_MS",
    schema: wholeNumber(0, 0, 3_600_000),
    doc: "a returning analyzer's weight ramps from 5% to full over this long (HAProxy's `slowstart`); 0: full weight at once",
  },
  authToken: {
    env: "AUTH_TOKEN",
    schema: text("any text"),
    doc: "when set, every ingest endpoint (`POST /analyze`, `/v1/logs`, `/_bulk`, `/loki/api/v1/push`) requires `Authorization: Bearer <token>` (401 otherwise)",
  },
  adminToken: {
    env: "ADMIN_TOKEN",
    schema: text("any text"),
    doc: "turns the `/admin/…` endpoints on, for requests with `Authorization: Bearer <token>` (401 otherwise); unset (and no `ADMIN_LOOPBACK`): they answer 404 (see [control endpoints](api.md#who-may-call-what))",
  },
  adminLoopback: {
    env: "ADMIN_LOOPBACK",
    schema: flag(false),
    doc: "turns the `/admin/…` endpoints on for clients connecting from a loopback address (127.0.0.0/8, ::1), without a token unless `ADMIN_TOKEN` is set too; other clients get 404. Behind a proxy on the same machine every client is loopback: use `ADMIN_TOKEN` there",
  },
  ...serverSettings,
} satisfies Settings;

/** The distributor's config: the settings' values, with the six that choose analyzers resolved into `analyzers`, `groups` and `discovery`. */
export type DistributorConfig = ReturnType<typeof loadDistributorConfig>;
/** DNS discovery (ANALYZER_HOST or ANALYZER_GROUPS): the names to resolve, each again every intervalMs. */
export type DiscoveryConfig = NonNullable<DistributorConfig["discovery"]>;
/**
 * A name discovery resolves: with ANALYZER_GROUPS one per group (`group` is its name, `weights`
 * null); with ANALYZER_HOST the one name, no group, and DISTRIBUTION_WEIGHTS by sorted address
 * (null when unset).
 */
export type DiscoveredName = { host: string; group: string | null; weights: number[] | null };

export function loadDistributorConfig(env: Env) {
  const {
    analyzers,
    distributionWeights,
    analyzerHost,
    analyzerGroups,
    analyzerPort,
    discoveryIntervalMs,
    analyzerScheme,
    analyzerCaFile,
    analyzerCertFile,
    analyzerKeyFile,
    spool,
    spoolDir,
    tlsCertFile,
    tlsKeyFile,
    tlsClientCaFile,
    ...rest
  } = parseSettings(distributorSettings, env);
  const tls = tlsFiles({ tlsCertFile, tlsKeyFile, tlsClientCaFile });
  if (rest.maxPacket > rest.queueCapacity) {
    throw new ConfigError(
      `MAX_PACKET (${rest.maxPacket}) is larger than QUEUE_CAPACITY (${rest.queueCapacity}): a full packet could never be queued`,
    );
  }
  if (analyzerHost !== undefined && analyzers !== undefined) {
    throw new ConfigError(
      `ANALYZER_HOST (${JSON.stringify(analyzerHost)}) and ANALYZERS are both set: use ANALYZER_HOST to find analyzers by DNS or ANALYZERS to list them, not both`,
    );
  }
  if (analyzerGroups !== undefined) {
    const also = [
      ["ANALYZERS", analyzers],
      ["ANALYZER_HOST", analyzerHost],
      ["DISTRIBUTION_WEIGHTS", distributionWeights],
    ].filter(([, value]) => value !== undefined);
    if (also.length > 0) {
      throw new ConfigError(
        `ANALYZER_GROUPS is set together with ${also.map(([name]) => name).join(" and ")}: ANALYZER_GROUPS names the analyzers and their weights on its own, leave the others unset`,
      );
    }
  }
  const groups = analyzerGroups === undefined ? [] : parseGroups(analyzerGroups);
  const names: DiscoveredName[] =
    analyzerGroups !== undefined
      ? groups.map((g) => ({ host: g.name, group: g.name, weights: null }))
      : analyzerHost !== undefined
        ? [
            {
              host: analyzerHost,
              group: null,
              weights: distributionWeights === undefined ? null : parseDiscoveryWeights(distributionWeights),
            },
          ]
        : [];
  const discovered = names.length > 0;
  // Unset and `http` are different here: ANALYZER_SCHEME=https beside ANALYZERS=http://… is a mistake worth stopping for.
  if (!discovered && (env.ANALYZER_SCHEME ?? "") !== "") {
    throw new ConfigError(
      `ANALYZER_SCHEME (${JSON.stringify(env.ANALYZER_SCHEME)}) applies to analyzers found by ANALYZER_HOST or ANALYZER_GROUPS: with ANALYZERS, write the scheme in each URL (https://…)`,
    );
  }
  const targets = discovered ? [] : parseAnalyzers(analyzers ?? DEFAULT_ANALYZERS, distributionWeights);
  const analyzerTls = checkAnalyzerTls(
    { caFile: analyzerCaFile, certFile: analyzerCertFile, keyFile: analyzerKeyFile },
    discovered ? analyzerScheme === "https" : targets.some((t) => t.url.startsWith("https:")),
  );
  // Set but empty is the one place where empty does not mean unset: the documented opt-out.
  const memory = spool === "memory" || env.SPOOL_DIR === "";
  return {
    ...rest,
    /** The certificate files to serve HTTPS with; null: plain HTTP. */
    tls,
    /** Where async messages wait: the spool's folder, or null to keep them in memory only. */
    spoolDir: memory ? null : (spoolDir ?? DEFAULT_SPOOL_DIR),
    /** The fixed list from ANALYZERS; empty when `discovery` is set. */
    analyzers: targets,
    /** ANALYZER_GROUPS, in its order; empty without it. */
    groups,
    discovery: discovered
      ? { names, port: analyzerPort, scheme: analyzerScheme, intervalMs: discoveryIntervalMs }
      : null,
    /** The PEM files for https analyzers: the CA bundle to verify them against, our client certificate. */
    analyzerTls,
  };
}

/** ANALYZER_CA_FILE, ANALYZER_CERT_FILE and ANALYZER_KEY_FILE: the paths, once they make sense together. */
export type AnalyzerTlsFiles = { caFile?: string; certFile?: string; keyFile?: string };

/**
 * A client certificate needs its key and the key must be the certificate's (or every handshake
 * would fail later, far from the cause); TLS settings with no https analyzer are an error rather
 * than a warning, because the operator who set them believes the traffic is encrypted.
 */
function checkAnalyzerTls(files: AnalyzerTlsFiles, anyHttps: boolean): AnalyzerTlsFiles {
  const { caFile, certFile, keyFile } = files;
  if ((certFile === undefined) !== (keyFile === undefined)) {
    const [set, unset] =
      certFile === undefined
        ? ["ANALYZER_KEY_FILE", "ANALYZER_CERT_FILE"]
        : ["ANALYZER_CERT_FILE", "ANALYZER_KEY_FILE"];
    throw new ConfigError(
      `${set} is set without ${unset}: a client certificate needs both the certificate and its key`,
    );
  }
  if (certFile !== undefined && keyFile !== undefined) {
    let matches: boolean;
    try {
      matches = new X509Certificate(readFileSync(certFile)).checkPrivateKey(createPrivateKey(readFileSync(keyFile)));
    } catch (error) {
      throw new ConfigError(
        `ANALYZER_CERT_FILE (${certFile}) and ANALYZER_KEY_FILE (${keyFile}) must be a PEM certificate and its unencrypted key: ${(error as Error).message}`,
      );
    }
    if (!matches) {
      throw new ConfigError(
        `ANALYZER_KEY_FILE (${keyFile}) is not the key of ANALYZER_CERT_FILE (${certFile}): give the key the certificate was issued for`,
      );
    }
  }
  if (caFile !== undefined) {
    try {
      new X509Certificate(readFileSync(caFile));
    } catch (error) {
      throw new ConfigError(`ANALYZER_CA_FILE (${caFile}) must hold PEM certificates: ${(error as Error).message}`);
    }
  }
  const set = [
    ["ANALYZER_CA_FILE", caFile],
    ["ANALYZER_CERT_FILE", certFile],
  ].filter(([, value]) => value !== undefined);
  if (set.length > 0 && !anyHttps) {
    throw new ConfigError(
      `${set.map(([name]) => name).join(" and ")} ${set.length > 1 ? "are" : "is"} set but no analyzer is reached over https, so nothing would be encrypted: use https:// URLs in ANALYZERS (or ANALYZER_SCHEME=https with ANALYZER_HOST / ANALYZER_GROUPS), or unset ${set.length > 1 ? "them" : "it"}`,
    );
  }
  return files;
}

/** ANALYZER_GROUPS: `name=weight` entries (weight 1 when omitted), each name a DNS name, listed once. */
export function parseGroups(raw: string): AnalyzerGroup[] {
  const entries = raw
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (entries.length === 0)
    throw new ConfigError(`ANALYZER_GROUPS must list at least one name=weight, got ${JSON.stringify(raw)}`);
  const groups = entries.map((entry) => {
    const eq = entry.indexOf("=");
    const name = (eq === -1 ? entry : entry.slice(0, eq)).trim();
    if (!HOST_NAME.test(name)) {
      throw new ConfigError(
        `ANALYZER_GROUPS names must be host names like analyzer-main (no scheme, no port), got ${JSON.stringify(name)}`,
      );
    }
    return { name, weight: eq === -1 ? 1 : parseWeight("ANALYZER_GROUPS", entry.slice(eq + 1)) };
  });
  checkEntries(
    "ANALYZER_GROUPS",
    "ANALYZER_GROUPS",
    groups.map((g) => [g.name, g.weight]),
  );
  return groups;
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
  if (entries.length === 0)
    throw new ConfigError(`ANALYZERS must list at least one URL, got ${JSON.stringify(analyzers)}`);

  const targets = entries.map((entry) => {
    const eq = entry.lastIndexOf("=");
    const rawUrl = eq === -1 ? entry : entry.slice(0, eq);
    const rawWeight = eq === -1 ? undefined : entry.slice(eq + 1);
    return { url: parseUrl(rawUrl), weight: rawWeight === undefined ? undefined : parseWeight("ANALYZERS", rawWeight) };
  });

  if (weights !== undefined) {
    if (targets.some((t) => t.weight !== undefined)) {
      throw new ConfigError(
        "ANALYZERS gives weights with URL=WEIGHT and DISTRIBUTION_WEIGHTS is set too: use one or the other",
      );
    }
    const list = parseWeightList(weights);
    if (list.length !== targets.length) {
      throw new ConfigError(
        `DISTRIBUTION_WEIGHTS has ${list.length} weights for ${targets.length} analyzers, got ${JSON.stringify(weights)}: give one weight per analyzer, in ANALYZERS order`,
      );
    }
    targets.forEach((t, i) => {
      t.weight = list[i];
    });
  }

  const resolved = targets.map((t) => ({ url: t.url, weight: t.weight ?? 1 }));
  checkEntries(
    "ANALYZERS",
    "analyzer",
    resolved.map((t) => [t.url, t.weight]),
  );
  return resolved;
}

/** Each entry named once, and at least one weight positive: what ANALYZERS and ANALYZER_GROUPS both need. */
function checkEntries(variable: string, weightOf: string, entries: [name: string, weight: number][]): void {
  const seen = new Set<string>();
  for (const [name] of entries) {
    if (seen.has(name))
      throw new ConfigError(`${variable} lists ${name} twice: give it one entry with the sum of the weights`);
    seen.add(name);
  }
  if (!entries.some(([, weight]) => weight > 0)) {
    throw new ConfigError(
      `at least one ${weightOf} weight must be positive, got ${JSON.stringify(entries.map(([, weight]) => weight))}`,
    );
  }
}

/** With discovery the analyzer count is only known at run time, so only the list itself is checked here. */
function parseDiscoveryWeights(raw: string): number[] {
  const list = parseWeightList(raw);
  if (!list.some((w) => w > 0))
    throw new ConfigError(`at least one analyzer weight must be positive, got ${JSON.stringify(list)}`);
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
    throw new ConfigError(
      `ANALYZERS entries must be http(s) URLs like http://localhost:5000, got ${JSON.stringify(raw)}`,
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError(
      `ANALYZERS entries must be http(s) URLs like http://localhost:5000, got ${JSON.stringify(raw)}`,
    );
  }
  return url.href.replace(/\/+$/, "");
}
