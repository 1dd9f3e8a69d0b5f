// GET /metrics' text, rendered from real sources: a Balancer over real Upstreams, the counters, a
// Channel, a started Pool and the latency histograms.

import { afterEach, describe, expect, test } from "bun:test";
import { seededRandom } from "../math/random.ts";
import { emptySpool } from "../protocol/stats.ts";
import { Balancer } from "./balancer.ts";
import { Channel } from "./channel.ts";
import { createCounters } from "./counters.ts";
import { createLatencies, renderDistributorMetrics, upstreamHistogram } from "./metrics.ts";
import { startPool } from "./pool.ts";
import { createUpstream } from "./upstream.ts";

const stops: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/** A pool of 4 workers with exactly one busy, until the test ends. */
async function poolWithOneBusy() {
  const channel = new Channel<number>(10);
  let release = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let started = () => {};
  const busy = new Promise<void>((resolve) => {
    started = resolve;
  });
  const pool = startPool({
    channel,
    workers: 4,
    batchMax: 10,
    handle: async () => {
      started();
      await held;
    },
  });
  channel.trySend(1);
  await busy;
  stops.push(() => {
    release();
    channel.close();
    return pool.done;
  });
  return pool;
}

async function sources() {
  let now = 0;
  const upstreams = [1, 2, 3].map((w, i) => createUpstream(`http://127.0.0.1:${5001 + i}`, w));
  const balancer = new Balancer(upstreams, { random: seededRandom(1), slowStartMs: 1000, now: () => now });
  stops.push(() => balancer.stop());
  for (const u of upstreams) balancer.setHealthy(u, true, "startup");
  balancer.learnId(upstreams[0], "a1");
  balancer.learnId(upstreams[1], 'a"2\\b\nc'); // an id that needs every escape the format has
  balancer.requestStarted(upstreams[0]);
  balancer.requestEnded(upstreams[0], 7, true);
  balancer.requestStarted(upstreams[0]);
  balancer.requestStarted(upstreams[1]);
  balancer.requestEnded(upstreams[1], 4, false);
  balancer.setHealthy(upstreams[2], false, "connection refused");

  const counters = createCounters();
  Object.assign(counters, {
    received: 21,
    delivered: 17,
    retried: 4,
    rejected: 3,
    failed: 2,
    retriedRequests: 1,
    retriesDenied: 5,
    invalid: 6,
    invalidMessages: 7,
  });
  const channel = new Channel<string>(100);
  for (const item of ["x", "y", "z"]) channel.trySend(item);
  const pool = await poolWithOneBusy();
  // A spool with 12 messages in 3 kB, 2 dead letters, 5 recovered at start.
  const spool = { ...emptySpool("disk"), messages: 12, bytes: 3000, maxBytes: 10_000, deadLetters: 2, recovered: 5 };
  const intake = { stats: () => spool };
  const latencies = createLatencies();
  latencies.client.observe(0.003);
  latencies.client.observe(0.003);
  upstreamHistogram(latencies, upstreams[0].url).observe(0.02);
  return {
    all: { balancer, counters, channel, pool, intake, latencies, startedAt: 0 },
    upstreams,
    balancer,
    latencies,
    setNow: (t: number) => {
      now = t;
    },
  };
}

/** Sample lines, `name{labels}` → value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const at = line.lastIndexOf(" ");
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

const A1 = 'analyzer="a1",url="http://127.0.0.1:5001"';
const A2 = 'analyzer="a\\"2\\\\b\\nc",url="http://127.0.0.1:5002"';
const A3 = 'analyzer="127.0.0.1:5003",url="http://127.0.0.1:5003"';

describe("the exposition", () => {
  test.each([
    ["distributor_messages_received_total", "counter"],
    ["distributor_messages_delivered_total", "counter"],
    ["distributor_upstream_requests_total", "counter"],
    ["distributor_messages_failed_attempts_total", "counter"],
    ["distributor_messages_retried_total", "counter"],
    ["distributor_messages_rejected_total", "counter"],
    ["distributor_messages_failed_total", "counter"],
    ["distributor_retries_denied_total", "counter"],
    ["distributor_requests_invalid_total", "counter"],
    ["distributor_messages_invalid_total", "counter"],
    ["distributor_spool_messages", "gauge"],
    ["distributor_spool_bytes", "gauge"],
    ["distributor_dead_letters", "gauge"],
    ["distributor_spool_recovered_total", "counter"],
    ["distributor_analyzer_health_changes_total", "counter"],
    ["distributor_analyzer_up", "gauge"],
    ["distributor_analyzer_weight", "gauge"],
    ["distributor_analyzer_effective_weight", "gauge"],
    ["distributor_analyzer_inflight_requests", "gauge"],
    ["distributor_queue_depth", "gauge"],
    ["distributor_queue_capacity", "gauge"],
    ["distributor_workers", "gauge"],
    ["distributor_workers_busy", "gauge"],
    ["distributor_request_duration_seconds", "histogram"],
    ["distributor_upstream_request_duration_seconds", "histogram"],
  ])("%s is a %s with one HELP line, then its TYPE line, then its samples", async (name, type) => {
    const lines = renderDistributorMetrics((await sources()).all).split("\n");
    const help = lines.filter((l) => l.startsWith(`# HELP ${name} `));
    expect(help).toHaveLength(1);
    const at = lines.indexOf(help[0]);
    expect(lines[at + 1]).toBe(`# TYPE ${name} ${type}`);
    expect(lines[at + 2]).toStartWith(name);
    expect(lines[at + 2]).not.toStartWith("#");
  });

  test("the text ends in a newline and has no blank line", async () => {
    const text = renderDistributorMetrics((await sources()).all);
    expect(text).toEndWith("\n");
    expect(text.slice(0, -1).split("\n")).not.toContain("");
  });

  test.each([
    ["messages received", "distributor_messages_received_total", 21],
    ["messages retried", "distributor_messages_retried_total", 4],
    ["messages rejected", "distributor_messages_rejected_total", 3],
    ["messages failed", "distributor_messages_failed_total", 2],
    ["retries denied", "distributor_retries_denied_total", 5],
    ["invalid requests", "distributor_requests_invalid_total", 6],
    ["messages refused on their own", "distributor_messages_invalid_total", 7],
    ["the queue's depth", "distributor_queue_depth", 3],
    ["the queue's capacity", "distributor_queue_capacity", 100],
    ["the workers", "distributor_workers", 4],
    ["the busy workers", "distributor_workers_busy", 1],
  ])("%s: one unlabelled sample, %s", async (_, name, value) => {
    const found = samples(renderDistributorMetrics((await sources()).all));
    expect([...found].filter(([key]) => key.split("{")[0] === name)).toEqual([[name, value]]);
  });

  test.each([
    ["delivered messages", "distributor_messages_delivered_total", [7, 0, 0]],
    ["requests", "distributor_upstream_requests_total", [2, 1, 0]],
    ["failed attempts", "distributor_messages_failed_attempts_total", [0, 4, 0]],
    ["health changes", "distributor_analyzer_health_changes_total", [1, 1, 2]],
    ["up", "distributor_analyzer_up", [1, 1, 0]],
    ["weight, as configured even when down", "distributor_analyzer_weight", [1, 2, 3]],
    ["effective weight, 0 when down", "distributor_analyzer_effective_weight", [1, 2, 0]],
    ["requests in flight", "distributor_analyzer_inflight_requests", [1, 0, 0]],
  ])("%s: one sample per analyzer, labelled with its id and url, escaped", async (_, name, values) => {
    const found = samples(renderDistributorMetrics((await sources()).all));
    expect([...found].filter(([key]) => key.split("{")[0] === name)).toEqual([
      [`${name}{${A1}}`, values[0]],
      [`${name}{${A2}}`, values[1]],
      [`${name}{${A3}}`, values[2]],
    ]);
  });

  test("while slow start ramps an analyzer up its effective weight follows the ramp and its weight does not", async () => {
    const { all, balancer, upstreams, setNow } = await sources();
    balancer.setHealthy(upstreams[2], true, "back");
    setNow(250);
    const found = samples(renderDistributorMetrics(all));
    expect(found.get(`distributor_analyzer_effective_weight{${A3}}`)).toBe(0.75);
    expect(found.get(`distributor_analyzer_weight{${A3}}`)).toBe(3);
    expect(found.get(`distributor_analyzer_up{${A3}}`)).toBe(1);
  });

  test("client latencies are one histogram: cumulative buckets up to +Inf, the sum and the count", async () => {
    const found = samples(renderDistributorMetrics((await sources()).all));
    const name = "distributor_request_duration_seconds";
    expect(found.get(`${name}_bucket{le="0.0025"}`)).toBe(0);
    expect(found.get(`${name}_bucket{le="0.005"}`)).toBe(2);
    expect(found.get(`${name}_bucket{le="10"}`)).toBe(2);
    expect(found.get(`${name}_bucket{le="+Inf"}`)).toBe(2);
    expect(found.get(`${name}_sum`)).toBe(0.006);
    expect(found.get(`${name}_count`)).toBe(2);
  });

  test("analyzer latencies are one histogram per analyzer that has been asked, with its labels", async () => {
    const found = samples(renderDistributorMetrics((await sources()).all));
    const name = "distributor_upstream_request_duration_seconds";
    expect(found.get(`${name}_bucket{${A1},le="0.01"}`)).toBe(0);
    expect(found.get(`${name}_bucket{${A1},le="0.025"}`)).toBe(1);
    expect(found.get(`${name}_bucket{${A1},le="+Inf"}`)).toBe(1);
    expect(found.get(`${name}_sum{${A1}}`)).toBe(0.02);
    expect(found.get(`${name}_count{${A1}}`)).toBe(1);
    const others = [...found.keys()].filter((k) => k.startsWith(name) && !k.includes(A1));
    expect(others).toEqual([]);
  });

  test("an analyzer's histogram follows its url, so it keeps its samples when its id changes", async () => {
    const { all, balancer, upstreams } = await sources();
    balancer.learnId(upstreams[0], "renamed");
    const found = samples(renderDistributorMetrics(all));
    expect(
      found.get('distributor_upstream_request_duration_seconds_count{analyzer="renamed",url="http://127.0.0.1:5001"}'),
    ).toBe(1);
  });
});

describe("rendering is a read", () => {
  // 250: a ramp under way; 1500: a ramp whose time is up but that no rebuild has ended yet.
  test.each([250, 1500])(
    "at %i ms into a slow-start ramp, rendering twice gives the same text and leaves every upstream as it was",
    async (at) => {
      const { all, balancer, upstreams, latencies, setNow } = await sources();
      balancer.setHealthy(upstreams[2], true, "back");
      setNow(at);
      const before = {
        upstreams: structuredClone(upstreams),
        counters: { ...all.counters },
        queue: all.channel.size,
        clientCount: latencies.client.count,
        histograms: [...latencies.upstream.keys()],
      };
      const first = renderDistributorMetrics(all);
      const second = renderDistributorMetrics(all);
      expect(second).toBe(first);
      expect({
        upstreams: structuredClone(upstreams),
        counters: { ...all.counters },
        queue: all.channel.size,
        clientCount: latencies.client.count,
        histograms: [...latencies.upstream.keys()],
      }).toEqual(before);
      expect(upstreams[2].rampStartedAt).toBe(0);
    },
  );
});
