// The distributor: receives log messages over HTTP and routes each one to an analyzer in
// proportion to the analyzers' weights. This file only wires the pieces in src/ and serves.

import { Balancer } from "./src/balancer.ts";
import { Channel } from "./src/channel.ts";
import { ConfigError, loadDistributorConfig, type DistributorConfig } from "./src/config.ts";
import { createCounters } from "./src/counters.ts";
import { createDispatcher, type Message } from "./src/dispatch.ts";
import { createForward, type Forward } from "./src/forward.ts";
import { startHealthChecks } from "./src/health.ts";
import { allowOnly, createJsonApp, limitBody, requireToken, serverBodyCap } from "./src/http.ts";
import { createIngest, prefersAsync } from "./src/ingest.ts";
import { createPayloadParser } from "./src/payload.ts";
import { startPool } from "./src/pool.ts";
import { RetryBudget } from "./src/retrybudget.ts";
import type { Random } from "./src/random.ts";
import { statsSnapshot } from "./src/stats.ts";
import { createUpstream } from "./src/upstream.ts";

export type DistributorDeps = { random?: Random; forward?: Forward; log?: (line: string) => void };

export function createDistributor(config: DistributorConfig, deps: DistributorDeps = {}) {
  const log = deps.log ?? ((line: string) => console.log(line));
  const upstreams = config.analyzers.map((a) => createUpstream(a.url, a.weight));
  const balancer = new Balancer(upstreams, { random: deps.random, slowStartMs: config.slowStartMs });
  balancer.onChange(({ upstream, healthy, reason }) =>
    log(`analyzer ${upstream.id} (${upstream.url}) is ${healthy ? "up" : `down: ${reason}`}; ${balancer.healthyCount} of ${upstreams.length} healthy`),
  );
  const counters = createCounters();
  const channel = new Channel<Message>(config.queueCapacity);
  const dispatch = createDispatcher({
    balancer,
    counters,
    forward: deps.forward ?? createForward(config.requestTimeoutMs),
    maxAttempts: config.maxAttempts,
    budget: new RetryBudget({ ratio: config.retryBudgetRatio, minPerSecond: config.retryBudgetMinPerSecond }),
  });
  const pool = startPool({ channel, workers: config.workers, batchMax: config.batchMax, handle: dispatch });
  const health = startHealthChecks({
    balancer,
    intervalMs: config.healthIntervalMs,
    timeoutMs: config.healthTimeoutMs,
    rise: config.healthRise,
    fall: config.healthFall,
  });
  const startedAt = performance.now();
  const parsePayload = createPayloadParser(config.maxPacket);
  const ingest = createIngest({ channel, balancer, counters });

  const app = createJsonApp();
  app.post("/analyze", requireToken(config.authToken), limitBody(config.maxBodyBytes), async (c) => {
    let payload;
    try {
      payload = parsePayload(await c.req.text());
    } catch (error) {
      counters.invalid++;
      throw error;
    }
    return ingest(payload, prefersAsync(c.req.header("prefer")));
  });
  allowOnly(app, "/analyze", ["POST"]);
  app.get("/health", (c) => c.json({ status: "ok" }));
  allowOnly(app, "/health", ["GET"]);
  app.get("/stats", (c) => c.json(statsSnapshot({ balancer, counters, channel, pool, startedAt })));
  allowOnly(app, "/stats", ["GET"]);

  return {
    app,
    balancer,
    counters,
    channel,
    pool,
    health,
    /** Stops taking messages, delivers what was accepted (up to `timeoutMs`), stops health checks. */
    async drain(timeoutMs: number): Promise<boolean> {
      channel.close();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
      const drained = await Promise.race([pool.done.then(() => true), timedOut]);
      clearTimeout(timer);
      health.stop();
      balancer.stop();
      return drained;
    },
  };
}

async function main(): Promise<void> {
  let config: DistributorConfig;
  try {
    config = loadDistributorConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(`distributor: ${error.message}`);
    process.exit(1);
  }
  const distributor = createDistributor(config);
  await distributor.health.probeAll(); // serve with a known healthy set, not an empty one
  const server = Bun.serve({
    port: config.port,
    hostname: config.host,
    fetch: distributor.app.fetch,
    maxRequestBodySize: serverBodyCap(config.maxBodyBytes),
  });
  const weights = distributor.balancer.upstreams.map((u) => `${u.id}=${u.weight}${u.healthy ? "" : " (down)"}`).join(", ");
  console.log(`distributor listening on ${server.url.origin} → analyzers ${weights}; ${config.workers} workers`);

  let stopping = false;
  async function shutdown(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    console.log(`distributor: ${signal}: no new messages; delivering ${distributor.channel.size} queued`);
    const closed = server.stop();
    const drained = await distributor.drain(config.shutdownTimeoutMs);
    await closed;
    const lost = distributor.counters.received - distributor.counters.delivered - distributor.counters.failed;
    console.log(drained ? "distributor: drained, bye" : `distributor: gave up draining after ${config.shutdownTimeoutMs} ms; ${lost} messages undelivered`);
    process.exit(drained ? 0 : 1);
  }
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

if (import.meta.main) await main();
