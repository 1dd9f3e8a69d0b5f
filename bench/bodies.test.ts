import { expect, test } from "bun:test";
import { SCENARIOS } from "./args.ts";
import { benchBody, bodyKind, logLine, NDJSON, ndjsonBody, PACKET_SIZE, requestBody } from "./bodies.ts";

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

test("an NDJSON body is one object per line, each ending in a newline: the packet's lines taken apart", () => {
  const body = ndjsonBody(PACKET_SIZE);
  expect(body.endsWith("}\n")).toBe(true);
  const lines = body.slice(0, -1).split("\n");
  expect(lines).toHaveLength(PACKET_SIZE);
  const records = lines.map((line) => JSON.parse(line) as { time: string; level: string; message: string });
  expect(Object.keys(records[7]!)).toEqual(["time", "level", "message"]);
  // the same events as the {"logs"} packet, with the time and level as fields of their own
  expect(records.map((r) => `${r.time} ${r.level} ${r.message}`)).toEqual(
    (JSON.parse(requestBody(PACKET_SIZE)) as { logs: string[] }).logs,
  );
});

test("each scenario's body, its Content-Type and the logs it carries", () => {
  expect(Object.fromEntries(SCENARIOS.map((s) => [s, bodyKind(s)]))).toEqual({
    single: "single",
    packet: "packet",
    ndjson: "ndjson",
    async: "single",
    failover: "single",
    tls: "single",
  });
  expect(benchBody("single")).toEqual({ body: requestBody(1), contentType: "application/json", logs: 1 });
  expect(benchBody("packet")).toEqual({ body: requestBody(PACKET_SIZE), contentType: "application/json", logs: 100 });
  expect(benchBody("ndjson")).toEqual({ body: ndjsonBody(PACKET_SIZE), contentType: NDJSON, logs: 100 });
  expect(NDJSON).toBe("application/x-ndjson");
});
