// docs/configuration.md shows each program's settings as their descriptions render them
// (src/distributor/config.ts, src/analyzer/config.ts); `bun run docs:config` rewrites the tables.
// How a table renders is settingsTable's, tested beside it in src/config/env.test.ts.

import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { CONFIG_DOCS, renderConfigDocs, TABLES } from "../scripts/config-docs.ts";
import { allowedValues, settingsTable } from "../src/config/env.ts";
import { distributorSettings } from "../src/distributor/config.ts";

/** The first line where `actual` and `expected` differ, for a message a person can act on. */
function firstDifference(actual: string, expected: string): string {
  const a = actual.split("\n");
  const e = expected.split("\n");
  const i = a.findIndex((line, n) => line !== e[n]);
  const at = i === -1 ? a.length : i;
  return `line ${at + 1}:\n  docs:        ${a[at] ?? "(end of file)"}\n  description: ${e[at] ?? "(end of file)"}`;
}

describe("docs/configuration.md", () => {
  test("has the settings tables the descriptions render", () => {
    const docs = readFileSync(CONFIG_DOCS, "utf8");
    const rendered = renderConfigDocs(docs);
    if (docs !== rendered) {
      throw new Error(
        `docs/configuration.md's settings tables differ from the settings' descriptions: run \`bun run docs:config\` and commit the result (first difference at ${firstDifference(docs, rendered)})`,
      );
    }
  });
});

describe("the settings' descriptions", () => {
  test.each(Object.entries(TABLES))(
    "of the %s each name a distinct variable and say in one line what it does and what it accepts",
    (_, settings) => {
      const variables = Object.values(settings).map((s) => s.env);
      expect(new Set(variables).size).toBe(variables.length);
      for (const s of Object.values(settings)) {
        expect({ env: s.env, doc: s.doc.includes("\n") || s.doc.trim() === "" }).toEqual({ env: s.env, doc: false });
        expect({ env: s.env, allowed: allowedValues.get(s.schema)?.allowed !== undefined }).toEqual({
          env: s.env,
          allowed: true,
        });
      }
    },
  );
});

describe("renderConfigDocs", () => {
  const markdown =
    "# Config\n\nintro\n\n<!-- settings:distributor -->\n| stale |\n<!-- /settings:distributor -->\n\nafter\n\n<!-- settings:analyzer -->\n<!-- /settings:analyzer -->\n";

  test("replaces only what lies between the markers, and a second run changes nothing", () => {
    const once = renderConfigDocs(markdown);
    expect(once).not.toContain("| stale |");
    expect(once).toStartWith("# Config\n\nintro\n\n<!-- settings:distributor -->\n| variable |");
    expect(once).toContain(`${settingsTable(distributorSettings)}\n<!-- /settings:distributor -->\n\nafter\n`);
    expect(renderConfigDocs(once)).toBe(once);
  });

  test("refuses a document without a table's markers, naming them", () => {
    expect(() => renderConfigDocs("# Config\n<!-- settings:distributor -->\n<!-- /settings:distributor -->\n")).toThrow(
      "docs/configuration.md needs the analyzer table between <!-- settings:analyzer --> and <!-- /settings:analyzer -->",
    );
  });
});
