// The analyzer's settings, each described once (src/config/env.ts): parsed from the environment
// and rendered into docs/configuration.md by `bun run docs:config`.

import { z } from "zod";
import {
  allowedValues,
  decimal,
  type Env,
  flag,
  host,
  MIB,
  parseSettings,
  type Settings,
  text,
  wholeNumber,
} from "../config/env.ts";
import { tlsFiles, tlsSettings } from "../config/tls.ts";
import { serverSettings } from "../http/server.ts";

/** Every setting once, in the order docs/configuration.md lists them; keys are the config's fields. */
export const analyzerSettings = {
  port: { env: "PORT", schema: wholeNumber(5000, 0, 65535), doc: "port to listen on (`0` picks a free one)" },
  host: { env: "HOST", schema: host(), doc: "address to listen on" },
  ...tlsSettings,
  // The entrypoint falls back to <hostname>:<port>; blank counts as unset.
  id: {
    env: "ANALYZER_ID",
    schema: z
      .string()
      .trim()
      .optional()
      .transform((s) => s || undefined)
      .register(allowedValues, { allowed: "any text" }),
    shownDefault: "<hostname>:<port>",
    doc: "the id in answers and in the distributor's `/stats`",
  },
  latencySeconds: {
    env: "ANALYZER_LATENCY",
    schema: decimal(0, 0, 3600),
    doc: "simulated processing time per request, in seconds (as in the original)",
  },
  failureRate: {
    env: "FAILURE_RATE",
    schema: decimal(0, 0, 1),
    doc: "fraction of `/analyze` requests answered with a simulated 500",
  },
  maxBodyBytes: {
    env: "MAX_BODY_BYTES",
    schema: wholeNumber(MIB, 1, 1024 * MIB),
    doc: "largest request body (413 beyond)",
  },
  maxTemplates: {
    env: "MAX_TEMPLATES",
    schema: wholeNumber(10_000, 1, 1_000_000),
    doc: "log templates kept at most (`GET /templates`); beyond it the least recently seen is evicted and counted",
  },
  auditFile: {
    env: "AUDIT_FILE",
    schema: text("file path"),
    doc: "append every analyzed line to this file (JSON string per line) before answering: the evidence the fault-injection suite counts lost and duplicated messages with",
  },
  dedupeWindow: {
    env: "DEDUPE_WINDOW",
    schema: wholeNumber(100_000, 0, 100_000_000),
    doc: 'how many message ids (sent by a distributor\'s spool) are remembered: a message with an id analyzed among the last this many is answered `{"duplicate": true}` and not counted again (a replay after a distributor crash); ~100 bytes each; 0: off',
  },
  adminToken: {
    env: "ADMIN_TOKEN",
    schema: text("any text"),
    doc: "turns fault injection (`POST /fault`) on, for requests with `Authorization: Bearer <token>` (401 otherwise); unset (and no `ADMIN_LOOPBACK`): it answers 404. `ANALYZER_LATENCY` and `FAILURE_RATE` apply either way",
  },
  adminLoopback: {
    env: "ADMIN_LOOPBACK",
    schema: flag(false),
    doc: "turns `POST /fault` on for clients connecting from a loopback address (127.0.0.0/8, ::1), without a token unless `ADMIN_TOKEN` is set too; other clients get 404 (`bun run start` sets it)",
  },
  ...serverSettings,
} satisfies Settings;

export type AnalyzerConfig = ReturnType<typeof loadAnalyzerConfig>;

export function loadAnalyzerConfig(env: Env) {
  const { tlsCertFile, tlsKeyFile, tlsClientCaFile, ...rest } = parseSettings(analyzerSettings, env);
  /** tls: the certificate files to serve HTTPS with; null: plain HTTP. */
  return { ...rest, tls: tlsFiles({ tlsCertFile, tlsKeyFile, tlsClientCaFile }) };
}
