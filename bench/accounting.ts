// Lost messages: how many the target acknowledged (2xx) minus how many the analyzers analyzed in the
// same run, from the analyzers' own `processed` counters, read before and after the run (their
// `requests` counters, read the same way, tell how many logs each request to an analyzer carried).
//
// A killed analyzer loses its counter, so the failover scenario reads it in the moment before the
// kill (the SIGKILL goes out in the same tick the answer arrives) and adds the restarted process's
// counter, which starts again from 0. Whatever the victim analyzed in that gap is missed, so `lost`
// is an upper bound; the counts are net, so a message analyzed twice (retried after the analyzer
// had done it but died before answering) would hide a lost one. Requests still in flight when the
// generator stops are analyzed but never acknowledged: they show up in `unacknowledged`.

/** The victim of a failover run: which analyzer, and its counter read just before the kill. */
export type Kill = { index: number; atKill: number };

/** How much one counter of every analyzer grew between two reads of all of them. */
export function countedDuring(before: readonly number[], after: readonly number[], kill?: Kill): number {
  if (before.length !== after.length)
    throw new RangeError(`counter lists differ in length: ${before.length} and ${after.length}`);
  let sum = 0;
  before.forEach((start, i) => {
    // after[i] of a killed analyzer is its successor's counter, which started at 0
    sum += kill?.index === i ? kill.atKill - start + after[i]! : after[i]! - start;
  });
  return sum;
}

export type Reconciled = {
  /** Acknowledged but analyzed by no analyzer (an upper bound, see above). */
  lost: number;
  /** Analyzed but not acknowledged: the client got an error or gave up waiting, or a retry repeated it. */
  unacknowledged: number;
};

export function reconcile(acknowledged: number, processed: number): Reconciled {
  return { lost: Math.max(0, acknowledged - processed), unacknowledged: Math.max(0, processed - acknowledged) };
}
