import { describe, expect, test } from "bun:test";
import { loadAnalyzerConfig } from "./config.ts";

describe("loadAnalyzerConfig", () => {
  test("has documented defaults", () => {
    expect(loadAnalyzerConfig({})).toEqual({ port: 5000, host: "0.0.0.0", id: undefined, latencySeconds: 0, failureRate: 0, maxBodyBytes: 1024 * 1024, auditFile: undefined, adminToken: undefined });
  });

  test.each([
    [{ ANALYZER_LATENCY: "soon" }, 'ANALYZER_LATENCY must be a number from 0 to 3600, got "soon"'],
    [{ FAILURE_RATE: "1.5" }, 'FAILURE_RATE must be a number from 0 to 1, got "1.5"'],
  ])("%p is refused: %s", (env, message) => {
    expect(() => loadAnalyzerConfig(env)).toThrow(message);
  });
});
