// An analyzer: analyzes the log lines the distributor sends it. It can simulate slowness
// (ANALYZER_LATENCY) and failure (FAILURE_RATE, or POST /fault at run time) so that users can watch
// the distributor route around it. This file only wires src/analyzer/ and serves.

import { hostname } from "node:os";
import { createAnalyzer } from "./src/analyzer/app.ts";
import { loadAnalyzerConfig } from "./src/analyzer/config.ts";
import { loadOrExit } from "./src/config/env.ts";
import { listenOrExit } from "./src/http/listen.ts";
import { type Handlers, serveOptions } from "./src/http/server.ts";

async function main(): Promise<void> {
  const config = loadOrExit("analyzer", loadAnalyzerConfig);
  // The default id needs the port, which PORT=0 only gives after listening.
  let fetchHandler: Handlers["fetch"] = () => new Response(null, { status: 503 });
  const server = listenOrExit("analyzer", {
    port: config.port,
    hostname: config.host,
    tls: config.tls,
    // The server goes along: the fault-injection gate asks it for the client's address.
    serve: serveOptions(config, { fetch: (req, server) => fetchHandler(req, server) }),
  });
  // Before the "listening" line: whoever waits for it may send SIGHUP at once.
  process.on("SIGHUP", () => void server.reload("SIGHUP"));
  const id = config.id ?? `${hostname()}:${server.port}`;
  fetchHandler = createAnalyzer({ ...config, id }).app.fetch;
  console.log(
    `analyzer ${id} listening on ${server.url.origin} (latency ${config.latencySeconds}s, failure rate ${config.failureRate}; ${server.summary})`,
  );

  async function shutdown(): Promise<void> {
    await server.stop();
    process.exit(0);
  }
  process.on("SIGTERM", () => void shutdown());
  process.on("SIGINT", () => void shutdown());
}

if (import.meta.main) await main();
