// Did the distributor split this run's messages by weight? Compares two /stats snapshots and
// applies Pearson's chi-square test to the per-analyzer deltas.
//
// Expected shares are weight / Σ weights over the analyzers that were healthy at the start or
// at the end of the run. One unhealthy at both ends was most likely out of rotation throughout,
// so it is expected to get nothing rather than skew the verdict; one whose health changed is
// kept at its full weight and flagged, since the test assumes shares held for the whole run.

import { type ChiSquareResult, chiSquare } from "../math/chisquare.ts";
import type { DistributorStats } from "../protocol/stats.ts";

/** p-values below this reject "the counts follow the weights". */
export const SIGNIFICANCE = 0.001;

export type AnalyzerShare = {
  id: string;
  url: string;
  weight: number;
  healthyBefore: boolean;
  healthyAfter: boolean;
  /** Messages delivered to it during the run (delta of its `delivered`). */
  received: number;
  expectedShare: number;
  observedShare: number;
  /** observedShare - expectedShare. */
  deviation: number;
};

export type Verdict = "consistent" | "inconsistent" | "no messages";

export type DistributionReport = {
  /** Messages delivered to any analyzer during the run. */
  total: number;
  analyzers: AnalyzerShare[];
  chiSquare: ChiSquareResult | undefined;
  significance: number;
  verdict: Verdict;
  /** Things a reader should know before trusting the verdict. */
  notes: string[];
};

/**
 * @param accepted messages this run got a 2xx for, to notice deliveries missing or extra
 */
export function compareDistribution(
  before: DistributorStats,
  after: DistributorStats,
  accepted: number,
): DistributionReport {
  const notes: string[] = [];
  const earlier = new Map(before.analyzers.map((a) => [a.id, a]));
  const later = new Set(after.analyzers.map((a) => a.id));
  for (const a of before.analyzers) {
    if (!later.has(a.id)) notes.push(`${a.id} disappeared from /stats during the run and is left out`);
  }

  const rows = after.analyzers.map((a) => {
    const previous = earlier.get(a.id);
    if (!previous) notes.push(`${a.id} appeared in /stats during the run`);
    const healthyBefore = previous?.healthy ?? false;
    // A restarted distributor resets its counters; a negative delta would be nonsense.
    const received = Math.max(0, a.delivered - (previous?.delivered ?? 0));
    return {
      id: a.id,
      url: a.url,
      weight: a.weight,
      healthyBefore,
      healthyAfter: a.healthy,
      received,
      appeared: !previous,
    };
  });

  for (const row of rows) {
    if (row.appeared) continue;
    if (row.healthyBefore && !row.healthyAfter) {
      notes.push(
        `${row.id} was unhealthy at the end of the run; it gets nothing while unhealthy, so its share falls short`,
      );
    } else if (!row.healthyBefore && row.healthyAfter) {
      notes.push(`${row.id} was unhealthy at the start of the run and healthy at the end`);
    } else if (!row.healthyBefore && !row.healthyAfter) {
      notes.push(`${row.id} was unhealthy at the start and the end of the run, so it is expected to get nothing`);
    }
  }

  const eligibleWeight = rows.reduce((sum, r) => sum + (r.healthyBefore || r.healthyAfter ? r.weight : 0), 0);
  const total = rows.reduce((sum, r) => sum + r.received, 0);
  const analyzers: AnalyzerShare[] = rows.map(({ appeared: _, ...r }) => {
    const expectedShare = eligibleWeight > 0 && (r.healthyBefore || r.healthyAfter) ? r.weight / eligibleWeight : 0;
    const observedShare = total > 0 ? r.received / total : 0;
    return { ...r, expectedShare, observedShare, deviation: observedShare - expectedShare };
  });

  if (total < accepted)
    notes.push(`${accepted - total} of the ${accepted} messages accepted were not seen delivered to an analyzer`);
  if (total > accepted)
    notes.push(`analyzers received ${total - accepted} more messages than this run sent: other traffic during the run`);

  if (total === 0 || eligibleWeight === 0) {
    if (total === 0) notes.push("no messages were delivered during the run, so there is nothing to test");
    else notes.push("no analyzer was healthy with a positive weight, so there is no expectation to test against");
    return { total, analyzers, chiSquare: undefined, significance: SIGNIFICANCE, verdict: "no messages", notes };
  }
  const result = chiSquare(
    analyzers.map((a) => a.received),
    analyzers.map((a) => a.expectedShare * total),
  );
  const verdict: Verdict = result.pValue >= SIGNIFICANCE ? "consistent" : "inconsistent";
  return { total, analyzers, chiSquare: result, significance: SIGNIFICANCE, verdict, notes };
}
