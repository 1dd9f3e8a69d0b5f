// `bun run accuracy <dir> [--raw]`: how well the analyzer groups log lines into templates, measured as
// the log-parsing literature measures parsers. Reads every Loghub-style `*_structured.csv` in <dir>
// (logpai/loghub's `*/*_2k.log_structured.csv`: research data, fetched by the user, never committed),
// feeds each dataset's `Content` column in order through a fresh analyzer pipeline (analyzeLine with
// a TemplateMiner of its own) and prints the grouping accuracy per dataset beside Drain's published
// figure. With --raw it feeds the whole lines of the matching `*.log` file instead (headers included).

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { analyzeLine } from "../src/analyzer/analysis.ts";
import { TemplateMiner } from "../src/analyzer/miner.ts";
import { groupingAccuracy, readStructured } from "./loghub.ts";

// Drain's GA on Loghub-2k (Zhu et al., ICSE-SEIP 2019, table of grouping accuracy).
const DRAIN: Record<string, number> = {
  HDFS: 0.998,
  Hadoop: 0.948,
  Spark: 0.92,
  Zookeeper: 0.967,
  OpenStack: 0.733,
  BGL: 0.963,
  HPC: 0.887,
  Thunderbird: 0.955,
  Windows: 0.997,
  Linux: 0.69,
  Mac: 0.787,
  Android: 0.911,
  HealthApp: 0.78,
  Apache: 1,
  OpenSSH: 0.788,
  Proxifier: 0.527,
};
// The datasets the miner's settings were tuned on; the others were held out.
const TUNED = new Set(["Android", "Apache", "BGL", "HDFS", "HPC", "Hadoop", "Linux", "Mac", "OpenSSH", "Spark"]);

const SUFFIX = "_structured.csv";

function usage(message: string): never {
  console.error(`${message}\nusage: bun run accuracy <dir with *${SUFFIX} files> [--raw]`);
  process.exit(2);
}

function main(argv: string[]): void {
  const raw = argv.includes("--raw");
  const dirs = argv.filter((a) => a !== "--raw");
  if (dirs.length !== 1) usage("give one directory");
  const dir = dirs[0];
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith(SUFFIX))
      .sort();
  } catch (error) {
    usage(`cannot read ${dir}: ${(error as Error).message}`);
  }
  if (files.length === 0) usage(`no *${SUFFIX} file in ${dir}`);

  const rows: { name: string; ga: number; templates: number; events: number }[] = [];
  for (const file of files) {
    const { content, eventIds } = readStructured(readFileSync(join(dir, file), "utf8"));
    // Loghub_2k.log_structured.csv goes with Loghub_2k.log, line for line.
    const lines = raw
      ? readFileSync(join(dir, file.slice(0, -SUFFIX.length)), "utf8")
          .split("\n")
          .slice(0, content.length)
      : content;
    const miner = new TemplateMiner();
    const ids = lines.map((line) => analyzeLine(line, { miner }).templateId);
    rows.push({
      name: file.split("_")[0],
      ga: groupingAccuracy(ids, eventIds),
      templates: miner.size,
      events: new Set(eventIds).size,
    });
  }

  const f3 = (n: number | undefined) => (n === undefined ? "    -" : n.toFixed(3));
  console.log(`Grouping accuracy on ${raw ? "whole lines (*.log)" : "the Content column"}, one miner per dataset\n`);
  console.log("dataset       set       GA   Drain  templates  events");
  const mean = (xs: number[]) => (xs.length === 0 ? undefined : xs.reduce((a, b) => a + b, 0) / xs.length);
  for (const group of [true, false]) {
    for (const r of rows.filter((r) => TUNED.has(r.name) === group)) {
      const set = TUNED.has(r.name) ? "tuning" : DRAIN[r.name] !== undefined ? "held-out" : "other";
      console.log(
        `${r.name.padEnd(13)} ${set.padEnd(8)} ${f3(r.ga)}  ${f3(DRAIN[r.name])}  ${String(r.templates).padStart(9)}  ${String(r.events).padStart(6)}`,
      );
    }
  }
  const line = (label: string, picked: typeof rows) => {
    const known = picked.filter((r) => DRAIN[r.name] !== undefined);
    console.log(
      `${label.padEnd(22)} ${f3(mean(picked.map((r) => r.ga)))}  ${f3(mean(known.map((r) => DRAIN[r.name])))}  (${picked.length} datasets)`,
    );
  };
  console.log("");
  line(
    "average, tuning",
    rows.filter((r) => TUNED.has(r.name)),
  );
  line(
    "average, held-out",
    rows.filter((r) => !TUNED.has(r.name)),
  );
  line("average, all", rows);
}

if (import.meta.main) main(process.argv.slice(2));
