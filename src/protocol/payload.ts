// The body of POST /analyze, for the distributor and the analyzer alike: {"log": "<line>"} or a
// packet {"logs": ["<line>", ...]}. Any body that parses as JSON is accepted whatever its
// Content-Type (as `curl -d` sends form-encoded headers). Unknown fields are refused rather than
// silently dropped, so a typo like {"logz": [...]} is a 400 and not a lost packet.

import { z } from "zod";
import { BadRequestError } from "../http/errors.ts";

export type Payload = { logs: string[]; packet: boolean };

const USAGE = 'send {"log": "<line>"} or {"logs": ["<line>", ...]}';
const line = z
  .string({ error: (issue) => (issue.input === undefined ? "is required" : "must be a string") })
  .min(1, { error: "must be a non-empty string" });

export function createPayloadParser(maxPacket: number): (text: string) => Payload {
  const single = z.strictObject({ log: line });
  const packet = z.strictObject({
    logs: z
      .array(line, { error: "must be an array of log lines" })
      .min(1, { error: `must hold 1 to ${maxPacket} log lines` })
      .max(maxPacket, { error: `must hold 1 to ${maxPacket} log lines (MAX_PACKET): split the packet` }),
  });

  return function parsePayload(text: string): Payload {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      // Deeply nested input can exhaust the parser's stack: still the client's malformed body.
      const reason = error instanceof SyntaxError ? error.message : "nested too deeply";
      throw new BadRequestError(
        text.trim() === "" ? `empty body: ${USAGE}` : `body is not valid JSON (${reason}): ${USAGE}`,
      );
    }
    if (typeof body !== "object" || body === null || Array.isArray(body)) {
      throw new BadRequestError(`body must be a JSON object: ${USAGE}`);
    }
    // Fast path: the overwhelmingly common well-formed shapes, checked without building issues.
    const keys = Object.keys(body);
    if (keys.length === 1) {
      const b = body as { log?: unknown; logs?: unknown };
      if (typeof b.log === "string" && b.log !== "") return { logs: [b.log], packet: false };
      if (Array.isArray(b.logs) && b.logs.length >= 1 && b.logs.length <= maxPacket && b.logs.every(isLine)) {
        return { logs: b.logs as string[], packet: true };
      }
    }
    const isPacket = "logs" in body;
    const result = (isPacket ? packet : single).safeParse(body);
    if (result.success) throw new Error("unreachable: fast path and schema disagree"); // guards drift
    // Unknown fields first: {"logz": [...]} is a typo to point at, not a missing "log".
    const sorted = result.error.issues.toSorted(
      (a, b) => Number(b.code === "unrecognized_keys") - Number(a.code === "unrecognized_keys"),
    );
    const issues = sorted.slice(0, 10).map((issue) => ({
      path: issue.path.join("."),
      message: issue.code === "unrecognized_keys" ? `unknown field(s): ${issue.keys.join(", ")}` : issue.message,
    }));
    const first = issues[0]!;
    const where = first.path === "" ? "" : `${first.path} `;
    throw new BadRequestError(`${where}${first.message}: ${USAGE}`, { details: issues });
  };
}

function isLine(x: unknown): boolean {
  return typeof x === "string" && x !== "";
}
