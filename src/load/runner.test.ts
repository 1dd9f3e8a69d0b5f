import { describe, expect, test } from "bun:test";
import { LoadRun, type RunnerOptions } from "./runner.ts";
import type { Send } from "./sender.ts";

const BODY = new Uint8Array([1]);

/** A virtual clock for one worker: sleeping and serving advance time, nothing really waits. */
function virtualTime(serviceMs: number) {
  let t = 0;
  const sent: number[] = [];
  return {
    sent,
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
    },
    send: (async () => {
      sent.push(t);
      t += serviceMs;
      return 200;
    }) as Send,
  };
}

function run(options: Partial<RunnerOptions> & Pick<RunnerOptions, "send">) {
  return new LoadRun({ bodies: [BODY], concurrency: 1, ...options }).run();
}

describe("closed loop", () => {
  test("sends exactly n requests, never more than c at once, and reaches c", async () => {
    let active = 0;
    let peak = 0;
    const send: Send = async () => {
      active++;
      peak = Math.max(peak, active);
      await Bun.sleep(0);
      active--;
      return 200;
    };
    const result = await run({ send, concurrency: 8, requests: 200 });
    expect(result).toMatchObject({ requests: 200, successes: 200, failures: 0, statusCodes: { "200": 200 } });
    expect(result.latencies).toHaveLength(200);
    expect(peak).toBe(8);
  });

  test("request i sends body i modulo the number of bodies", async () => {
    const bodies = [new Uint8Array([0]), new Uint8Array([1]), new Uint8Array([2])];
    const seen: number[] = [];
    const send: Send = async (body) => {
      seen.push(body[0]!);
      return 200;
    };
    await new LoadRun({ send, bodies, concurrency: 1, requests: 7 }).run();
    expect(seen).toEqual([0, 1, 2, 0, 1, 2, 0]);
  });

  test("latency is measured from the actual send", async () => {
    const clock = virtualTime(100);
    const result = await run({ ...clock, rate: undefined, requests: 4 });
    expect(Array.from(result.latencies)).toEqual([100, 100, 100, 100]);
    expect(result.elapsedMs).toBe(400);
  });

  test("with a duration, no request starts after it has passed", async () => {
    const clock = virtualTime(30);
    const result = await run({ ...clock, durationMs: 100 });
    expect(clock.sent).toEqual([0, 30, 60, 90]);
    expect(result.requests).toBe(4);
  });

  test("with both a count and a duration, whichever ends first stops the run", async () => {
    const clock = virtualTime(30);
    expect((await run({ ...clock, durationMs: 100, requests: 2 })).requests).toBe(2);
  });
});

describe("open loop (-q)", () => {
  test("requests go out at their intended times when the server keeps up", async () => {
    const clock = virtualTime(10);
    const result = await run({ ...clock, rate: 20, requests: 4 });
    expect(clock.sent).toEqual([0, 50, 100, 150]);
    expect(Array.from(result.latencies)).toEqual([10, 10, 10, 10]);
    expect(result.elapsedMs).toBe(160);
  });

  test("a slow server's backlog is counted from the intended send time, not hidden", async () => {
    // 20/s is one every 50 ms, but each reply takes 100 ms: request i is due at 50i, goes out at
    // 100i and is answered at 100(i+1), so its latency is 100(i+1) - 50i.
    const clock = virtualTime(100);
    const result = await run({ ...clock, rate: 20, requests: 4 });
    expect(clock.sent).toEqual([0, 100, 200, 300]);
    expect(Array.from(result.latencies)).toEqual([100, 150, 200, 250]);
  });

  test("a worker woken early by its timer waits out the rest before sending", async () => {
    const clock = virtualTime(1);
    const early = async (ms: number) => clock.sleep(ms > 1 ? ms - 1 : ms);
    const result = await run({ ...clock, sleep: early, rate: 20, requests: 3 });
    expect(clock.sent).toEqual([0, 50, 100]);
    expect(Math.min(...result.latencies)).toBe(1);
  });

  test("with a duration, requests due at or after its end are not sent", async () => {
    const clock = virtualTime(1);
    const result = await run({ ...clock, rate: 20, durationMs: 200 });
    expect(clock.sent).toEqual([0, 50, 100, 150]);
    expect(result.requests).toBe(4);
  });
});

describe("outcomes", () => {
  test("non-2xx replies and thrown errors are failures, tallied by status and by message", async () => {
    const outcomes: (() => ReturnType<Send>)[] = [
      async () => 200,
      async () => 202,
      async () => ({ status: 503, message: "queue is full" }),
      async () => ({ status: 503, message: "queue is full" }),
      async () => {
        throw Object.assign(new TypeError("ECONNREFUSED: Unable to connect."), { code: "ECONNREFUSED" });
      },
      async () => {
        throw new DOMException("The operation timed out.", "TimeoutError");
      },
    ];
    let i = 0;
    const result = await run({ send: () => outcomes[i++]!(), requests: outcomes.length });
    expect(result).toMatchObject({
      requests: 6,
      successes: 2,
      failures: 4,
      statusCodes: { "200": 1, "202": 1, "503": 2 },
      errors: [
        { kind: "http", message: "503 queue is full", count: 2 },
        { kind: "connection", message: "ECONNREFUSED: Unable to connect.", count: 1 },
        { kind: "timeout", message: "The operation timed out.", count: 1 },
      ],
    });
    // Requests that got no reply have no latency to report.
    expect(result.latencies).toHaveLength(4);
  });

  test("status codes are listed in ascending order", async () => {
    const statuses = [503, 200, 404, 200];
    let i = 0;
    const result = await run({ send: async () => ({ status: statuses[i++]!, message: "x" }), requests: 4 });
    expect(Object.keys(result.statusCodes)).toEqual(["200", "404", "503"]);
  });

  test("the live counters match the result", async () => {
    let i = 0;
    const loadRun = new LoadRun({
      send: async () => (i++ % 2 ? 500 : 200),
      bodies: [BODY],
      concurrency: 3,
      requests: 10,
    });
    const result = await loadRun.run();
    expect([loadRun.completed, loadRun.failures]).toEqual([10, 5]);
    expect(result.failures).toBe(5);
  });

  test("aborting stops new requests; those in flight finish and are counted", async () => {
    const controller = new AbortController();
    let sent = 0;
    const send: Send = async () => {
      if (++sent === 5) controller.abort();
      await Bun.sleep(0);
      return 200;
    };
    const result = await run({ send, concurrency: 2, requests: 1_000, signal: controller.signal });
    expect(result.requests).toBeGreaterThanOrEqual(5);
    expect(result.requests).toBeLessThanOrEqual(6);
    expect(result.requests).toBe(sent);
  });
});

describe("LoadRun arguments", () => {
  const send: Send = async () => 200;
  test.each<[Partial<RunnerOptions>, string]>([
    [{ concurrency: 0 }, "concurrency must be a positive integer, got 0"],
    [{ concurrency: 1.5 }, "concurrency must be a positive integer, got 1.5"],
    [{ requests: 0 }, "requests must be a positive integer, got 0"],
    [{ requests: 10, durationMs: -1 }, "durationMs must be positive, got -1"],
    [{ requests: 10, rate: 0 }, "rate must be a positive number, got 0"],
    [{ requests: 10, rate: Infinity }, "rate must be a positive number, got Infinity"],
    [{}, "give requests or durationMs, or the run never ends"],
    [{ requests: 10, bodies: [] }, "bodies must not be empty"],
  ])("%j is refused: %s", (options, message) => {
    expect(() => new LoadRun({ send, bodies: [BODY], concurrency: 1, ...options })).toThrow(message);
  });

  test("a run cannot be run twice", async () => {
    const loadRun = new LoadRun({ send, bodies: [BODY], concurrency: 1, requests: 1 });
    await loadRun.run();
    await expect(loadRun.run()).rejects.toThrow("a LoadRun runs once; create another");
  });
});
