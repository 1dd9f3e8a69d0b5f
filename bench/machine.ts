// What the figures were measured on, printed above the table and stored with the results.

import { readFileSync } from "node:fs";
import { availableParallelism, release, totalmem } from "node:os";

export type Machine = { nproc: number; cpu: string; memoryGiB: number; kernel: string; bun: string };

/** The first "model name" in /proc/cpuinfo text (arm kernels may only have "Hardware"/"CPU part"). */
export function cpuModel(cpuinfo: string): string {
  const match = /^(?:model name|Hardware|cpu model)\s*:\s*(.+)$/m.exec(cpuinfo);
  return match ? match[1]!.trim() : "unknown";
}

export function describeMachine(): Machine {
  let cpuinfo = "";
  try {
    cpuinfo = readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    // not Linux: the model stays unknown
  }
  return {
    nproc: availableParallelism(),
    cpu: cpuModel(cpuinfo),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    bun: Bun.version,
  };
}

export function formatMachine(m: Machine): string {
  return `${m.nproc} CPUs (${m.cpu}), ${m.memoryGiB} GiB, Linux ${m.kernel}, Bun ${m.bun}`;
}
