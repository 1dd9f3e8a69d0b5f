import { expect, test } from "bun:test";
import { logLine, PACKET_SIZE, requestBody } from "./bodies.ts";

test("a single-log body is {log}; a packet body is {logs} with that many distinct lines", () => {
  expect(JSON.parse(requestBody(1))).toEqual({ log: logLine(1) });
  const { logs } = JSON.parse(requestBody(PACKET_SIZE)) as { logs: string[] };
  expect(logs).toHaveLength(PACKET_SIZE);
  expect(new Set(logs).size).toBe(PACKET_SIZE);
});

test("lines are fixed: the same index gives the same line, with a timestamp, a level and an address", () => {
  expect(logLine(7)).toBe(logLine(7));
  expect(logLine(7)).toMatch(/^2026-11-24T10:00:07Z [A-Z]+ .*/);
  expect(logLine(0)).toContain("10.0.0.0");
});
