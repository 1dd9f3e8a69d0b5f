// Admin endpoints, as HAProxy's `set server … weight`: list the analyzers (and ANALYZER_GROUPS'
// groups) and change a weight at run time (0 drains: no new messages, in-flight ones finish).
// Effective for the next pick, since the balancer rebuilds its table at once. A group's weight is shared among its healthy instances; an
// instance's weight is its part of that (1 each), so 0 drains one instance and its siblings take
// its share. A weight set on an analyzer stays with its URL while it is known, even when DNS
// discovery re-deals the positional DISTRIBUTION_WEIGHTS; a restart returns to the configured weights.
// Off unless ADMIN_TOKEN or ADMIN_LOOPBACK turns it on: app.ts puts src/http/control.ts's gate
// in front of every /admin/ path.

import type { Hono } from "hono";
import { z } from "zod";
import { allowOnly, limitBody, readJsonBody } from "../http/app.ts";
import { HttpError } from "../http/errors.ts";
import type { AnalyzerChanged, AnalyzerList, GroupChanged, GroupList } from "../protocol/stats.ts";
import type { Balancer } from "./balancer.ts";
import { describeAnalyzers, describeGroups } from "./stats.ts";

const weightBody = z.strictObject({
  weight: z
    .number({ error: "must be a number" })
    .finite({ error: "must be finite" })
    .min(0, { error: "must be >= 0 (0 drains the analyzer)" }),
});
const groupWeightBody = z.strictObject({
  weight: z
    .number({ error: "must be a number" })
    .finite({ error: "must be finite" })
    .min(0, { error: "must be >= 0 (0 drains the group)" }),
});

export function registerAdmin(app: Hono, options: { balancer: Balancer }): void {
  const { balancer } = options;
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

  app.get("/admin/groups", (c) => c.json({ groups: describeGroups(balancer) } satisfies GroupList));
  allowOnly(app, "/admin/groups", ["GET"]);

  app.put("/admin/groups/:group", limitBody(4096), async (c) => {
    const name = c.req.param("group");
    if (!balancer.groups.has(name)) {
      const known = [...balancer.groups.keys()].join(", ") || "none (ANALYZER_GROUPS is not set)";
      throw new HttpError(404, `no analyzer group ${JSON.stringify(name)}; known: ${known}`);
    }
    const { weight } = await readJsonBody(c, groupWeightBody, 'send {"weight": <number >= 0>}');
    balancer.setGroupWeight(name, weight);
    const analyzers = describeAnalyzers(balancer);
    return c.json({
      group: describeGroups(balancer, analyzers).find((g) => g.name === name)!,
      analyzers: analyzers.filter((a) => a.group === name),
    } satisfies GroupChanged);
  });
  allowOnly(app, "/admin/groups/:group", ["PUT"]);
}
