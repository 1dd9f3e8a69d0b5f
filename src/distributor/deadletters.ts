// Admin endpoints for dead letters: async messages no analyzer took (refused with a 4xx, or every
// attempt failed), kept with the reason instead of dropped (Fluent Bit's storage.keep.rejected).
//   GET  /admin/dead-letters?limit=100&after=<id>   oldest first, with the total
//   POST /admin/dead-letters/replay                 {"ids": [...]} or {} for all: back in as new messages
// Behind the same gate as the other /admin endpoints (app.ts).

import type { Hono } from "hono";
import { z } from "zod";
import { allowOnly, limitBody, readJsonBody } from "../http/app.ts";
import { BadRequestError } from "../http/errors.ts";
import type { DeadLetterList, DeadLettersReplayed } from "../protocol/stats.ts";
import type { Intake } from "./intake.ts";

const replayBody = z.strictObject({
  ids: z.array(z.number().int().positive()).min(1).optional(),
});

const MAX_LIMIT = 10_000;

export function registerDeadLetters(app: Hono, options: { intake: Intake }): void {
  const { intake } = options;
  app.get("/admin/dead-letters", (c) => {
    const limit = whole(c.req.query("limit"), "limit", 100);
    const after = whole(c.req.query("after"), "after", 0);
    if (limit > MAX_LIMIT) throw new BadRequestError(`limit must be at most ${MAX_LIMIT}, got ${limit}`);
    const total = intake.stats().deadLetters;
    return c.json({ total, deadLetters: intake.deadLetters(limit, after) } satisfies DeadLetterList);
  });
  allowOnly(app, "/admin/dead-letters", ["GET"]);

  app.post("/admin/dead-letters/replay", limitBody(1024 * 1024), async (c) => {
    const empty = c.req.header("content-length") === "0" || !c.req.raw.body;
    const { ids } = empty
      ? { ids: undefined }
      : await readJsonBody(c, replayBody, 'send {} for all, or {"ids": [1, 2]}');
    return c.json({ replayed: await intake.replayDeadLetters(ids) } satisfies DeadLettersReplayed);
  });
  allowOnly(app, "/admin/dead-letters/replay", ["POST"]);
}

function whole(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new BadRequestError(`${name} must be a whole number, got ${JSON.stringify(raw)}`);
  return Number(raw);
}
