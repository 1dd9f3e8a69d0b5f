// Admin endpoints, as HAProxy's `set server … weight`: list the analyzers and change one's weight
// at run time (0 drains it: no new messages, in-flight ones finish). Effective for the next pick,
// since the balancer rebuilds its table at once. Protected by ADMIN_TOKEN when one is configured.
// A weight set here stays with that analyzer's URL while it is known, even when DNS discovery
// re-deals the positional DISTRIBUTION_WEIGHTS; a restart returns to the configured weights.

import type { Hono } from "hono";
import { z } from "zod";
import { allowOnly, limitBody, readJsonBody, requireToken } from "../http/app.ts";
import { HttpError } from "../http/errors.ts";
import type { AnalyzerChanged, AnalyzerList } from "../protocol/stats.ts";
import type { Balancer } from "./balancer.ts";
import { describeAnalyzers } from "./stats.ts";

const weightBody = z.strictObject({
  weight: z
    .number({ error: "must be a number" })
    .finite({ error: "must be finite" })
    .min(0, { error: "must be >= 0 (0 drains the analyzer)" }),
});

export function registerAdmin(app: Hono, options: { balancer: Balancer; token: string | undefined }): void {
  const { balancer } = options;
  requireToken(app, "GET", "/admin/analyzers", options.token);
  requireToken(app, "PUT", "/admin/analyzers/:analyzer", options.token);

  app.get("/admin/analyzers", (c) => c.json({ analyzers: describeAnalyzers(balancer) } satisfies AnalyzerList));
  allowOnly(app, "/admin/analyzers", ["GET"]);

  app.put("/admin/analyzers/:analyzer", limitBody(4096), async (c) => {
    const key = c.req.param("analyzer");
    const upstream = balancer.upstreams.find((u) => u.id === key || u.url === key);
    if (!upstream) {
      const known = balancer.upstreams.map((u) => u.id).join(", ");
      throw new HttpError(404, `no analyzer with id or url ${JSON.stringify(key)}; known: ${known}`);
    }
    const { weight } = await readJsonBody(c, weightBody, 'send {"weight": <number >= 0>}');
    balancer.pinWeight(upstream, weight);
    return c.json({
      analyzer: describeAnalyzers(balancer)[balancer.upstreams.indexOf(upstream)],
    } satisfies AnalyzerChanged);
  });
  allowOnly(app, "/admin/analyzers/:analyzer", ["PUT"]);
}
