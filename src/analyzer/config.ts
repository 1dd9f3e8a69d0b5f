// The analyzer's settings, from environment variables (src/config/env.ts).

import { z } from "zod";
import { decimal, host, MIB, parseEnv, wholeNumber, type Env } from "../config/env.ts";

export type AnalyzerConfig = {
  port: number;
  host: string;
  id: string | undefined;
  latencySeconds: number;
  failureRate: number;
  maxBodyBytes: number;
  /** Appends every analyzed line (JSON-encoded, one per line): evidence for no-loss tests. */
  auditFile: string | undefined;
  adminToken: string | undefined;
};

const analyzerEnv = z.object({
  PORT: wholeNumber(5000, 0, 65535),
  HOST: host,
  ANALYZER_ID: z.string().trim().optional(),
  ANALYZER_LATENCY: decimal(0, 0, 3600),
  FAILURE_RATE: decimal(0, 0, 1),
  MAX_BODY_BYTES: wholeNumber(MIB, 1, 1024 * MIB),
  AUDIT_FILE: z.string().optional(),
  ADMIN_TOKEN: z.string().optional(),
});

export function loadAnalyzerConfig(env: Env): AnalyzerConfig {
  const v = parseEnv(analyzerEnv, env);
  return {
    port: v.PORT,
    host: v.HOST,
    id: v.ANALYZER_ID || undefined,
    latencySeconds: v.ANALYZER_LATENCY,
    failureRate: v.FAILURE_RATE,
    maxBodyBytes: v.MAX_BODY_BYTES,
    auditFile: v.AUDIT_FILE,
    adminToken: v.ADMIN_TOKEN,
  };
}
