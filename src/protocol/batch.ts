// How the distributor hands a batch to an analyzer: POST /analyze with {"logs": [...]} (the packet
// form of src/protocol/formats/generic.ts) and `Accept: application/x-ndjson`. The analyzer then answers
// with its id as a JSON string on the first line and one analysis per line after it, in order,
// each line one JSON object. The distributor splices those lines into its own answers as they are,
// so a result is serialized once, by the analyzer. Without that Accept header the analyzer answers
// plain JSON ({"analyzer", "results"}), which the distributor also reads.
// Messages from the distributor's spool carry ids: {"logs": [...], "ids": ["<spool>-<row>-<index>",
// ...]}, one per message (null for one without). The analyzer analyzes an id once within its
// DEDUPE_WINDOW; a repeat (a replay after a crash) is answered {"duplicate": true} and not counted.

export const NDJSON = "application/x-ndjson";

/** The NDJSON answer to a batch: `idJson` is the analyzer's id already JSON-encoded. */
export function batchAnswer(idJson: string, results: readonly unknown[]): string {
  let body = idJson;
  for (const r of results) body += `\n${JSON.stringify(r)}`;
  return body;
}
