// Fault-injection scenarios against real processes. Each one starts analyzers that write every
// line they analyze to an audit file (AUDIT_FILE, appended before answering, so it survives kill -9)
// and a distributor in front of them, drives traffic in which every message carries a unique id,
// injects one fault, and measures what clients saw and what the analyzers got:
//   lost       = accepted messages (2xx) that no analyzer's audit file holds
//   duplicates = audit lines beyond the first for the same message (retries after a timeout)
// test/faults.test.ts asserts on these reports; scripts/reliability.ts prints them as a table.

import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Spool } from "../src/distributor/spool.ts";
import type { AnalyzerStats, DistributorStats } from "../src/protocol/stats.ts";
import type { Certs } from "./certs.ts";
import { startCluster } from "./cluster.ts";
import { distributorStats, eventually, getJson, postJson } from "./http.ts";
import { type Env, type Service, spawnService, stopAll } from "./procs.ts";

export type FaultReport = {
  fault: string;
  happened: string;
  requests: number;
  accepted: number;
  clientErrors: number;
  /** 503s with Retry-After (overload, nothing healthy): refusals a client is told to retry. */
  refused: number;
  lost: number;
  duplicates: number;
  detectMs: number | null;
  recoverMs: number | null;
  extra: Record<string, number | string>;
};

export class Rig {
  readonly dir = mkdtempSync(join(tmpdir(), "faults-"));
  analyzers: Service[] = [];
  distributor!: Service;
  weights: readonly number[] = [];

  static async start(weights: number[], env: Env = {}, analyzerEnv: Env = {}): Promise<Rig> {
    const rig = new Rig();
    rig.weights = weights;
    const cluster = await startCluster(weights, { HEALTH_TIMEOUT_MS: "100", ...env }, (id) => ({
      AUDIT_FILE: join(rig.dir, `${id}.jsonl`),
      ...analyzerEnv,
    }));
    rig.analyzers = cluster.analyzers;
    rig.distributor = cluster.distributor;
    return rig;
  }

  /** One more distributor in front of the same analyzers and weights, configured by `env` too. */
  anotherDistributor(env: Env): Promise<Service> {
    return spawnService("distributor.ts", {
      ANALYZERS: this.analyzers.map((a) => a.url).join(","),
      DISTRIBUTION_WEIGHTS: this.weights.join(","),
      ...env,
    });
  }

  /** Two more distributors serving TLS with `certs.server`; the second also wants client certificates from `certs.ca`. */
  async tlsDistributors(certs: Certs): Promise<{ tls: Service; mtls: Service }> {
    const serverTls = { TLS_CERT_FILE: certs.server.cert, TLS_KEY_FILE: certs.server.key };
    const [tls, mtls] = await Promise.all([
      this.anotherDistributor(serverTls),
      this.anotherDistributor({ ...serverTls, TLS_CLIENT_CA_FILE: certs.ca.cert }),
    ]);
    return { tls, mtls };
  }

  /** Starts analyzer i again on its old port, with the same audit file. */
  async restart(i: number, env: Env = {}): Promise<void> {
    this.analyzers[i] = await this.analyzers[i].restart(env);
  }

  /** The same fault on every analyzer (POST /fault), e.g. {"down": true} for an outage. */
  async faultAll(fault: Record<string, unknown>): Promise<void> {
    await Promise.all(this.analyzers.map((_, i) => this.fault(i, fault)));
  }

  /** Until the distributor sees every analyzer healthy (true) or every one down (false). */
  untilAll(healthy: boolean): Promise<void> {
    const what = healthy ? "every analyzer back" : "every analyzer marked down";
    return eventually(async () => (await this.stats()).analyzers.every((a) => a.healthy === healthy), what);
  }

  fault(i: number, fault: Record<string, unknown>): Promise<Response> {
    return postJson(`${this.analyzers[i].url}/fault`, fault);
  }

  stats(): Promise<DistributorStats> {
    return distributorStats(this.distributor.url);
  }

  /**
   * Waits until every accepted message is settled (delivered or given up on): with a spool, until
   * it holds nothing (it counts what a distributor before this one stored, too).
   */
  async settled(): Promise<DistributorStats> {
    for (let i = 0; i < 800; i++) {
      const s = await this.stats();
      const stored = s.spool.kind === "disk" ? s.spool.messages : 0;
      if (s.queue.depth === 0 && stored === 0 && s.received <= s.delivered + s.failed) return s;
      await Bun.sleep(25);
    }
    return this.stats();
  }

  /** Every analyzer's /stats, in order. */
  analyzerStats(): Promise<AnalyzerStats[]> {
    return Promise.all(this.analyzers.map((a) => getJson<AnalyzerStats>(`${a.url}/stats`)));
  }

  /** Each analyzer's audit file (AUDIT_FILE): the messages it analyzed, in order. */
  messages(): string[][] {
    return this.analyzers.map((_, i) => {
      const file = join(this.dir, `a${i + 1}.jsonl`);
      if (!existsSync(file)) return [];
      // An analyzer may be appending right now: only whole lines (ending in \n) are read.
      const lines = readFileSync(file, "utf8").split("\n");
      lines.pop();
      return lines.map((line) => JSON.parse(line) as string);
    });
  }

  /** Each analyzer's audited messages that start with `prefix` and a space. */
  messagesWith(prefix: string): string[][] {
    return this.messages().map((messages) => messages.filter((m) => m.startsWith(`${prefix} `)));
  }

  /** How many empty messages the analyzers analyzed, all together. */
  emptyMessages(): number {
    return this.messages()
      .flat()
      .filter((m) => m === "").length;
  }

  /** How often each message id appears in the analyzers' audit files. */
  audited(): Map<number, number> {
    const seen = new Map<number, number>();
    for (const message of this.messages().flat()) {
      const m = /msg=(\d+)/.exec(message);
      if (m) seen.set(Number(m[1]), (seen.get(Number(m[1])) ?? 0) + 1);
    }
    return seen;
  }

  /** Polls /stats every 10 ms and says when analyzer i was first seen in the wanted state. */
  watch(i: number, healthy: boolean, since: number): Promise<number> {
    return (async () => {
      for (;;) {
        const s = await this.stats().catch(() => undefined);
        if (s && s.analyzers[i].healthy === healthy) return performance.now() - since;
        await Bun.sleep(10);
      }
    })();
  }

  stop(): Promise<void> {
    return stopAll();
  }
}

export type TrafficOptions = {
  mode: "sync" | "async";
  /** Lines per request: 1 sends {"log"}, more send {"logs"} packets. */
  packet: number;
  concurrency: number;
  requests: number;
  /** Called once per request before sending, with its sequence number. */
  onRequest?: (i: number) => void | Promise<void>;
};

export type Traffic = {
  sent: number;
  statuses: Map<number, number>;
  accepted: number[];
  errors: string[];
  refused: number;
  retryAfterMissing: number;
};

let nextId = 0;

/** Sends `requests` requests from `concurrency` loops; every line carries a unique msg=<id>. */
export async function drive(url: string, o: TrafficOptions): Promise<Traffic> {
  const t: Traffic = { sent: 0, statuses: new Map(), accepted: [], errors: [], refused: 0, retryAfterMissing: 0 };
  let sent = 0;
  const headers: Record<string, string> = o.mode === "async" ? { prefer: "respond-async" } : {};
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (sent < o.requests) {
        const i = sent++;
        t.sent++;
        await o.onRequest?.(i);
        const ids = Array.from({ length: o.packet }, () => nextId++);
        const lines = ids.map(
          (id) => `2026-11-24T12:00:00Z INFO checkout user=${id % 997} from 10.1.${id % 250}.7 msg=${id}`,
        );
        const body = o.packet === 1 ? { log: lines[0] } : { logs: lines };
        try {
          const res = await postJson(`${url}/analyze`, body, headers);
          const text = await res.text();
          t.statuses.set(res.status, (t.statuses.get(res.status) ?? 0) + 1);
          if (res.ok) t.accepted.push(...ids);
          else if (res.status === 503) {
            t.refused++;
            if (!res.headers.get("retry-after")) t.retryAfterMissing++;
          } else t.errors.push(`${res.status} ${text.slice(0, 200)}`);
        } catch (error) {
          t.errors.push(String(error));
        }
      }
    }),
  );
  return t;
}

export function account(t: Traffic, audited: Map<number, number>) {
  let lost = 0;
  for (const id of t.accepted) if (!audited.has(id)) lost++;
  let duplicates = 0;
  for (const n of audited.values()) duplicates += n - 1;
  return { lost, duplicates };
}

function report(
  fault: string,
  happened: string,
  t: Traffic,
  rig: Rig,
  extra: Partial<FaultReport> & { extra?: FaultReport["extra"] } = {},
): FaultReport {
  const { lost, duplicates } = account(t, rig.audited());
  return {
    fault,
    happened,
    requests: t.sent,
    accepted: t.accepted.length,
    clientErrors: t.errors.length,
    refused: t.refused,
    lost,
    duplicates,
    detectMs: null,
    recoverMs: null,
    extra: {},
    ...extra,
  };
}

const ms = (x: number | null) => (x === null ? null : Math.round(x));

/** kill -9 one analyzer (weight 1 of 1:2:3) a third into the run, restart it at two thirds. */
export async function killNine(mode: "sync" | "async", packet: number): Promise<FaultReport> {
  const rig = await Rig.start([1, 2, 3]);
  try {
    const requests = packet === 1 ? 3000 : 300;
    let detect: Promise<number> | undefined;
    // The last third waits until it is back, so that some of it goes there: async requests are
    // answered at once, and could otherwise all be delivered before its first good probe.
    const recover = Promise.withResolvers<number>();
    const t = await drive(rig.distributor.url, {
      mode,
      packet,
      concurrency: 16,
      requests,
      async onRequest(i) {
        if (i === Math.floor(requests / 3)) {
          const at = performance.now();
          rig.analyzers[0].kill();
          detect = rig.watch(0, false, at);
        }
        if (i === Math.floor((2 * requests) / 3)) {
          await detect;
          const at = performance.now();
          await rig.restart(0);
          rig.watch(0, true, at).then(recover.resolve, recover.reject);
        }
        if (i >= Math.floor((2 * requests) / 3)) await recover.promise;
      },
    });
    const [detectMs, recoverMs] = [await detect!, await recover.promise];
    const s = await rig.settled();
    return report(
      `kill -9 analyzer (${mode}, ${packet === 1 ? "single logs" : `packets of ${packet}`})`,
      "marked down on the first failed forward; its messages retried on the others; back on restart",
      t,
      rig,
      {
        detectMs: ms(detectMs),
        recoverMs: ms(recoverMs),
        extra: { retried: s.retried, a1AfterRestart: s.analyzers[0].delivered > 0 ? "got traffic" : "no traffic" },
      },
    );
  } finally {
    await rig.stop();
  }
}

/** An analyzer stops answering (accepts, never replies) mid-run. */
export async function hang(): Promise<FaultReport> {
  const rig = await Rig.start([1, 1, 1], { REQUEST_TIMEOUT_MS: "300" });
  try {
    let detect: Promise<number> | undefined;
    let recover: Promise<number> | undefined;
    const requests = 1500;
    const t = await drive(rig.distributor.url, {
      mode: "sync",
      packet: 1,
      concurrency: 16,
      requests,
      async onRequest(i) {
        if (i === 500) {
          const at = performance.now();
          await rig.fault(0, { hang: true });
          detect = rig.watch(0, false, at);
        }
        if (i === 1000) {
          await detect;
          const at = performance.now();
          await rig.fault(0, { hang: false });
          recover = rig.watch(0, true, at);
        }
      },
    });
    const [detectMs, recoverMs] = [await detect!, await recover!];
    const s = await rig.settled();
    return report(
      "analyzer hangs (no answer)",
      `forwards time out after 300 ms and are retried elsewhere; ejected; back when it answers again`,
      t,
      rig,
      {
        detectMs: ms(detectMs),
        recoverMs: ms(recoverMs),
        extra: { retried: s.retried },
      },
    );
  } finally {
    await rig.stop();
  }
}

/** One analyzer answers 500 to 30% of requests for the whole run. */
export async function partialFailure(): Promise<FaultReport> {
  const rig = await Rig.start([1, 1, 1], {}, {});
  try {
    await rig.fault(0, { failureRate: 0.3 });
    const t = await drive(rig.distributor.url, { mode: "sync", packet: 1, concurrency: 16, requests: 2000 });
    const s = await rig.settled();
    return report(
      "analyzer answers 5xx to 30% of requests",
      "each 5xx ejects it and the messages are retried elsewhere; it returns on the next good probe",
      t,
      rig,
      {
        extra: {
          retried: s.retried,
          ejections: Math.floor(s.analyzers[0].healthChanges / 2),
          a1Share: (s.analyzers[0].delivered / s.delivered).toFixed(3),
        },
      },
    );
  } finally {
    await rig.stop();
  }
}

/** Every analyzer fails half of its requests: the retry budget keeps retries from multiplying load. */
export async function retryStorm(): Promise<FaultReport> {
  const rig = await Rig.start([1, 1, 1], {
    RETRY_BUDGET_RATIO: "0.2",
    RETRY_BUDGET_MIN_PER_SECOND: "10",
    MAX_ATTEMPTS: "5",
    HEALTH_RISE: "1",
  });
  try {
    await Promise.all([0, 1, 2].map((i) => rig.fault(i, { failureRate: 0.5 })));
    const started = performance.now();
    const t = await drive(rig.distributor.url, { mode: "sync", packet: 1, concurrency: 16, requests: 2000 });
    const seconds = (performance.now() - started) / 1000;
    const s = await rig.settled();
    const upstreamRequests = s.analyzers.reduce((sum, a) => sum + a.requests, 0);
    const upstreamMessages = s.analyzers.reduce((sum, a) => sum + a.delivered + a.failed, 0);
    return report(
      "every analyzer fails 50% (retry storm)",
      "retry budget (20% + 10/s) caps retries; clients see the failures the budget will not retry",
      t,
      rig,
      {
        extra: {
          retried: s.retried,
          retriesDenied: s.retriesDenied,
          retryRatio: (s.retried / Math.max(1, s.received)).toFixed(3),
          upstreamAttemptsPerMessage: (upstreamMessages / Math.max(1, s.received)).toFixed(2),
          // The budget counts analyzer requests: at most 20% of them (successes, really), 10/s and
          // an initial burst of 100 may be retried.
          retriedRequests: s.retriedRequests,
          budgetAllows: Math.ceil(0.2 * upstreamRequests + 10 * seconds + 100),
        },
      },
    );
  } finally {
    await rig.stop();
  }
}

/** An analyzer's health flaps down/up every 150 ms; rise/fall thresholds damp it. */
export async function flapping(): Promise<FaultReport> {
  const rig = await Rig.start([1, 2, 3], { HEALTH_RISE: "3", HEALTH_FALL: "2" });
  try {
    let flapping = true;
    let toggles = 0;
    const flapper = (async () => {
      let down = false;
      while (flapping) {
        down = !down;
        toggles++;
        await rig.fault(0, { down });
        await Bun.sleep(150);
      }
      await rig.fault(0, { down: false });
    })();
    const before = await rig.stats();
    const t = await drive(rig.distributor.url, { mode: "sync", packet: 1, concurrency: 4, requests: 8000 });
    flapping = false;
    await flapper;
    const s = await rig.settled();
    const d = s.analyzers.map((a, i) => a.delivered - before.analyzers[i].delivered);
    return report(
      "analyzer health flaps every 150 ms",
      "rise 3 / fall 2 hold it out most of the time; the other two keep their 2:3 ratio",
      t,
      rig,
      {
        extra: {
          toggles,
          healthChanges: s.analyzers[0].healthChanges,
          a2: d[1],
          a3: d[2],
          a2toA3: (d[1] / d[2]).toFixed(3),
          expectedA2toA3: (2 / 3).toFixed(3),
        },
      },
    );
  } finally {
    await rig.stop();
  }
}

/** Every analyzer dies, then one comes back; sync clients get 503 at once, async ones queue. */
export async function allDown(): Promise<FaultReport> {
  // The spool bounds async messages: 100 kB holds about 1,300 of the 4,000 sent (~75 bytes each).
  const rig = await Rig.start([1, 1], { SPOOL_MAX_BYTES: "100000", BATCH_MAX: "50" });
  try {
    for (const a of rig.analyzers) a.kill();
    const at = performance.now();
    await rig.watch(0, false, at);
    const detectMs = await rig.watch(1, false, at);
    const sync = await drive(rig.distributor.url, { mode: "sync", packet: 1, concurrency: 4, requests: 100 });
    // Async: stored until the spool is full, then 503.
    const asyncRun = await drive(rig.distributor.url, { mode: "async", packet: 10, concurrency: 4, requests: 400 });
    const back = performance.now();
    await rig.restart(0);
    const recoverMs = await rig.watch(0, true, back);
    const s = await rig.settled();
    const merged: Traffic = {
      sent: sync.sent + asyncRun.sent,
      statuses: new Map([
        ...sync.statuses,
        ...[...asyncRun.statuses].map(([k, v]) => [k, v + (sync.statuses.get(k) ?? 0)] as [number, number]),
      ]),
      accepted: [...sync.accepted, ...asyncRun.accepted],
      errors: [...sync.errors, ...asyncRun.errors],
      refused: sync.refused + asyncRun.refused,
      retryAfterMissing: sync.retryAfterMissing + asyncRun.retryAfterMissing,
    };
    return report(
      "all analyzers down, then one back",
      "sync: 503 + Retry-After at once; async: stored up to SPOOL_MAX_BYTES, then 503; all delivered on recovery",
      merged,
      rig,
      {
        detectMs: ms(detectMs),
        recoverMs: ms(recoverMs),
        extra: {
          sync503: sync.refused,
          asyncAccepted: asyncRun.accepted.length,
          async503: asyncRun.refused,
          deliveredAfterRecovery: s.delivered,
          retryAfterMissing: merged.retryAfterMissing,
        },
      },
    );
  } finally {
    await rig.stop();
  }
}

/** A returning analyzer gets its normal share, not a catch-up burst; with slow start, less at first. */
export async function rejoin(slowStartMs: number): Promise<FaultReport> {
  const rig = await Rig.start([1, 1, 1], { SLOW_START_MS: String(slowStartMs) });
  try {
    rig.analyzers[0].kill();
    await rig.watch(0, false, performance.now());
    // Traffic while it is away: none of this is owed to it later.
    const away = await drive(rig.distributor.url, { mode: "sync", packet: 1, concurrency: 8, requests: 1500 });
    const at = performance.now();
    await rig.restart(0);
    const recoverMs = await rig.watch(0, true, at);
    const before = await rig.stats();
    const t = await drive(rig.distributor.url, { mode: "sync", packet: 10, concurrency: 8, requests: 150 });
    const s = await rig.settled();
    const d = s.analyzers.map((a, i) => a.delivered - before.analyzers[i].delivered);
    const share = d[0] / d.reduce((a, b) => a + b, 0);
    const merged = {
      ...t,
      sent: away.sent + t.sent,
      accepted: [...away.accepted, ...t.accepted],
      errors: [...away.errors, ...t.errors],
    };
    return report(
      slowStartMs > 0 ? `rejoin with SLOW_START_MS=${slowStartMs}` : "rejoin (no slow start)",
      slowStartMs > 0
        ? "its weight ramps from 5% to full over the window"
        : "its normal share at once, no catch-up burst",
      merged,
      rig,
      {
        recoverMs: ms(recoverMs),
        extra: {
          messagesAfterReturn: d.reduce((a, b) => a + b, 0),
          itsShare: share.toFixed(3),
          normalShare: (1 / 3).toFixed(3),
        },
      },
    );
  } finally {
    await rig.stop();
  }
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : NaN;
}

/** Offered load well above what slow analyzers take: the bounded queue sheds the excess. */
export async function overload(): Promise<FaultReport> {
  const rig = await Rig.start(
    [1, 1],
    // The queue alone bounds async messages in memory; the spool's bound is its own scenario.
    { QUEUE_CAPACITY: "200", MAX_PACKET: "100", WORKERS: "4", BATCH_MAX: "10", SPOOL: "memory" },
    { ANALYZER_LATENCY: "0.05" },
  );
  try {
    const rssBefore = rssKb(rig.distributor.pid);
    let rssMax = rssBefore;
    const sampler = setInterval(() => (rssMax = Math.max(rssMax, rssKb(rig.distributor.pid))), 50);
    const t = await drive(rig.distributor.url, { mode: "async", packet: 10, concurrency: 32, requests: 3000 });
    clearInterval(sampler);
    const s = await rig.settled();
    return report(
      "overload (async, analyzers at 50 ms, queue 200, SPOOL=memory)",
      "the queue fills, the excess gets 503 + Retry-After at once; everything accepted is delivered",
      t,
      rig,
      {
        extra: {
          rssBeforeMB: (rssBefore / 1024).toFixed(1),
          rssMaxMB: (rssMax / 1024).toFixed(1),
          delivered: s.delivered,
          retryAfterMissing: t.retryAfterMissing,
        },
      },
    );
  } finally {
    await rig.stop();
  }
}

/**
 * kill -9 of the distributor under async load, analyzers slow enough (50 ms) that its queue is not
 * empty, and a restart on the same spool folder. `spool: "memory"` is the before: what a crash
 * loses without the spool.
 */
export async function distributorKillNine(spool: "disk" | "memory"): Promise<FaultReport> {
  const env = spool === "memory" ? { SPOOL: "memory" } : {};
  const rig = await Rig.start([1, 2, 3], env, { ANALYZER_LATENCY: "0.05" });
  try {
    const requests = 900;
    let restarted: Promise<void> | undefined;
    let storedAtKill = 0;
    const t = await drive(rig.distributor.url, {
      mode: "async",
      packet: 20,
      concurrency: 16,
      requests,
      async onRequest(i) {
        if (i === requests / 3) {
          const before = await rig.stats();
          storedAtKill = spool === "disk" ? before.spool.messages : before.queue.depth;
          rig.distributor.kill();
          restarted = (async () => {
            rig.distributor = await rig.distributor.restart();
          })();
        }
        if (i >= requests / 3) await restarted;
      },
    });
    const s = await rig.settled();
    const dropped = (await rig.analyzerStats()).reduce((n, a) => n + a.duplicates, 0);
    // Requests cut off by the kill failed at the client (connection closed): not accepted, not owed.
    const connectionErrors = t.errors.filter((e) => !/^\d{3} /.test(e)).length;
    const rest = { ...t, errors: t.errors.filter((e) => /^\d{3} /.test(e)) };
    return report(
      `kill -9 distributor under async load (${spool === "disk" ? "spool on disk" : "SPOOL=memory"})`,
      spool === "disk"
        ? "restarted on the same spool: what it had stored is replayed, repeats dropped by the analyzers"
        : "restarted: what was queued in memory is gone",
      rest,
      rig,
      {
        extra: {
          waitingAtKill: storedAtKill,
          recovered: s.spool.recovered,
          duplicatesDropped: dropped,
          cutOffRequests: connectionErrors,
        },
      },
    );
  } finally {
    await rig.stop();
  }
}

/** SIGTERM while clients are sending: stop accepting, drain, exit 0. */
export async function sigterm(): Promise<FaultReport> {
  const rig = await Rig.start([1, 1], { WORKERS: "2", BATCH_MAX: "5" }, { ANALYZER_LATENCY: "0.02" });
  try {
    let exit: Promise<number> | undefined;
    const t = await drive(rig.distributor.url, {
      mode: "async",
      packet: 10,
      concurrency: 8,
      requests: 400,
      onRequest(i) {
        if (i === 100) exit = rig.distributor.stop("SIGTERM");
      },
    });
    const code = await exit!;
    // What a next start would find in the spool: nothing, if the drain delivered everything.
    const { spool } = Spool.open({ dir: rig.distributor.env.SPOOL_DIR!, maxBytes: 1 << 30, log: () => {} });
    const leftInSpool = spool.messages;
    spool.close();
    // Refused requests after SIGTERM are connection errors or 503s: not accepted, so not owed.
    const connectionRefusals = t.errors.filter((e) => !/^\d{3} /.test(e)).length;
    const rest = { ...t, errors: t.errors.filter((e) => /^\d{3} /.test(e)) };
    return report("SIGTERM under load", `stops accepting, drains the queue, exits ${code}`, rest, rig, {
      extra: { exitCode: code, refusedAfterSigterm: t.refused + connectionRefusals, leftInSpool },
    });
  } finally {
    await rig.stop();
  }
}

export const scenarios: [string, () => Promise<FaultReport>][] = [
  ["kill -9, sync single", () => killNine("sync", 1)],
  ["kill -9, sync packets", () => killNine("sync", 20)],
  ["kill -9, async single", () => killNine("async", 1)],
  ["kill -9, async packets", () => killNine("async", 20)],
  ["hang", hang],
  ["5xx fraction", partialFailure],
  ["retry storm", retryStorm],
  ["flapping", flapping],
  ["all down", allDown],
  ["rejoin", () => rejoin(0)],
  ["rejoin, slow start", () => rejoin(2000)],
  ["overload", overload],
  ["SIGTERM", sigterm],
  ["kill -9 distributor, memory", () => distributorKillNine("memory")],
  ["kill -9 distributor, spool", () => distributorKillNine("disk")],
];
