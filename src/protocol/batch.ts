// How the distributor hands a batch to an analyzer: POST /analyze with `Accept: application/x-ndjson`,
// the body in one of two forms:
// - NDJSON (Content-Type application/x-ndjson): one message per line, each a JSON value as a body of
//   POST /analyze would hold it (an agent's object as the agent sent it, a string, or
//   {"message","fields"}). The analyzer reads each line on its own and refuses a bad one alone: its
//   result line is {"rejected": "<reason>"}. Lines of an agent's NDJSON go this way unparsed.
// - {"logs": [...]} (the packet form of src/protocol/formats/generic.ts), for batches that carry
//   message ids: messages from the distributor's spool have them, {"logs": [...], "ids":
//   ["<spool>-<row>-<index>", ...]}, one per message (null for one without). The analyzer analyzes an
//   id once within its DEDUPE_WINDOW; a repeat (a replay after a crash) is answered
//   {"duplicate": true} and not counted.
// The analyzer answers with its id as a JSON string on the first line and one result per line after
// it, in order, each line one JSON object. The distributor splices those lines into its own answers
// as they are, so a result is serialized once, by the analyzer. With `Prefer: return=minimal` (RFC
// 7240; the distributor sends it when nobody will read the analyses) the second and last line is a
// summary instead, {"analyzed": n} plus "rejected": [{"index", "reason"}, ...] when some were refused.
// Without the Accept header the analyzer answers plain JSON ({"analyzer", "results"}), which the
// distributor also reads.

export const NDJSON = "application/x-ndjson";

/** The preference that asks for no analyses in the answer, only how many were taken. */
export const RETURN_MINIMAL = "return=minimal";

/** RFC 7240: `Prefer: return=minimal`, possibly among other preferences. */
export function prefersMinimal(prefer: string | null | undefined): boolean {
  return prefer != null && /(^|[,\s])return\s*=\s*"?minimal"?\s*(,|;|$)/i.test(prefer);
}

/** RFC 7240: `Prefer: return=representation`, possibly among other preferences. */
export function prefersRepresentation(prefer: string | null | undefined): boolean {
  return prefer != null && /(^|[,\s])return\s*=\s*"?representation"?\s*(,|;|$)/i.test(prefer);
}

/**
 * Whether POST /analyze answers without the analyses, `{"analyzed": n}`: when asked to
 * (`return=minimal`), and by default for a body an agent sends (`ours` false: anything but our own
 * {"log"} and {"logs"}), unless `return=representation` asks for them. Agents read only the status,
 * and Fluent Bit's http output reads at most 4 KB of an answer: past that it takes the request for
 * failed and sends it again, delivered as it was (plugins/out_http/http.c, FLB_HTTP_DATA_SIZE_MAX;
 * seen with Fluent Bit 5.1.1: every chunk of a tail arrived twice).
 */
export function answersMinimal(prefer: string | null | undefined, ours: boolean): boolean {
  return prefersMinimal(prefer) || (!ours && !prefersRepresentation(prefer));
}

/** A result line's start when the analyzer refused that message on its own. */
export const REJECTED_PREFIX = '{"rejected":';

/** A message the analyzer refused: its reason. */
export type Rejected = { rejected: string };

/** The NDJSON answer to a batch: `idJson` is the analyzer's id already JSON-encoded. */
export function batchAnswer(idJson: string, results: readonly unknown[]): string {
  let body = idJson;
  for (const r of results) body += `\n${JSON.stringify(r)}`;
  return body;
}

/** The summary line of a minimal answer. */
export type BatchSummary = { analyzed: number; rejected?: { index: number; reason: string }[] };

/** The minimal NDJSON answer: the id, then how many were analyzed and which were refused. */
export function minimalBatchAnswer(idJson: string, results: readonly unknown[]): string {
  const summary: BatchSummary = { analyzed: 0 };
  const rejected: { index: number; reason: string }[] = [];
  for (let i = 0; i < results.length; i++) {
    const r = results[i] as Partial<Rejected>;
    if (typeof r.rejected !== "string") summary.analyzed++;
    else rejected.push({ index: i, reason: r.rejected });
  }
  if (rejected.length > 0) summary.rejected = rejected;
  return `${idJson}\n${JSON.stringify(summary)}`;
}
