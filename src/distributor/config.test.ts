import { describe, expect, test } from "bun:test";
import { ConfigError } from "../config/env.ts";
import { distributorSettings, loadDistributorConfig } from "./config.ts";

describe("loadDistributorConfig", () => {
  test("has documented defaults", () => {
    const c = loadDistributorConfig({});
    expect(c).toMatchObject({
      port: 6000,
      host: "0.0.0.0",
      analyzers: [{ url: "http://localhost:5000", weight: 1 }],
      workers: 16,
      queueCapacity: 10_000,
      healthIntervalMs: 500,
      maxBodyBytes: 1024 * 1024,
      maxPacket: 1000,
    });
  });

  test.each([
    ["1,2,3", [1, 2, 3]],
    ["[1, 2, 3]", [1, 2, 3]],
    ["0.4,0,1.5", [0.4, 0, 1.5]],
  ])("DISTRIBUTION_WEIGHTS=%s gives weights %p in ANALYZERS order", (weights, want) => {
    const c = loadDistributorConfig({
      ANALYZERS: "http://a:1, http://b:2/, http://c:3",
      DISTRIBUTION_WEIGHTS: weights,
    });
    expect(c.analyzers).toEqual([
      { url: "http://a:1", weight: want[0] },
      { url: "http://b:2", weight: want[1] },
      { url: "http://c:3", weight: want[2] },
    ]);
  });

  test("ANALYZERS can carry weights as URL=WEIGHT, defaulting to 1", () => {
    expect(loadDistributorConfig({ ANALYZERS: "http://a:1=3,http://b:2" }).analyzers).toEqual([
      { url: "http://a:1", weight: 3 },
      { url: "http://b:2", weight: 1 },
    ]);
  });

  test("an empty variable counts as unset", () => {
    expect(loadDistributorConfig({ WORKERS: "" }).workers).toBe(16);
  });

  test("every setting but the six that choose analyzers, SPOOL and the TLS files (`analyzerTls`, `tls`) becomes the field it is described under", () => {
    const choosing = [
      "analyzers",
      "distributionWeights",
      "analyzerHost",
      "analyzerGroups",
      "analyzerPort",
      "discoveryIntervalMs",
      "spool",
      // how analyzers are reached over TLS: checked together, in analyzerTls and discovery.scheme
      "analyzerScheme",
      "analyzerCaFile",
      "analyzerCertFile",
      "analyzerKeyFile",
      // the server's own certificate: checked together, in tls
      "tlsCertFile",
      "tlsKeyFile",
      "tlsClientCaFile",
    ];
    const fields = Object.keys(distributorSettings).filter((f) => !choosing.includes(f));
    const env = {
      PORT: "7",
      HOST: "127.0.0.1",
      WORKERS: "3",
      BATCH_MAX: "4",
      BATCH_LINGER_MS: "5",
      QUEUE_CAPACITY: "600",
      SPOOL_DIR: "/var/spool/x",
      SPOOL_MAX_BYTES: "2048",
      SPOOL_SYNC: "FULL",
      HEALTH_INTERVAL_MS: "70",
      HEALTH_TIMEOUT_MS: "8",
      HEALTH_RISE: "9",
      HEALTH_FALL: "10",
      REQUEST_TIMEOUT_MS: "11",
      MAX_ATTEMPTS: "12",
      MAX_BODY_BYTES: "13",
      MAX_PACKET: "14",
      SHUTDOWN_TIMEOUT_MS: "15",
      RETRY_BUDGET_RATIO: "0.5",
      RETRY_BUDGET_MIN_PER_SECOND: "16",
      MAX_EJECTION_PERCENT: "17",
      SLOW_START_MS: "18",
      AUTH_TOKEN: "a",
      ADMIN_TOKEN: "b",
      ADMIN_LOOPBACK: "1",
      IDLE_TIMEOUT: "19",
      MAX_REQUESTS_IN_FLIGHT: "20",
    };
    const c = loadDistributorConfig(env);
    expect(Object.keys(c).sort()).toEqual([...fields, "analyzers", "groups", "discovery", "analyzerTls", "tls"].sort());
    expect(c).toMatchObject({
      port: 7,
      host: "127.0.0.1",
      workers: 3,
      batchMax: 4,
      batchLingerMs: 5,
      queueCapacity: 600,
      spoolDir: "/var/spool/x",
      spoolMaxBytes: 2048,
      spoolSync: "full",
      healthIntervalMs: 70,
      healthTimeoutMs: 8,
      healthRise: 9,
      healthFall: 10,
      requestTimeoutMs: 11,
      maxAttempts: 12,
      maxBodyBytes: 13,
      maxPacket: 14,
      shutdownTimeoutMs: 15,
      retryBudgetRatio: 0.5,
      retryBudgetMinPerSecond: 16,
      maxEjectionPercent: 17,
      slowStartMs: 18,
      authToken: "a",
      adminToken: "b",
      adminLoopback: true,
      idleTimeoutSeconds: 19,
      maxRequestsInFlight: 20,
    });
  });

  test.each([
    [{}, "data/spool"],
    [{ SPOOL: "memory" }, null],
    [{ SPOOL: "Memory", SPOOL_DIR: "/x" }, null],
    [{ SPOOL_DIR: "" }, null], // set but empty: the documented opt-out
    [{ SPOOL: "disk", SPOOL_DIR: "/x" }, "/x"],
  ])("%j keeps async messages in %p (null: memory only)", (env, dir) => {
    expect(loadDistributorConfig(env).spoolDir).toBe(dir);
  });

  test.each([
    [{ SPOOL: "tape" }, 'SPOOL must be disk or memory, got "tape"'],
    [{ SPOOL_SYNC: "always" }, 'SPOOL_SYNC must be normal or full, got "always"'],
    [{ SPOOL_MAX_BYTES: "10" }, "SPOOL_MAX_BYTES must be a whole number from 1024 to"],
    [{ WORKERS: "abc" }, 'WORKERS must be a whole number from 1 to 1024, got "abc"'],
    [{ WORKERS: "0" }, 'WORKERS must be a whole number from 1 to 1024, got "0"'],
    [{ PORT: "70000" }, 'PORT must be a whole number from 0 to 65535, got "70000"'],
    [{ BATCH_LINGER_MS: "-1" }, 'BATCH_LINGER_MS must be a whole number from 0 to 1000, got "-1"'],
    [{ QUEUE_CAPACITY: "1.5" }, 'QUEUE_CAPACITY must be a whole number from 1 to 10000000, got "1.5"'],
    [
      { ANALYZERS: "http://a:1,http://b:2", DISTRIBUTION_WEIGHTS: "1,2,3" },
      "DISTRIBUTION_WEIGHTS has 3 weights for 2 analyzers",
    ],
    [
      { ANALYZERS: "http://a:1", DISTRIBUTION_WEIGHTS: "x" },
      'DISTRIBUTION_WEIGHTS weights must be finite numbers >= 0, got "x"',
    ],
    [
      { ANALYZERS: "http://a:1", DISTRIBUTION_WEIGHTS: "-1" },
      'DISTRIBUTION_WEIGHTS weights must be finite numbers >= 0, got "-1"',
    ],
    [
      { ANALYZERS: "http://a:1,http://b:1", DISTRIBUTION_WEIGHTS: "0,0" },
      "at least one analyzer weight must be positive",
    ],
    [
      { ANALYZERS: "localhost:5000" },
      'ANALYZERS entries must be http(s) URLs like http://localhost:5000, got "localhost:5000"',
    ],
    [{ ANALYZERS: "ftp://a" }, "ANALYZERS entries must be http(s) URLs"],
    [{ ANALYZERS: " , " }, "ANALYZERS must list at least one URL"],
    [{ ANALYZERS: "http://a:1,http://a:1" }, "ANALYZERS lists http://a:1 twice"],
    [{ ANALYZERS: "http://a:1=2", DISTRIBUTION_WEIGHTS: "1" }, "use one or the other"],
    [{ HOST: " " }, 'HOST must be a host name or address, got " "'],
    [{ RETRY_BUDGET_RATIO: "lots" }, 'RETRY_BUDGET_RATIO must be a number from 0 to 100, got "lots"'],
    [
      { MAX_PACKET: "20", QUEUE_CAPACITY: "10" },
      "MAX_PACKET (20) is larger than QUEUE_CAPACITY (10): a full packet could never be queued",
    ],
  ])("%p is refused: %s", (env, message) => {
    expect(() => loadDistributorConfig(env)).toThrow(ConfigError);
    expect(() => loadDistributorConfig(env)).toThrow(message);
  });
});
