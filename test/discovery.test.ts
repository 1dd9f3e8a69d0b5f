// End to end: a real distributor finding a real analyzer by DNS (localhost → 127.0.0.1 through
// getaddrinfo, as a compose service name resolves through Docker's DNS).

import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import type { DistributorStats } from "../src/protocol/stats.ts";
import { startAnalyzer } from "../testkit/cluster.ts";
import { getJson, postJson } from "../testkit/http.ts";
import { spawnService, stopAll } from "../testkit/procs.ts";

setDefaultTimeout(60_000); // see test/setup.ts

afterAll(stopAll);

test("ANALYZER_HOST=localhost finds the analyzer on ANALYZER_PORT, weighs it and delivers to it", async () => {
  const analyzer = await startAnalyzer("found-by-dns");
  const port = new URL(analyzer.url).port;
  const distributor = await spawnService("distributor.ts", {
    ANALYZER_HOST: "localhost",
    ANALYZER_PORT: port,
    DISTRIBUTION_WEIGHTS: "3,1",
    DISCOVERY_INTERVAL_MS: "100",
  });
  // It waited for the first lookup and probe, so it serves at once.
  const res = await postJson(`${distributor.url}/analyze`, { logs: ["INFO one", "WARN two"] });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { results: { analyzer: string }[] };
  expect(body.results.map((r) => r.analyzer)).toEqual(["found-by-dns", "found-by-dns"]);

  const stats = await getJson<DistributorStats>(`${distributor.url}/stats`);
  expect(stats.analyzers).toEqual([
    expect.objectContaining({
      id: "found-by-dns",
      url: `http://127.0.0.1:${port}`,
      weight: 3,
      healthy: true,
      delivered: 2,
    }),
  ]);
  const output = distributor.output();
  expect(output).toContain(
    `discovery: localhost:${port} → 1 analyzer (1 joined, 0 left), weights by address: http://127.0.0.1:${port}=3`,
  );
  expect(output).toContain("found 1 analyzer for 2 weights in DISTRIBUTION_WEIGHTS: weights 1 are unused");
  // Re-resolving every 100 ms an unchanged answer logs nothing more.
  await Bun.sleep(350);
  expect(distributor.output().match(/discovery:/g)).toHaveLength(2);
});

test("ANALYZER_GROUPS=localhost=2: the name's instance is its group's, and /stats speaks in groups", async () => {
  const analyzer = await startAnalyzer("grouped");
  const port = new URL(analyzer.url).port;
  const distributor = await spawnService("distributor.ts", {
    ANALYZER_GROUPS: "localhost=2",
    ANALYZER_PORT: port,
    DISCOVERY_INTERVAL_MS: "100",
  });
  const res = await postJson(`${distributor.url}/analyze`, { logs: ["INFO one", "WARN two", "ERROR three"] });
  expect(res.status).toBe(200);
  const stats = await getJson<DistributorStats>(`${distributor.url}/stats`);
  expect(stats.groups).toEqual([{ name: "localhost", weight: 2, instances: 1, healthy: 1, share: 1, delivered: 3 }]);
  expect(stats.analyzers).toEqual([
    expect.objectContaining({ id: "grouped", group: "localhost", weight: 1, effectiveWeight: 2, delivered: 3 }),
  ]);
  expect(distributor.output()).toContain(
    `discovery: groups → 1 analyzer (1 joined, 0 left): localhost http://127.0.0.1:${port}`,
  );
  expect(distributor.output()).toContain("group weights localhost=2");
});

test("ANALYZER_HOST together with ANALYZERS stops startup with one clear line", async () => {
  const error = await spawnService("distributor.ts", {
    ANALYZER_HOST: "localhost",
    ANALYZERS: "http://127.0.0.1:5000",
  }).catch((e: Error) => e);
  expect(error).toBeInstanceOf(Error);
  expect((error as Error).message).toContain('distributor: ANALYZER_HOST ("localhost") and ANALYZERS are both set');
});
