// The distributor: receives log messages over HTTP and routes each one to an analyzer in
// proportion to the analyzers' weights. This file only wires src/distributor/ and serves.

import { loadOrExit } from "./src/config/env.ts";
import { createDistributor } from "./src/distributor/app.ts";
import { loadDistributorConfig } from "./src/distributor/config.ts";
import { LockedError } from "./src/distributor/filelock.ts";
import { listenOrExit } from "./src/http/listen.ts";
import { serveOptions } from "./src/http/server.ts";

async function main(): Promise<void> {
  const config = loadOrExit("distributor", loadDistributorConfig);
  let distributor: ReturnType<typeof createDistributor>;
  try {
    distributor = createDistributor(config);
  } catch (error) {
    if (!(error instanceof LockedError)) throw error;
    console.error(`distributor: ${error.message}`);
    process.exit(1);
  }
  await distributor.start(); // serve with a known healthy set, not an empty one
  const server = listenOrExit("distributor", {
    port: config.port,
    hostname: config.host,
    tls: config.tls,
    serve: serveOptions(config, {
      fetch: distributor.app.fetch,
      routes: distributor.routes,
      refusal: distributor.refusal,
    }),
  });
  // Before the "listening" line: whoever waits for it may send SIGHUP at once.
  process.on("SIGHUP", () => {
    void server.reload("SIGHUP");
    distributor.analyzerTls.reload("SIGHUP");
  });
  const weights = distributor.balancer.upstreams
    .map((u) => `${u.group === null ? "" : `${u.group}/`}${u.id}=${u.weight}${u.healthy ? "" : " (down)"}`)
    .join(", ");
  const groups = [...distributor.balancer.groups].map(([name, weight]) => `${name}=${weight}`).join(", ");
  const found = config.discovery
    ? ` (${config.discovery.names.map((n) => `${n.host}:${config.discovery!.port}`).join(", ")}, re-resolved every ${config.discovery.intervalMs} ms${groups ? `; group weights ${groups}` : ""})`
    : "";
  console.log(distributor.spoolSummary);
  console.log(
    `distributor listening on ${server.url.origin} → analyzers ${weights}${found}; ${config.workers} workers; ${server.summary}`,
  );

  let stopping = false;
  async function shutdown(signal: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    const stored = distributor.intake.stats().messages;
    console.log(
      `distributor: ${signal}: no new messages; delivering ${distributor.channel.size} queued` +
        (stored > 0 ? `, ${stored} stored` : ""),
    );
    const closed = server.stop();
    const drained = await distributor.drain(config.shutdownTimeoutMs);
    await closed;
    const { received, delivered, failed } = distributor.counters;
    const left = distributor.intake.stats();
    const undelivered =
      left.kind === "disk"
        ? `${left.messages} stored message(s) left in ${left.dir} for the next start`
        : `${received - delivered - failed} messages undelivered`;
    console.log(
      drained
        ? "distributor: drained, bye"
        : `distributor: gave up draining after ${config.shutdownTimeoutMs} ms; ${undelivered}`,
    );
    process.exit(drained ? 0 : 1);
  }
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
}

if (import.meta.main) await main();
