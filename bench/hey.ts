// hey: its text summary is the only output that does not list every request, so it is parsed.
// Latencies come in seconds with 4 decimals (0.1 ms resolution); with few samples hey prints a
// bogus "0% in" line instead of some percentiles, which then read as missing.

import { outputOf } from "../testkit/procs.ts";
import type { Generator, LoadResult } from "./generator.ts";
import { preferHeader } from "./prefer.ts";

export function parseHey(stdout: string): LoadResult {
  const total = /^\s*Total:\s+([\d.]+) secs/m.exec(stdout);
  if (!total) throw new Error('no "Total: … secs" line');
  const statusCodes: Record<string, number> = {};
  const statusSection = section(stdout, "Status code distribution:");
  for (const m of statusSection.matchAll(/^\s*\[(\d{3})\]\s+(\d+) responses/gm)) statusCodes[m[1]!] = Number(m[2]);
  let socketErrors = 0;
  for (const m of section(stdout, "Error distribution:").matchAll(/^\s*\[(\d+)\]\s/gm)) socketErrors += Number(m[1]);
  const percentile = (p: number) => {
    const m = new RegExp(`^\\s*${p}% in ([\\d.]+) secs`, "m").exec(section(stdout, "Latency distribution:"));
    return m ? Number(m[1]) * 1000 : null;
  };
  let ok = 0;
  let non2xx = 0;
  for (const [status, count] of Object.entries(statusCodes)) {
    if (status.startsWith("2")) ok += count;
    else non2xx += count;
  }
  return {
    elapsedMs: Number(total[1]) * 1000,
    responses: ok + non2xx,
    ok,
    non2xx,
    socketErrors,
    p50Ms: percentile(50),
    p99Ms: percentile(99),
    statusCodes,
  };
}

/** The lines after `title` up to the next blank line. */
function section(text: string, title: string): string {
  const start = text.indexOf(title);
  if (start === -1) return "";
  const body = text.slice(start + title.length).replace(/^\n/, "");
  const end = body.search(/\n\s*\n/);
  return end === -1 ? body : body.slice(0, end);
}

export const hey: Generator = {
  name: "hey",
  available: () => Bun.which("hey") !== null,
  // hey has no --version; the package manager knows.
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own ${Version} placeholder
  version: () => outputOf(["dpkg-query", "-W", "-f", "${Version}", "hey"]).trim() || "unknown",
  async command(spec) {
    const argv = [
      "hey",
      "-z",
      `${spec.durationMs}ms`,
      "-c",
      String(spec.connections),
      "-t",
      "10",
      "-m",
      "POST",
      "-T",
      spec.contentType,
    ];
    const prefer = preferHeader(spec);
    if (prefer !== undefined) argv.push("-H", `Prefer: ${prefer}`);
    return [...argv, "-D", spec.bodyFile, spec.url];
  },
  parse: (stdout) => parseHey(stdout),
};
