// The rows as a plain-text table (also valid Markdown, for the README): names left-aligned,
// numbers right-aligned, "n/a" where a target cannot do a scenario, "-" where nothing was measured.

import type { Row } from "./summary.ts";

const HEADERS = ["scenario", "target", "requests/s", "logs/s", "p50 ms", "p99 ms", "errors", "lost", "vs HAProxy"];
const LEFT = new Set([0, 1]);

export function renderTable(rows: readonly Row[]): string {
  const cells = rows.map((r) => {
    if (!r.supported) return [r.scenario, r.target, "n/a", "n/a", "n/a", "n/a", "n/a", "n/a", "n/a"];
    const ratio =
      r.ratioToHaproxy === null ? "-" : `${r.ratioToHaproxy.toFixed(2)}×${r.ratioBase === r.scenario ? "" : "*"}`;
    // 0 is exact even from an upper bound; anything more from one may be a counting gap, not a loss
    const lost = r.lostIsUpperBound && r.lost ? `≤${count(r.lost)}` : count(r.lost);
    return [
      r.scenario,
      r.target,
      count(r.requestsPerSec),
      count(r.logsPerSec),
      ms(r.p50Ms),
      ms(r.p99Ms),
      count(r.errors),
      lost,
      ratio,
    ];
  });
  const widths = HEADERS.map((h, c) => Math.max(h.length, ...cells.map((row) => row[c]!.length)));
  const line = (row: string[]) =>
    `| ${row.map((cell, c) => (LEFT.has(c) ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(" | ")} |`;
  const rule = `|${widths.map((w, c) => (LEFT.has(c) ? `:${"-".repeat(w + 1)}` : `${"-".repeat(w + 1)}:`)).join("|")}|`;
  const out = [line(HEADERS), rule, ...cells.map(line)];
  const footnotes = rows
    .filter((r) => r.ratioToHaproxy !== null && r.ratioBase !== r.scenario)
    .map((r) => `* ${r.scenario}: ratio to HAProxy's ${r.ratioBase} logs/s (HAProxy has no ${r.scenario})`);
  return `${[...out, ...new Set(footnotes)].join("\n")}\n`;
}

function count(value: number | null): string {
  return value === null ? "-" : Math.round(value).toLocaleString("en-US");
}

function ms(value: number | null): string {
  return value === null ? "-" : value.toFixed(2);
}
