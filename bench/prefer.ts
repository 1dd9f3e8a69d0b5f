// The Prefer header (RFC 7240) a load spec asks for: every generator sends the same one.

import type { LoadSpec } from "./generator.ts";

/** `respond-async` and/or `return=minimal`, or undefined for none. */
export function preferHeader(spec: Pick<LoadSpec, "async" | "minimal">): string | undefined {
  const prefs = [spec.async ? "respond-async" : "", spec.minimal ? "return=minimal" : ""].filter((p) => p !== "");
  return prefs.length > 0 ? prefs.join(", ") : undefined;
}
