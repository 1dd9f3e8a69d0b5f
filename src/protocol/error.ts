// The body of every error answer, from the distributor and the analyzer alike: what went wrong and
// what to do about it, plus details for some (src/http/errors.ts builds it; clients read it).

/** One problem with a request body: where it is and what is wrong there. */
export type BodyIssue = {
  /** Where in the body: "logs.3" for POST /analyze; the path as an array for other endpoints. */
  path: string | readonly PropertyKey[];
  message: string;
};

/** One message of a packet, in a partial failure: its analysis or why it failed. */
export type MessageOutcome = { analyzer: string; result?: unknown } | { status: number; error: string };

export type ErrorBody = {
  /** A sentence a person can act on. */
  error: string;
  /** 400 for a body that does not fit its schema: every problem found (up to 10 for POST /analyze). */
  details?: readonly BodyIssue[];
  /** A packet some of whose messages failed (502, 503, 504): every message's outcome, in input order. */
  results?: readonly MessageOutcome[];
};

/** What an error carries besides its message. */
export type ErrorDetails = Omit<ErrorBody, "error">;
