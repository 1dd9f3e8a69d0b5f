import { afterAll, expect, test } from "bun:test";
import { Balancer } from "./balancer.ts";
import { startHealthChecks } from "./health.ts";
import { createUpstream } from "./upstream.ts";

// A real analyzer stand-in whose /health answer the test sets.
let answer: "ok" | "fail" | "hang" = "ok";
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch() {
    if (answer === "hang") await Bun.sleep(1000);
    return answer === "ok"
      ? Response.json({ status: "healthy", id: "real-id" })
      : Response.json({ status: "unhealthy" }, { status: 503 });
  },
});
afterAll(() => server.stop(true));

function setup(rise: number, fall: number) {
  const upstream = createUpstream(`http://127.0.0.1:${server.port}`, 1);
  const balancer = new Balancer([upstream]);
  // A long interval: the test drives the rounds itself with probeAll().
  const health = startHealthChecks({ balancer, intervalMs: 600_000, timeoutMs: 100, rise, fall });
  return { upstream, balancer, health };
}

test("the first probe decides at once and learns the analyzer's id", async () => {
  answer = "ok";
  const { upstream, health } = setup(3, 3);
  expect(upstream.id).toBe(`127.0.0.1:${server.port}`);
  await health.probeAll();
  expect(upstream.healthy).toBe(true);
  expect(upstream.id).toBe("real-id");
  health.stop();
});

test("it takes `fall` failed probes in a row to go down and `rise` good ones to come back", async () => {
  answer = "ok";
  const { upstream, health } = setup(2, 2);
  await health.probeAll();
  answer = "fail";
  await health.probeAll();
  expect(upstream.healthy).toBe(true); // one failure is not enough
  await health.probeAll();
  expect(upstream.healthy).toBe(false);
  expect(upstream.lastError).toBe("health check answered 503");
  answer = "ok";
  await health.probeAll();
  expect(upstream.healthy).toBe(false); // one success is not enough
  await health.probeAll();
  expect(upstream.healthy).toBe(true);
  health.stop();
});

test("a passive mark-down must earn `rise` good probes again", async () => {
  answer = "ok";
  const { upstream, balancer, health } = setup(2, 2);
  await health.probeAll();
  await health.probeAll();
  balancer.setHealthy(upstream, false, "forward failed");
  await health.probeAll();
  expect(upstream.healthy).toBe(false);
  await health.probeAll();
  expect(upstream.healthy).toBe(true);
  health.stop();
});

test("a probe without an answer within the timeout fails", async () => {
  answer = "ok";
  const { upstream, health } = setup(1, 1);
  await health.probeAll();
  answer = "hang";
  await health.probeAll();
  expect(upstream.healthy).toBe(false);
  expect(upstream.lastError).toBe("health check failed: no answer within 100 ms");
  health.stop();
});

test("an address where nothing listens is down, with the connection error as the reason", async () => {
  const upstream = createUpstream("http://127.0.0.1:1", 1);
  const balancer = new Balancer([upstream]);
  const health = startHealthChecks({ balancer, intervalMs: 600_000, timeoutMs: 500, rise: 1, fall: 1 });
  await health.probeAll();
  expect(upstream.healthy).toBe(false);
  expect(upstream.lastError).toStartWith("health check failed:");
  health.stop();
});
