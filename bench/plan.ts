// The order of the measurements: round after round, every scenario, every target, with the targets'
// order rotated each round, so that slow drift of a shared machine (and whoever goes first after a
// failover) falls on each target in turn instead of always on the same one.

import type { Scenario, TargetName } from "./args.ts";

export type Step = { round: number; scenario: Scenario; target: TargetName };

export function plan(scenarios: readonly Scenario[], targets: readonly TargetName[], rounds: number): Step[] {
  if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError(`rounds must be a positive integer, got ${rounds}`);
  const steps: Step[] = [];
  for (let round = 1; round <= rounds; round++) {
    const shift = (round - 1) % Math.max(1, targets.length);
    const order = [...targets.slice(shift), ...targets.slice(0, shift)];
    for (const scenario of scenarios) for (const target of order) steps.push({ round, scenario, target });
  }
  return steps;
}
