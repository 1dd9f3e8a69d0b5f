import { describe, expect, test } from "bun:test";
import { loadAnalyzerConfig } from "./config.ts";

describe("loadAnalyzerConfig", () => {
  test("has documented defaults", () => {
    expect(loadAnalyzerConfig({})).toEqual({
      port: 5000,
      host: "0.0.0.0",
      id: undefined,
      latencySeconds: 0,
      failureRate: 0,
      maxBodyBytes: 1024 * 1024,
      maxTemplates: 10_000,
      auditFile: undefined,
      dedupeWindow: 100_000,
      adminToken: undefined,
      tls: null,
      adminLoopback: false,
      idleTimeoutSeconds: 10,
      maxRequestsInFlight: 1024,
    });
  });

  test("reads every setting from its variable; a blank ANALYZER_ID counts as unset", () => {
    const env = {
      PORT: "0",
      HOST: "127.0.0.1",
      ANALYZER_ID: " a1 ",
      ANALYZER_LATENCY: "0.25",
      FAILURE_RATE: "0.5",
      MAX_BODY_BYTES: "10",
      MAX_TEMPLATES: "50",
      AUDIT_FILE: "/tmp/audit",
      DEDUPE_WINDOW: "7",
      ADMIN_TOKEN: "t",
      ADMIN_LOOPBACK: "true",
      IDLE_TIMEOUT: "30",
      MAX_REQUESTS_IN_FLIGHT: "8",
    };
    expect(loadAnalyzerConfig(env)).toEqual({
      port: 0,
      host: "127.0.0.1",
      id: "a1",
      latencySeconds: 0.25,
      failureRate: 0.5,
      maxBodyBytes: 10,
      maxTemplates: 50,
      auditFile: "/tmp/audit",
      dedupeWindow: 7,
      adminToken: "t",
      tls: null,
      adminLoopback: true,
      idleTimeoutSeconds: 30,
      maxRequestsInFlight: 8,
    });
    expect(loadAnalyzerConfig({ ANALYZER_ID: "  " }).id).toBeUndefined();
  });

  test.each([
    [{ ANALYZER_LATENCY: "soon" }, 'ANALYZER_LATENCY must be a number from 0 to 3600, got "soon"'],
    [{ FAILURE_RATE: "1.5" }, 'FAILURE_RATE must be a number from 0 to 1, got "1.5"'],
    [{ ADMIN_LOOPBACK: "yes please" }, 'ADMIN_LOOPBACK must be true or false, got "yes please"'],
    [{ IDLE_TIMEOUT: "4" }, 'IDLE_TIMEOUT must be a whole number from 5 to 255, got "4"'],
    [{ MAX_REQUESTS_IN_FLIGHT: "0" }, 'MAX_REQUESTS_IN_FLIGHT must be a whole number from 1 to 1000000, got "0"'],
  ])("%p is refused: %s", (env, message) => {
    expect(() => loadAnalyzerConfig(env)).toThrow(message);
  });
});
