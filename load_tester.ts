// Load tester for the log distributor: sends generated log lines, then reports latency, status
// codes, errors and whether the distributor spread the messages by weight. Flags: see USAGE in
// src/load/args.ts (or run with --help). This file only wires the pieces in src/load/.

import { type LoadOptions, parseArgs, USAGE, UsageError } from "./src/load/args.ts";
import { createBodies, MAX_DISTINCT_BODIES } from "./src/load/bodies.ts";
import { createPaint, shouldColour } from "./src/load/colour.ts";
import { compareDistribution } from "./src/load/distribution.ts";
import { createLogGenerator } from "./src/load/loglines.ts";
import { startProgress } from "./src/load/progress.ts";
import { buildReport, type DistributionSection, exitCode, renderText } from "./src/load/report.ts";
import { LoadRun } from "./src/load/runner.ts";
import { createSender } from "./src/load/sender.ts";
import { createStatsFetcher, statsUrl, waitForDelivery } from "./src/load/stats.ts";
import { type FetchTls, fetchTls } from "./src/load/tls.ts";
import { seededRandom } from "./src/math/random.ts";
import type { DistributorStats } from "./src/protocol/stats.ts";

async function main(argv: readonly string[]): Promise<number> {
  let options: LoadOptions;
  let tls: FetchTls | undefined;
  try {
    const parsed = parseArgs(argv);
    if (parsed.kind === "help") {
      await Bun.write(Bun.stdout, `${USAGE}\n`);
      return 0;
    }
    options = parsed.options;
    tls = fetchTls(options.tls);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`load_tester: ${error.message}\n\n${USAGE}\n`);
    return 2;
  }

  const nextLine = createLogGenerator(seededRandom(options.seed));
  const bodies = createBodies(
    nextLine,
    Math.min(options.requests ?? MAX_DISTINCT_BODIES, MAX_DISTINCT_BODIES),
    options.packet,
  );
  const stats = statsUrl(options.url);
  const fetchStats = createStatsFetcher(stats, undefined, tls);
  const before = await fetchStats().then(
    (s): DistributorStats | string => s,
    (error: Error) => error.message,
  );

  // Ctrl-C ends the run early with a report of what was sent; a second one quits at once.
  const stop = new AbortController();
  process.on("SIGINT", () => (stop.signal.aborted ? process.exit(130) : stop.abort()));

  const run = new LoadRun({
    send: createSender({
      url: options.url,
      async: options.async,
      timeoutMs: options.timeoutMs,
      headers: options.headers,
      tls,
    }),
    bodies,
    concurrency: options.concurrency,
    requests: options.requests,
    durationMs: options.durationMs,
    rate: options.rate,
    signal: stop.signal,
  });
  const progress = startProgress({
    source: run,
    stream: process.stderr,
    paint: createPaint(shouldColour(process.stderr, process.env)),
    total: options.requests,
    durationMs: options.durationMs,
  });
  const result = await run.run();
  progress.stop();

  let distribution: DistributionSection;
  if (typeof before === "string") {
    distribution = { statsUrl: stats, skipped: before };
  } else {
    const expected = result.successes * options.packet;
    try {
      const after = await waitForDelivery({ fetchStats, before, expected });
      distribution = { statsUrl: stats, settled: after.settled, ...compareDistribution(before, after.stats, expected) };
    } catch (error) {
      distribution = { statsUrl: stats, skipped: (error as Error).message };
    }
  }

  const report = buildReport(
    result,
    {
      url: options.url,
      concurrency: options.concurrency,
      rate: options.rate ?? null,
      packet: options.packet,
      async: options.async,
      seed: options.seed,
    },
    distribution,
  );
  const text = options.json
    ? `${JSON.stringify(report, null, 2)}\n`
    : renderText(report, createPaint(shouldColour(process.stdout, process.env)));
  await Bun.write(Bun.stdout, text);
  return exitCode(report);
}

if (import.meta.main) {
  // Exit explicitly: pooled keep-alive sockets must not hold the process open.
  process.exit(await main(Bun.argv.slice(2)));
}
