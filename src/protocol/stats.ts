// GET /stats: the distributor's answer (its counters, every analyzer as it sees it, the queue) and
// the analyzer's own. Written once, here, as zod schemas: the programs build values of these types,
// every reader (load tester, bench, tests, scripts) imports them, so renaming a field fails the
// type-check everywhere; the load tester also checks an answer against them at run time.

import { z } from "zod";
import type { LogRecord } from "./record.ts";

const count = z.number().int().nonnegative();

/** One analyzer as the distributor sees it: an entry of /stats, and of the admin API's answers. */
export const AnalyzerStatsEntry = z.object({
  /** The analyzer's own id, learned from its /health answer; host:port until then. */
  id: z.string(),
  url: z.string(),
  /** Its ANALYZER_GROUPS group (the DNS name it was found under); null outside groups. */
  group: z.string().nullable(),
  /** The configured weight (DISTRIBUTION_WEIGHTS, or set through the admin API); in a group, its
   * part of the group's weight (1 each unless changed: the group's weight is shared in these proportions). */
  weight: z.number().nonnegative(),
  /** The weight picks use now: 0 while down, lower while slow start ramps it up. */
  effectiveWeight: z.number().nonnegative(),
  healthy: z.boolean(),
  /** Its share of new messages now: its effective weight over the sum of all of them. */
  share: z.number().nonnegative(),
  /** Requests sent to it (each carries a batch of messages). */
  requests: count,
  /** Messages it analyzed. */
  delivered: count,
  /** Messages in requests to it that failed. */
  failed: count,
  /** Requests to it in flight right now. */
  inflight: count,
  /** Times it went down or came back. */
  healthChanges: count,
  /** Why it was last marked down; null while healthy. */
  lastError: z.string().nullable(),
});
export type AnalyzerStatsEntry = z.infer<typeof AnalyzerStatsEntry>;

/** An ANALYZER_GROUPS group: its weight, shared among its healthy instances. */
export const GroupStatsEntry = z.object({
  /** The DNS name its instances are found under (a Service's name). */
  name: z.string(),
  /** The configured weight (ANALYZER_GROUPS, or set through the admin API). */
  weight: z.number().nonnegative(),
  /** Instances found now, and how many of them are healthy. */
  instances: count,
  healthy: count,
  /** Its share of new messages now: its instances' shares summed (weight over the groups with a healthy instance). */
  share: z.number().nonnegative(),
  /** Messages its instances known now analyzed. */
  delivered: count,
});
export type GroupStatsEntry = z.infer<typeof GroupStatsEntry>;

/** The distributor's message counters, since it started. */
export const DistributorCounters = z.object({
  /** Messages accepted into the queue. */
  received: count,
  /** Messages an analyzer analyzed. */
  delivered: count,
  /** Delivery attempts repeated on another analyzer after one failed. */
  retried: count,
  /** Messages refused with 503 before they were accepted: queue full, or no healthy analyzer. */
  rejected: count,
  /** Accepted messages given up on: every attempt failed, or no analyzer was left for a waiting
   * client (it saw 502/503/504). received = delivered + failed + messages still on their way. */
  failed: count,
  /** Failed analyzer requests whose messages were retried (what the retry budget counts). */
  retriedRequests: count,
  /** Failed analyzer requests not retried because the retry budget was spent. */
  retriesDenied: count,
  /** Requests refused as malformed (4xx). */
  invalid: count,
  /**
   * Messages refused on their own as bad data while the rest of their request went on: an OTLP
   * record without a body, a bulk document without a message or an update/delete action (counted
   * once their request was answered 200), and a message an analyzer refused, such as a line of a
   * waiting client's NDJSON without a message (it was received, so it is in `failed` too; an async
   * one becomes a dead letter). A request refused whole counts in `invalid`, its messages not here.
   */
  invalidMessages: count,
});
export type DistributorCounters = z.infer<typeof DistributorCounters>;

/** Every counter at zero: a distributor's at start, and the base of readers' examples. */
export function zeroCounters(): DistributorCounters {
  return Object.fromEntries(Object.keys(DistributorCounters.shape).map((k) => [k, 0])) as DistributorCounters;
}

/** Where async messages wait (SPOOL): on disk, or in the queue only. */
export const SpoolStats = z.object({
  kind: z.enum(["disk", "memory"]),
  /** SPOOL_DIR; null in memory. */
  dir: z.string().nullable(),
  /** Async messages stored and not analyzed yet (0 in memory). */
  messages: count,
  /** Bytes the stored messages and dead letters take, and SPOOL_MAX_BYTES. */
  bytes: count,
  maxBytes: count,
  /** Async messages no analyzer took, kept with the reason (GET /admin/dead-letters). */
  deadLetters: count,
  /** Dead letters forgotten beyond the 10,000 kept in memory (0 on disk, where they all stay). */
  deadLettersForgotten: count,
  /** Messages found stored at start, from before a crash or an unfinished drain, delivered since. */
  recovered: count,
});
export type SpoolStats = z.infer<typeof SpoolStats>;

/** A spool that holds nothing: the base of readers' examples. */
export function emptySpool(kind: SpoolStats["kind"] = "memory"): SpoolStats {
  const zero = { messages: 0, bytes: 0, maxBytes: 0, deadLetters: 0, deadLettersForgotten: 0, recovered: 0 };
  return { kind, dir: null, ...zero };
}

/** The distributor's GET /stats answer. */
export const DistributorStats = z.object({
  analyzers: z.array(AnalyzerStatsEntry),
  /** ANALYZER_GROUPS, in its order; empty outside groups. */
  groups: z.array(GroupStatsEntry),
  ...DistributorCounters.shape,
  /** Messages waiting in the queue, and QUEUE_CAPACITY. */
  queue: z.object({ depth: count, capacity: count }),
  spool: SpoolStats,
  workers: count,
  /** Workers handling a batch now. */
  activeWorkers: count,
  uptimeSeconds: count,
});
export type DistributorStats = z.infer<typeof DistributorStats>;

/** The distributor's GET /admin/analyzers answer. */
export type AnalyzerList = { analyzers: AnalyzerStatsEntry[] };
/** The distributor's PUT /admin/analyzers/<id or url> answer: the analyzer after the change. */
export type AnalyzerChanged = { analyzer: AnalyzerStatsEntry };
/** The distributor's GET /admin/groups answer. */
export type GroupList = { groups: GroupStatsEntry[] };
/** The distributor's PUT /admin/groups/<name> answer: the group after the change, and its instances. */
export type GroupChanged = { group: GroupStatsEntry; analyzers: AnalyzerStatsEntry[] };

/** An async message no analyzer took, kept with the reason: an entry of GET /admin/dead-letters. */
export type DeadLetter = {
  id: number;
  /** The message's id as analyzers saw it (spool-row-index), or memory-<n>. */
  messageId: string;
  /** The record as it was accepted, or the damaged text found on disk. */
  record: LogRecord;
  reason: string;
  /** When it was given up on (ISO 8601). */
  at: string;
};
/** The distributor's GET /admin/dead-letters answer: the oldest first, and how many there are. */
export type DeadLetterList = { total: number; deadLetters: DeadLetter[] };
/** The distributor's POST /admin/dead-letters/replay answer. */
export type DeadLettersReplayed = { replayed: number };

/** The faults an analyzer simulates (POST /fault sets them). */
export type AnalyzerFault = { down: boolean; hang: boolean; failureRate: number; latency: number };

/** The analyzer's own GET /stats answer. */
export type AnalyzerStats = {
  id: string;
  /** Messages analyzed. */
  processed: number;
  /** POST /analyze requests received. */
  requests: number;
  /** Requests failed on purpose (the fault's failureRate). */
  simulatedFailures: number;
  /** Messages analyzed, by level ("NONE" when a line has none). */
  byLevel: Record<string, number>;
  /** Messages not analyzed again: their id (from a distributor's spool) was analyzed before. */
  duplicates: number;
  fault: AnalyzerFault;
};
