// The few HTTP calls end-to-end tests make against the processes they started.

import type { DistributorStats } from "../src/protocol/stats.ts";

export async function getJson<T = unknown>(url: string, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(url, { headers });
  return (await res.json()) as T;
}

export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

/** Polls `check` until it returns true; fails after `attempts` polls (a bound, not a speed claim). */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  attempts = 200,
  everyMs = 50,
): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    await Bun.sleep(everyMs);
  }
  throw new Error(`never happened: ${what}`);
}

/** A distributor's GET /stats. */
export function distributorStats(url: string): Promise<DistributorStats> {
  return getJson<DistributorStats>(`${url}/stats`);
}
