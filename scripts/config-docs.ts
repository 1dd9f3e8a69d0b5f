// Renders the settings tables in docs/configuration.md from the settings' descriptions
// (src/distributor/config.ts, src/analyzer/config.ts): `bun run docs:config`. The text between
// `<!-- settings:NAME -->` and `<!-- /settings:NAME -->` is replaced; the prose around it is not.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { analyzerSettings } from "../src/analyzer/config.ts";
import { type Settings, settingsTable } from "../src/config/env.ts";
import { distributorSettings } from "../src/distributor/config.ts";

export const CONFIG_DOCS = join(import.meta.dir, "..", "docs", "configuration.md");

export const TABLES: Record<string, Settings> = { distributor: distributorSettings, analyzer: analyzerSettings };

/** `markdown` with each marked table rendered afresh from `tables`. */
export function renderConfigDocs(markdown: string, tables: Record<string, Settings> = TABLES): string {
  for (const [name, settings] of Object.entries(tables)) {
    const open = `<!-- settings:${name} -->`;
    const close = `<!-- /settings:${name} -->`;
    const start = markdown.indexOf(open);
    const end = markdown.indexOf(close);
    if (start === -1 || end < start)
      throw new Error(`docs/configuration.md needs the ${name} table between ${open} and ${close}`);
    markdown = `${markdown.slice(0, start + open.length)}\n${settingsTable(settings)}\n${markdown.slice(end)}`;
  }
  return markdown;
}

if (import.meta.main) {
  const before = readFileSync(CONFIG_DOCS, "utf8");
  const after = renderConfigDocs(before);
  if (after === before) {
    console.log("docs/configuration.md: the settings tables are up to date");
  } else {
    writeFileSync(CONFIG_DOCS, after);
    console.log("docs/configuration.md: settings tables rewritten from the descriptions");
  }
}
