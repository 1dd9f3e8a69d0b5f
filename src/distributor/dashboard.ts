// GET / on the distributor: the live dashboard. A single static HTML file (inline CSS and JS, no
// build step) read once at startup; the page itself polls GET /stats once a second.

import { readFileSync } from "node:fs";
import type { Context } from "hono";

export const DASHBOARD_HTML = readFileSync(new URL("./dashboard.html", import.meta.url), "utf8");

export function dashboardPage(c: Context): Response {
  // no-cache: revalidate, so a new version of the page shows up on the next reload.
  return c.body(DASHBOARD_HTML, 200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-cache" });
}
