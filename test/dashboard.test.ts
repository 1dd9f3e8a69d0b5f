// The dashboard at GET / in a real browser: a headless Chromium or Chrome found by testkit/browser.ts
// (never a downloaded one), driven by playwright-core, against real clusters with traffic flowing.
// The page's numbers are read from its data-field/data-value attributes and checked against /stats;
// screenshots go to test-output/ (dashboard.png is the one in docs/).

import { afterAll, afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import type { DistributorStats } from "../src/protocol/stats.ts";
import { BROWSER_ARGS, findBrowser } from "../testkit/browser.ts";
import { type Cluster, startAnalyzer, startCluster } from "../testkit/cluster.ts";
import { eventually, getJson, postJson } from "../testkit/http.ts";
import { stopAll } from "../testkit/procs.ts";

setDefaultTimeout(60_000); // see test/setup.ts

const OUT = new URL("../test-output/", import.meta.url).pathname;
const VIEWPORT = { width: 1200, height: 700 };
// A bound against hangs, not a speed claim: 20 analyzers and a browser share two cores here.
const TEST_TIMEOUT_MS = 120_000;

let browser: Browser | undefined;

/** The browser, launched once; a missing browser is a failure that names the fix, not a skip. */
async function launch(): Promise<Browser> {
  browser ??= await chromium.launch({ executablePath: findBrowser(), args: BROWSER_ARGS });
  return browser;
}

async function openDashboard(cluster: Cluster): Promise<Page> {
  const page = await (await launch()).newPage({ viewport: VIEWPORT });
  await page.goto(`${cluster.distributor.url}/`);
  await untilSeq(page, 1);
  return page;
}

async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: `${OUT}${name}`, fullPage });
}

/** Packets of 10 lines from two loops until stopped, at most `maxRequests` requests. */
function backgroundTraffic(url: string, maxRequests = 20_000) {
  let stopped = false;
  let sent = 0;
  const loops = Array.from({ length: 2 }, async () => {
    while (!stopped && sent < maxRequests) {
      const i = sent++;
      const logs = Array.from(
        { length: 10 },
        (_, j) => `2026-11-24T12:00:00Z INFO dashboard test ${i * 10 + j} from 10.0.${j}.1`,
      );
      try {
        await (await postJson(`${url}/analyze`, { logs })).arrayBuffer();
      } catch {
        // The distributor is killed at the end of a test; the loop just ends with it.
      }
      await Bun.sleep(2); // leave the two cores to the browser and the cluster too
    }
  });
  return {
    async stop() {
      stopped = true;
      await Promise.all(loops);
    },
  };
}

const stats = (cluster: Cluster) => getJson<DistributorStats>(`${cluster.distributor.url}/stats`);
const seq = async (page: Page) => Number(await page.getAttribute('[data-testid="updated"]', "data-seq"));
const total = async (page: Page, field: string) =>
  Number(await page.getAttribute(`[data-testid="totals"] [data-field="${field}"]`, "data-value"));
const row = (page: Page, id: string) => page.locator(`tr[data-analyzer="${id}"]`);
const cell = async (page: Page, id: string, field: string) =>
  (await row(page, id).locator(`[data-field="${field}"]`).getAttribute("data-value")) ?? "";
const cellText = async (page: Page, id: string, field: string) =>
  (await row(page, id).locator(`[data-field="${field}"]`).textContent()) ?? "";

/** Waits (bounded) until the page has rendered at least `n` successful polls. */
async function untilSeq(page: Page, n: number): Promise<number> {
  await eventually(async () => (await seq(page)) >= n, `the page's poll #${n}`);
  return seq(page);
}

afterAll(async () => {
  await browser?.close();
  await stopAll();
});

describe("dashboard", () => {
  afterEach(stopAll);

  test(
    "shows live numbers that agree with /stats, an analyzer going down and coming back, and /stats unreachable",
    async () => {
      const cluster = await startCluster([1, 2, 3]);
      const traffic = backgroundTraffic(cluster.distributor.url);
      try {
        const page = await openDashboard(cluster);

        // The numbers move while traffic flows.
        const first = await total(page, "delivered");
        await eventually(async () => (await total(page, "delivered")) > first, "the page's delivered count to grow");
        await eventually(async () => (await total(page, "delivered-rate")) > 0, "a delivered/s above 0");

        // And agree with /stats: a snapshot the page fetched after `before` was read, read before `after`.
        const before = await stats(cluster);
        await untilSeq(page, (await seq(page)) + 2); // poll n+1 may have been in flight already; n+2 was not
        const onPage = {
          delivered: await total(page, "delivered"),
          a: await Promise.all(before.analyzers.map((a) => cell(page, a.id, "delivered"))),
        };
        const after = await stats(cluster);
        expect(onPage.delivered).toBeGreaterThanOrEqual(before.delivered);
        expect(onPage.delivered).toBeLessThanOrEqual(after.delivered);
        before.analyzers.forEach((a, i) => {
          expect(Number(onPage.a[i])).toBeGreaterThanOrEqual(a.delivered);
          expect(Number(onPage.a[i])).toBeLessThanOrEqual(after.analyzers[i].delivered);
        });
        for (const a of after.analyzers) {
          expect(await cellText(page, a.id, "url")).toBe(a.url);
          expect(Number(await cell(page, a.id, "weight"))).toBe(a.weight);
          expect(Number(await cell(page, a.id, "share-expected"))).toBe(a.share);
          expect(await row(page, a.id).getAttribute("data-healthy")).toBe("true");
          expect(await cellText(page, a.id, "health")).toBe("up");
        }
        expect(Number(await page.getAttribute('[data-testid="sparkline"]', "data-points"))).toBeGreaterThan(0);

        // Actual shares follow the weights 1:2:3 once there are a few thousand messages (±0.05 is
        // over 5 binomial standard deviations at 2000 messages).
        await eventually(async () => (await total(page, "delivered")) >= 2000, "2000 messages delivered", 400);
        const expected = [1 / 6, 2 / 6, 3 / 6];
        for (const [i, id] of ["a1", "a2", "a3"].entries()) {
          expect(Math.abs(Number(await cell(page, id, "share-start")) - expected[i])).toBeLessThan(0.05);
          expect(Math.abs(Number(await cell(page, id, "share-minute")) - expected[i])).toBeLessThan(0.05);
        }

        // kill -9 a1: it turns red with the reason, and its expected share goes to 0.
        const port = new URL(cluster.analyzers[0].url).port;
        await cluster.analyzers[0].stop("SIGKILL");
        await eventually(async () => (await row(page, "a1").getAttribute("data-healthy")) === "false", "a1 shown down");
        expect(await cellText(page, "a1", "health")).toStartWith("down: ");
        expect(Number(await cell(page, "a1", "share-expected"))).toBe(0);
        expect(await total(page, "healthy")).toBe(2);
        await untilSeq(page, (await seq(page)) + 2); // a couple of seconds with a1 out, for the sparkline and shares
        await screenshot(page, "dashboard-down.png");

        // Restart it on its old port: it comes back with its share.
        cluster.analyzers[0] = await startAnalyzer("a1", { PORT: port });
        await eventually(
          async () => (await row(page, "a1").getAttribute("data-healthy")) === "true",
          "a1 shown up again",
        );
        expect(await cellText(page, "a1", "health")).toBe("up");
        expect(Number(await cell(page, "a1", "share-expected"))).toBeCloseTo(1 / 6, 10);
        const a1Before = Number(await cell(page, "a1", "delivered"));
        await eventually(
          async () => Number(await cell(page, "a1", "delivered")) > a1Before,
          "a1 getting messages again",
        );
        await untilSeq(page, (await seq(page)) + 2);
        await screenshot(page, "dashboard.png");

        // The distributor goes away: the page says so, and keeps the last numbers it had.
        await traffic.stop();
        await cluster.distributor.stop("SIGKILL");
        await eventually(
          async () => (await page.getAttribute('[data-testid="status"]', "data-state")) === "error",
          "the page's error state",
          100,
          100,
        );
        expect(await page.locator('[data-testid="error"]').isVisible()).toBe(true);
        expect(await page.locator('[data-testid="error"]').textContent()).toContain("Cannot reach");
        expect(await row(page, "a2").count()).toBe(1);
        await screenshot(page, "dashboard-offline.png");
      } finally {
        await traffic.stop();
      }
    },
    TEST_TIMEOUT_MS,
  );

  test(
    "stays readable with 20 analyzers: every row shown, nothing wider than the window",
    async () => {
      const weights = Array.from({ length: 20 }, (_, i) => 1 + (i % 5));
      const cluster = await startCluster(weights);
      const traffic = backgroundTraffic(cluster.distributor.url);
      try {
        const page = await openDashboard(cluster);
        await eventually(async () => (await page.locator("tr[data-analyzer]").count()) === 20, "20 analyzer rows");
        await eventually(async () => (await total(page, "healthy")) === 20, "all 20 shown healthy");
        await eventually(async () => (await total(page, "delivered-rate")) > 0, "a delivered/s above 0");
        await untilSeq(page, (await seq(page)) + 3); // a few seconds of sparkline
        for (const [i, w] of weights.entries()) expect(Number(await cell(page, `a${i + 1}`, "weight"))).toBe(w);
        expect(
          await page.evaluate<boolean>("document.documentElement.scrollWidth <= document.documentElement.clientWidth"),
        ).toBe(true);
        await screenshot(page, "dashboard-20.png", true);
      } finally {
        await traffic.stop();
      }
    },
    TEST_TIMEOUT_MS,
  );

  test(
    "with one analyzer: served as HTML, 405 for other methods, 100% expected and actual",
    async () => {
      const cluster = await startCluster([1]);
      const traffic = backgroundTraffic(cluster.distributor.url);
      try {
        const res = await fetch(`${cluster.distributor.url}/`);
        expect(res.status).toBe(200);
        expect(res.headers.get("content-type")).toBe("text/html; charset=utf-8");
        expect(await res.text()).toContain("<title>Distributor dashboard</title>");
        expect((await fetch(`${cluster.distributor.url}/`, { method: "POST" })).status).toBe(405);

        const page = await openDashboard(cluster);
        await eventually(
          async () => Number(await cell(page, "a1", "share-minute")) === 1,
          "a1 with 100% of the last minute's messages",
        );
        expect(Number(await cell(page, "a1", "share-start"))).toBe(1);
        expect(Number(await cell(page, "a1", "share-expected"))).toBe(1);
        await untilSeq(page, (await seq(page)) + 2);
        await screenshot(page, "dashboard-1.png");
      } finally {
        await traffic.stop();
      }
    },
    TEST_TIMEOUT_MS,
  );
});
