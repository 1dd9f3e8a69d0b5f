// The results file: everything printed, plus every single measurement, as JSON under
// bench/results/<timestamp>.json and bench/results/latest.json (each written whole, then renamed).

import { mkdirSync, renameSync } from "node:fs";
import { join } from "node:path";
import type { BenchOptions } from "./args.ts";
import type { Skipped } from "./lab.ts";
import type { Machine } from "./machine.ts";
import type { Measurement, Row } from "./summary.ts";

export type BenchReport = {
  startedAt: string;
  finishedAt: string;
  command: string;
  machine: Machine;
  generator: { name: string; version: string };
  settings: Omit<BenchOptions, "outDir" | "generator">;
  targets: { name: string; version: string; settings: string }[];
  skipped: Skipped[];
  notes: string[];
  rows: Row[];
  measurements: Measurement[];
};

/** "2026-11-24T20:15:03.123Z" → "2026-11-24T20-15-03Z": sortable and safe in any file system. */
export function fileStamp(iso: string): string {
  return iso.replace(/\.\d+Z$/, "Z").replaceAll(":", "-");
}

export async function writeReport(dir: string, report: BenchReport): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const text = `${JSON.stringify(report, null, 2)}\n`;
  const file = join(dir, `${fileStamp(report.startedAt)}.json`);
  for (const path of [file, join(dir, "latest.json")]) {
    await Bun.write(`${path}.tmp`, text);
    renameSync(`${path}.tmp`, path);
  }
  return file;
}
