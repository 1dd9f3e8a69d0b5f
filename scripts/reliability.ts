// `bun run reliability`: runs every fault scenario of testkit/faults.ts against real processes and
// prints the Reliability table of docs/operations.md (and the same as JSON with --json).

import { type FaultReport, scenarios } from "../testkit/faults.ts";

const json = process.argv.includes("--json");
const only = process.argv.find((a) => a.startsWith("--only="))?.slice(7);
const reports: FaultReport[] = [];
for (const [name, run] of scenarios) {
  if (only && !name.includes(only)) continue;
  process.stderr.write(`running: ${name}\n`);
  reports.push(await run());
}

if (json) console.log(JSON.stringify(reports, null, 2));
else {
  const ms = (x: number | null) => (x === null ? "–" : `${x} ms`);
  console.log(
    "| fault | what happened | requests | messages accepted | client errors | messages lost | duplicates | time to detect | time to recover | also measured |",
  );
  console.log("| --- | --- | --: | --: | --: | --: | --: | --: | --: | --- |");
  for (const r of reports) {
    const extra = Object.entries(r.extra)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ");
    const refused = r.refused > 0 ? ` (+${r.refused} refused with 503 + Retry-After)` : "";
    console.log(
      `| ${r.fault} | ${r.happened} | ${r.requests} | ${r.accepted} | ${r.clientErrors}${refused} | ${r.lost} | ${r.duplicates} | ${ms(r.detectMs)} | ${ms(r.recoverMs)} | ${extra} |`,
    );
  }
}
process.exit(0);
