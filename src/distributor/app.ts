// The distributor's parts wired together: the balancer over the analyzers, the spool, the queue and
// its workers, health checks, discovery, and the HTTP API. distributor.ts serves it; tests use it
// in-process.

import { allowOnly, createJsonApp } from "../http/app.ts";
import { controlGate } from "../http/control.ts";
import type { HttpError } from "../http/errors.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../http/prometheus.ts";
import type { Random } from "../math/random.ts";
import {
  catHealth,
  clusterHealth,
  elasticsearchInfo,
  elasticsearchLicense,
  wantsElasticsearchInfo,
} from "../protocol/formats/bulk.ts";
import { registerAdmin } from "./admin.ts";
import { AnalyzerTlsSource } from "./analyzertls.ts";
import { Balancer } from "./balancer.ts";
import { Channel } from "./channel.ts";
import type { DistributorConfig } from "./config.ts";
import { createCounters } from "./counters.ts";
import { dashboardPage } from "./dashboard.ts";
import { registerDeadLetters } from "./deadletters.ts";
import { type Resolver, startDiscovery } from "./discovery.ts";
import { createDispatcher, type Job } from "./dispatch.ts";
import { ingestRoutes } from "./formats.ts";
import { createForward, type Forward } from "./forward.ts";
import { startHealthChecks } from "./health.ts";
import { createIngestHandler, type IngestFormat } from "./ingest.ts";
import { openIntake } from "./intake.ts";
import { createLatencies, renderDistributorMetrics, upstreamHistogram } from "./metrics.ts";
import { startPool } from "./pool.ts";
import { RetryBudget } from "./retrybudget.ts";
import { statsSnapshot } from "./stats.ts";
import { createUpstream } from "./upstream.ts";

export type DistributorDeps = {
  random?: Random;
  forward?: Forward;
  log?: (line: string) => void;
  resolve?: Resolver;
  /** SQLite's max_page_count for the spool: a disk that fills up, for tests. */
  spoolPageLimit?: number;
};

export function createDistributor(config: DistributorConfig, deps: DistributorDeps = {}) {
  const log = deps.log ?? ((line: string) => console.log(line));
  const upstreams = config.analyzers.map((a) => createUpstream(a.url, a.weight));
  const analyzerTls = new AnalyzerTlsSource(config.analyzerTls, log);
  const currentAnalyzerTls = () => analyzerTls.current;
  const balancer = new Balancer(upstreams, {
    random: deps.random,
    groups: config.groups,
    slowStartMs: config.slowStartMs,
    maxEjectionPercent: config.maxEjectionPercent,
  });
  balancer.onChange(({ upstream, healthy, reason }) =>
    log(
      `analyzer ${upstream.id} (${upstream.url}) is ${healthy ? "up" : `down: ${reason}`}; ${balancer.healthyCount} of ${balancer.upstreams.length} healthy`,
    ),
  );
  const counters = createCounters();
  const latencies = createLatencies();
  const channel = new Channel<Job>(config.queueCapacity, (job) => job.logs.length);
  // Throws LockedError when another distributor has the spool: the entrypoint says so and exits.
  const { intake, summary: spoolSummary } = openIntake({
    dir: config.spoolDir,
    maxBytes: config.spoolMaxBytes,
    sync: config.spoolSync,
    maxPacket: config.maxPacket,
    channel,
    log,
    maxPageCount: deps.spoolPageLimit,
  });
  const dispatch = createDispatcher({
    balancer,
    counters,
    forward: deps.forward ?? createForward(config.requestTimeoutMs, currentAnalyzerTls),
    maxAttempts: config.maxAttempts,
    budget: new RetryBudget({ ratio: config.retryBudgetRatio, minPerSecond: config.retryBudgetMinPerSecond }),
    observe: (upstream, seconds) => upstreamHistogram(latencies, upstream.url).observe(seconds),
    ledger: intake,
    maxBatchBytes: config.batchMaxBytes,
  });
  const pool = startPool({
    channel,
    workers: config.workers,
    batchMax: config.batchMax,
    lingerMs: config.batchLingerMs,
    handle: dispatch,
  });
  const health = startHealthChecks({
    balancer,
    intervalMs: config.healthIntervalMs,
    timeoutMs: config.healthTimeoutMs,
    rise: config.healthRise,
    fall: config.healthFall,
    tls: currentAnalyzerTls,
    log,
  });
  // With ANALYZER_HOST or ANALYZER_GROUPS the analyzers are whatever the names resolve to; new ones are probed at once.
  const discovery = config.discovery
    ? startDiscovery({ ...config.discovery, balancer, resolve: deps.resolve, log, onChange: () => health.probeAll() })
    : null;
  const startedAt = performance.now();
  const app = createJsonApp();
  // Every endpoint that takes messages, one handler per format (formats.ts).
  const ingest = new Map<string, (req: Request) => Promise<Response>>();
  // A protocol's own error body (OTLP's Status), for requests refused before they reach a handler.
  const refusals = new Map<string, NonNullable<IngestFormat["refusal"]>>();
  for (const { paths, format } of ingestRoutes({ maxPacket: config.maxPacket, maxBodyBytes: config.maxBodyBytes })) {
    const handle = createIngestHandler({
      format,
      channel,
      intake,
      balancer,
      counters,
      maxBodyBytes: config.maxBodyBytes,
      maxPacket: config.maxPacket,
      authToken: config.authToken,
      observe: (seconds) => latencies.client.observe(seconds),
    });
    for (const path of paths) {
      ingest.set(path, handle);
      if (format.refusal && !path.includes(":")) refusals.set(path, format.refusal);
      app.post(path, (c) => handle(c.req.raw));
      allowOnly(app, path, ["POST"]);
    }
  }
  // Bun's own router leads to the same handler and skips hono's routing and context: measured ~1.7 µs
  // of ~18 µs CPU per single-log request, ~8% more requests/s. Other methods fall through to the 405.
  const routes = { "/analyze": { POST: ingest.get("/analyze")! } };
  app.get("/health", (c) => c.json({ status: "ok" }));
  allowOnly(app, "/health", ["GET"]);
  app.get("/stats", (c) => c.json(statsSnapshot({ balancer, counters, channel, pool, intake, startedAt })));
  allowOnly(app, "/stats", ["GET"]);
  app.get("/metrics", (c) =>
    c.body(renderDistributorMetrics({ balancer, counters, channel, pool, intake, startedAt, latencies }), 200, {
      "content-type": PROMETHEUS_CONTENT_TYPE,
    }),
  );
  allowOnly(app, "/metrics", ["GET"]);
  // Elasticsearch clients that read the version first (Filebeat, Logstash) ask for JSON; people get the page.
  app.get("/", (c) => (wantsElasticsearchInfo(c.req.header("accept")) ? elasticsearchInfo() : dashboardPage(c)));
  // What Elasticsearch clients ask before they send (src/protocol/formats/bulk.ts says whose).
  app.get("/_cat/health", () => catHealth(balancer.healthyCount, balancer.upstreams.length));
  app.get("/_cluster/health", () => clusterHealth(balancer.healthyCount, balancer.upstreams.length));
  app.get("/_license", () => elasticsearchLicense());
  for (const path of ["/_cat/health", "/_cluster/health", "/_license"]) allowOnly(app, path, ["GET"]);
  allowOnly(app, "/", ["GET"]);
  // Every /admin/ path, known or not, wrong method or not: nothing of it shows while admin is off.
  app.use(
    "/admin/*",
    controlGate({ token: config.adminToken, loopback: config.adminLoopback, what: "the admin API (/admin/…)" }),
  );
  registerAdmin(app, { balancer });
  registerDeadLetters(app, { intake });

  return {
    app,
    /** For Bun.serve's `routes`, beside `fetch: app.fetch`: the same POST /analyze handler as the app's. */
    routes,
    /** For serveOptions: the error body of a request refused before routing, where its protocol has one. */
    refusal: (error: HttpError, req: Request) => refusals.get(new URL(req.url).pathname)?.(error, req),
    balancer,
    counters,
    channel,
    intake,
    /** ANALYZER_CA_FILE and the client certificate: reload() them on SIGHUP; start() watches them. */
    analyzerTls,
    /** What the spool holds or why there is none: for the startup lines. */
    spoolSummary,
    pool,
    health,
    discovery,
    /**
     * Finds the analyzers (the first DNS lookup), probes them, then starts delivering what the spool
     * kept from an earlier run, and watching the analyzer TLS files: call once, before serving.
     */
    async start(): Promise<void> {
      await discovery?.refresh();
      await health.probeAll();
      intake.start();
      analyzerTls.watch();
    },
    /**
     * Stops taking messages and delivers what was accepted, stored ones included (up to
     * `timeoutMs`); stops health checks and closes the spool. Stored messages not delivered by
     * then stay in the spool for the next start.
     */
    async drain(timeoutMs: number): Promise<boolean> {
      const fedThenDone = intake.finish().then(() => {
        channel.close();
        return pool.done;
      });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
      const drained = await Promise.race([fedThenDone.then(() => true), timedOut]);
      clearTimeout(timer);
      channel.close();
      health.stop();
      analyzerTls.stop();
      discovery?.stop();
      balancer.stop();
      intake.close();
      return drained;
    },
  };
}
