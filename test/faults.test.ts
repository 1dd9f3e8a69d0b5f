// The fault-injection suite: each scenario of testkit/faults.ts against real processes, with the
// guarantees asserted. `bun run reliability` prints the same scenarios' figures as a table.

import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  allDown,
  distributorKillNine,
  flapping,
  hang,
  killNine,
  overload,
  partialFailure,
  rejoin,
  retryStorm,
  sigterm,
} from "../testkit/faults.ts";
import { stopAll } from "../testkit/procs.ts";
import { fitsWeights, SIGMAS, sigmasFrom } from "../testkit/shares.ts";

setDefaultTimeout(60_000); // see test/setup.ts

afterAll(stopAll);

describe("faults", () => {
  test.each([
    ["sync", 1],
    ["sync", 20],
    ["async", 1],
    ["async", 20],
  ] as const)(
    "kill -9 of an analyzer under %s traffic (%i logs per request): no client errors, nothing lost, it rejoins",
    async (mode, packet) => {
      const r = await killNine(mode, packet);
      expect(r.clientErrors).toBe(0);
      expect(r.accepted).toBe(r.requests * packet);
      expect(r.lost).toBe(0);
      expect(r.detectMs).not.toBeNull();
      expect(r.extra.a1AfterRestart).toBe("got traffic");
    },
  );

  test("a hanging analyzer: forwards time out and are retried elsewhere, clients see no error", async () => {
    const r = await hang();
    expect(r.clientErrors).toBe(0);
    expect(r.lost).toBe(0);
    expect(r.accepted).toBe(r.requests);
    expect(Number(r.extra.retried)).toBeGreaterThan(0);
  });

  test("an analyzer failing 30% of requests: retried elsewhere, clients see no error", async () => {
    const r = await partialFailure();
    expect(r.clientErrors).toBe(0);
    expect(r.lost).toBe(0);
    expect(Number(r.extra.retried)).toBeGreaterThan(0);
    expect(Number(r.extra.ejections)).toBeGreaterThan(0);
  });

  test("when every analyzer fails half the time, retries stay within the retry budget", async () => {
    const r = await retryStorm();
    expect(Number(r.extra.retriesDenied)).toBeGreaterThan(0);
    expect(Number(r.extra.retriedRequests)).toBeLessThanOrEqual(Number(r.extra.budgetAllows));
    expect(r.lost).toBe(0); // what was accepted (200) was analyzed
  });

  test("flapping health is damped by rise/fall, and the others keep their 2:3 ratio", async () => {
    const r = await flapping();
    expect(r.clientErrors).toBe(0);
    expect(r.lost).toBe(0);
    expect(Number(r.extra.healthChanges)).toBeLessThan(Number(r.extra.toggles));
    const [a2, a3] = [Number(r.extra.a2), Number(r.extra.a3)];
    expect(fitsWeights([a2, a3], [2, 3])).toMatchObject({ ok: true });
  });

  test("all analyzers down: sync gets 503 + Retry-After, async is stored up to its bound, all delivered on recovery", async () => {
    const r = await allDown();
    expect(r.clientErrors).toBe(0);
    expect(r.extra.sync503).toBe(100);
    expect(Number(r.extra.async503)).toBeGreaterThan(0); // the spool's bound was reached
    expect(r.extra.retryAfterMissing).toBe(0);
    expect(r.extra.deliveredAfterRecovery).toBe(r.accepted);
    expect(r.lost).toBe(0);
  });

  test("a returning analyzer gets its normal share, not a catch-up burst", async () => {
    const r = await rejoin(0);
    const n = Number(r.extra.messagesAfterReturn);
    expect(Math.abs(sigmasFrom(Number(r.extra.itsShare) * n, n, 1 / 3))).toBeLessThanOrEqual(SIGMAS);
    expect(r.clientErrors).toBe(0);
  });

  test("with slow start, a returning analyzer gets well under its share at first", async () => {
    const r = await rejoin(2000);
    const n = Number(r.extra.messagesAfterReturn);
    expect(sigmasFrom(Number(r.extra.itsShare) * n, n, 1 / 3)).toBeLessThan(-SIGMAS);
    expect(r.clientErrors).toBe(0);
  });

  test("overload: the excess gets 503 + Retry-After, memory stays bounded, nothing accepted is lost", async () => {
    const r = await overload();
    expect(r.refused).toBeGreaterThan(0);
    expect(r.extra.retryAfterMissing).toBe(0);
    expect(r.clientErrors).toBe(0);
    expect(r.lost).toBe(0);
    expect(r.extra.delivered).toBe(r.accepted);
    // 3000 packets offered; a queue of 200 messages must not grow memory by anything like that.
    expect(Number(r.extra.rssMaxMB) - Number(r.extra.rssBeforeMB)).toBeLessThan(64);
  });

  test("SIGTERM under load: drains, exits 0, nothing accepted is lost", async () => {
    const r = await sigterm();
    expect(r.extra.exitCode).toBe(0);
    expect(r.extra.leftInSpool).toBe(0);
    expect(r.accepted).toBeGreaterThan(0);
    expect(r.clientErrors).toBe(0);
    expect(r.lost).toBe(0);
  });
});

describe("kill -9 of the distributor under async load, restarted on the same spool", () => {
  // Several runs: the kill lands at a different point of the grouped commits each time.
  test.each([1, 2, 3])("run %i: none of the 202-acknowledged messages is missing, repeats are dropped", async () => {
    const r = await distributorKillNine("disk");
    expect(r.accepted).toBeGreaterThan(0);
    expect(Number(r.extra.waitingAtKill)).toBeGreaterThan(0); // the crash had something to lose
    expect(Number(r.extra.recovered)).toBeGreaterThan(0);
    expect(r.lost).toBe(0);
    expect(r.clientErrors).toBe(0);
  });

  test("without the spool (SPOOL=memory) the same crash loses what was queued: the test can tell", async () => {
    const r = await distributorKillNine("memory");
    expect(r.lost).toBeGreaterThan(0);
  });
});
