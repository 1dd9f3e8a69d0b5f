// The distributor's parts wired together: the balancer over the analyzers, the queue and its
// workers, health checks, discovery, and the HTTP API. distributor.ts serves it; tests use it
// in-process.

import { registerAdmin } from "./admin.ts";
import { Balancer } from "./balancer.ts";
import { Channel } from "./channel.ts";
import type { DistributorConfig } from "./config.ts";
import { createCounters } from "./counters.ts";
import { dashboardPage } from "./dashboard.ts";
import { createDispatcher, type Job } from "./dispatch.ts";
import { startDiscovery, type Resolver } from "./discovery.ts";
import { createForward, type Forward } from "./forward.ts";
import { startHealthChecks } from "./health.ts";
import { errorResponse } from "../http/errors.ts";
import { allowOnly, createJsonApp, limitBody, readBodyText, readText, requireToken } from "../http/app.ts";
import { createIngest, prefersAsync } from "./ingest.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../http/prometheus.ts";
import { createLatencies, renderDistributorMetrics, upstreamHistogram } from "./metrics.ts";
import { createPayloadParser } from "../protocol/payload.ts";
import { startPool } from "./pool.ts";
import { RetryBudget } from "./retrybudget.ts";
import type { Random } from "../math/random.ts";
import { statsSnapshot } from "./stats.ts";
import { createUpstream } from "./upstream.ts";

export type DistributorDeps = { random?: Random; forward?: Forward; log?: (line: string) => void; resolve?: Resolver };

export function createDistributor(config: DistributorConfig, deps: DistributorDeps = {}) {
  const log = deps.log ?? ((line: string) => console.log(line));
  const upstreams = config.analyzers.map((a) => createUpstream(a.url, a.weight));
  const balancer = new Balancer(upstreams, { random: deps.random, slowStartMs: config.slowStartMs, maxEjectionPercent: config.maxEjectionPercent });
  balancer.onChange(({ upstream, healthy, reason }) =>
    log(`analyzer ${upstream.id} (${upstream.url}) is ${healthy ? "up" : `down: ${reason}`}; ${balancer.healthyCount} of ${balancer.upstreams.length} healthy`),
  );
  const counters = createCounters();
  const latencies = createLatencies();
  const channel = new Channel<Job>(config.queueCapacity, (job) => job.logs.length);
  const dispatch = createDispatcher({
    balancer,
    counters,
    forward: deps.forward ?? createForward(config.requestTimeoutMs),
    maxAttempts: config.maxAttempts,
    budget: new RetryBudget({ ratio: config.retryBudgetRatio, minPerSecond: config.retryBudgetMinPerSecond }),
    observe: (upstream, seconds) => upstreamHistogram(latencies, upstream.url).observe(seconds),
  });
  const pool = startPool({ channel, workers: config.workers, batchMax: config.batchMax, lingerMs: config.batchLingerMs, handle: dispatch });
  const health = startHealthChecks({
    balancer,
    intervalMs: config.healthIntervalMs,
    timeoutMs: config.healthTimeoutMs,
    rise: config.healthRise,
    fall: config.healthFall,
  });
  // With ANALYZER_HOST the analyzers are whatever it resolves to; new ones are probed at once.
  const discovery = config.discovery
    ? startDiscovery({ ...config.discovery, balancer, resolve: deps.resolve, log, onChange: () => health.probeAll() })
    : null;
  const startedAt = performance.now();
  const parsePayload = createPayloadParser(config.maxPacket);
  const ingest = createIngest({ channel, balancer, counters });

  const app = createJsonApp();
  requireToken(app, "POST", "/analyze", config.authToken);
  app.post("/analyze", limitBody(config.maxBodyBytes, () => counters.invalid++), (c) => analyze(() => readText(c), c.req.header("prefer")));
  async function analyze(readBody: () => Promise<string>, prefer: string | null | undefined): Promise<Response> {
    const started = performance.now();
    try {
      let payload;
      try {
        payload = parsePayload(await readBody());
      } catch (error) {
        counters.invalid++;
        throw error;
      }
      return await ingest(payload, prefersAsync(prefer));
    } finally {
      latencies.client.observe((performance.now() - started) / 1000);
    }
  }
  // The hot path, routed by Bun itself: hono's routing, context and middleware cost ~2 µs of the
  // ~25 µs CPU a single-log request takes (measured). Only what needs nothing of them comes here: a
  // declared length within the limit and no token to check. The rest goes on to the app.
  async function analyzeRoute(req: Request): Promise<Response> {
    const declared = Number(req.headers.get("content-length") ?? Number.NaN);
    if (!(declared <= config.maxBodyBytes)) return app.fetch(req);
    try {
      return await analyze(() => readBodyText(req), req.headers.get("prefer"));
    } catch (error) {
      return errorResponse(error);
    }
  }
  const routes: Record<string, { POST: (req: Request) => Promise<Response> }> = config.authToken ? {} : { "/analyze": { POST: analyzeRoute } };
  allowOnly(app, "/analyze", ["POST"]);
  app.get("/health", (c) => c.json({ status: "ok" }));
  allowOnly(app, "/health", ["GET"]);
  app.get("/stats", (c) => c.json(statsSnapshot({ balancer, counters, channel, pool, startedAt })));
  allowOnly(app, "/stats", ["GET"]);
  app.get("/metrics", (c) =>
    c.body(renderDistributorMetrics({ balancer, counters, channel, pool, startedAt, latencies }), 200, { "content-type": PROMETHEUS_CONTENT_TYPE }),
  );
  allowOnly(app, "/metrics", ["GET"]);
  app.get("/", dashboardPage);
  allowOnly(app, "/", ["GET"]);
  registerAdmin(app, { balancer, token: config.adminToken });

  return {
    app,
    /** For Bun.serve's `routes`, beside `fetch: app.fetch`. */
    routes,
    balancer,
    counters,
    channel,
    pool,
    health,
    discovery,
    /** Stops taking messages, delivers what was accepted (up to `timeoutMs`), stops health checks. */
    async drain(timeoutMs: number): Promise<boolean> {
      channel.close();
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
      const drained = await Promise.race([pool.done.then(() => true), timedOut]);
      clearTimeout(timer);
      health.stop();
      discovery?.stop();
      balancer.stop();
      return drained;
    },
  };
}
