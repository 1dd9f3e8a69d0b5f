// The import rules that keep the tree readable by program (docs/design.md, "Layout"):
// - the programs (src/distributor, src/analyzer, src/load) talk only through src/protocol and
//   never import each other;
// - the shared folders (src/protocol, src/http, src/config, src/math) import no program;
// - nothing under src/ imports test/, testkit/, bench/ or scripts/;
// - no file imports an entrypoint (distributor.ts, analyzer.ts, load_tester.ts): they only wire.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { Glob } from "bun";

const ROOT = join(import.meta.dir, "..");
const PROGRAMS = ["src/distributor", "src/analyzer", "src/load"];
const SHARED = ["src/protocol", "src/http", "src/config", "src/math"];
const OUTSIDE_SRC = ["test", "testkit", "bench", "scripts"];
const ENTRYPOINTS = ["distributor.ts", "analyzer.ts", "load_tester.ts"];
// This file's own examples below are strings, not imports.
const SELF = relative(ROOT, import.meta.path);

/** Relative import specifiers in TypeScript source, type-only imports and re-exports included. */
function relativeImports(source: string): string[] {
  const specs: string[] = [];
  for (const m of source.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}\/[^"']+)["']/g)) specs.push(m[1]);
  return specs;
}

const under = (path: string, folder: string) => path === folder || path.startsWith(`${folder}/`);

/** Why `from` (a repository path) may not import `to`, or null when it may. */
function ruleBroken(from: string, to: string): string | null {
  if (ENTRYPOINTS.includes(to)) return "imports an entrypoint (entrypoints only wire; import from src/ instead)";
  if (!under(from, "src")) return null;
  const outside = OUTSIDE_SRC.find((f) => under(to, f));
  if (outside) return `src/ imports ${outside}/`;
  const fromProgram = PROGRAMS.find((p) => under(from, p));
  const toProgram = PROGRAMS.find((p) => under(to, p));
  if (toProgram && fromProgram !== toProgram) {
    return fromProgram
      ? `${fromProgram} imports another program, ${toProgram}`
      : `shared code imports the program ${toProgram}`;
  }
  return null;
}

/** Every broken rule in `files` (repository path → source text). */
function violations(files: Map<string, string>): string[] {
  const found: string[] = [];
  for (const [from, source] of files) {
    for (const spec of relativeImports(source)) {
      const to = normalize(join(dirname(from), spec));
      const why = ruleBroken(from, to);
      if (why) found.push(`${from} → ${to}: ${why}`);
    }
  }
  return found;
}

function repositoryFiles(): Map<string, string> {
  const files = new Map<string, string>();
  for (const pattern of ["*.ts", "{src,test,testkit,bench,scripts}/**/*.ts"]) {
    for (const path of new Glob(pattern).scanSync({ cwd: ROOT })) {
      if (path !== SELF) files.set(path, readFileSync(join(ROOT, path), "utf8"));
    }
  }
  return files;
}

describe("the repository's imports", () => {
  const files = repositoryFiles();

  test("the tree has each program's folder and the shared ones", () => {
    for (const folder of [...PROGRAMS, ...SHARED]) {
      expect([...files.keys()].some((p) => under(p, folder))).toBe(true);
    }
  });

  test("break none of the layout's rules", () => {
    expect(violations(files)).toEqual([]);
  });

  test("are all found: every relative import resolves to a file that exists", () => {
    const missing = [...files].flatMap(([from, source]) =>
      relativeImports(source)
        .map((spec) => relative(ROOT, join(ROOT, dirname(from), spec)))
        .filter((to) => !files.has(to) && !to.endsWith(".html")),
    );
    expect(missing).toEqual([]);
  });
});

describe("the rules", () => {
  test.each([
    [
      "src/distributor/ingest.ts",
      'import { analyzeLine } from "../analyzer/analysis.ts";',
      "src/distributor imports another program, src/analyzer",
    ],
    [
      "src/analyzer/app.ts",
      'import type { Upstream } from "../distributor/upstream.ts";',
      "src/analyzer imports another program, src/distributor",
    ],
    [
      "src/load/report.ts",
      'export { statsSnapshot } from "../distributor/stats.ts";',
      "src/load imports another program, src/distributor",
    ],
    [
      "src/http/app.ts",
      'import { HttpClient } from "../distributor/httpclient/client.ts";',
      "shared code imports the program src/distributor",
    ],
    ["src/distributor/pool.ts", 'import { startProcess } from "../../testkit/procs.ts";', "src/ imports testkit/"],
    ["src/math/random.ts", 'const m = await import("../../bench/args.ts");', "src/ imports bench/"],
    ["testkit/procs.ts", 'import { createAnalyzer } from "../analyzer.ts";', "imports an entrypoint"],
  ])("%s with `%s` is refused: %s", (from, source, why) => {
    const found = violations(new Map([[from, source]]));
    expect(found).toHaveLength(1);
    expect(found[0]).toContain(why);
  });

  test.each([
    ["src/distributor/forward.ts", 'import { NDJSON } from "../protocol/batch.ts";'],
    ["src/analyzer/app.ts", 'import { allowOnly } from "../http/app.ts";'],
    ["test/dispatch.test.ts", 'import { createAnalyzer } from "../src/analyzer/app.ts";'],
    ["bench/args.ts", 'import { parseDuration } from "../src/load/duration.ts";'],
  ])("%s with `%s` is allowed", (from, source) => {
    expect(violations(new Map([[from, source]]))).toEqual([]);
  });
});
