import { describe, expect, test } from "bun:test";
import { seededRandom } from "../math/random.ts";
import { createLogGenerator } from "./loglines.ts";

function lines(seed: number, count: number): string[] {
  const next = createLogGenerator(seededRandom(seed));
  return Array.from({ length: count }, next);
}

const SAMPLE = lines(7, 2_000);

const FORMATS = {
  plain: /^\S+Z (INFO |DEBUG|WARN |ERROR) \[[a-z]+\] /,
  keyValue: /^ts=\S+Z level=(info|debug|warn|error) service=[a-z]+ msg="/,
  json: /^\{"ts":/,
  nginx:
    /^\S+Z (INFO|WARN|ERROR) nginx\[[a-z]+\]: \S+ - - \[\d\d\/\w{3}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "(GET|POST|PUT|DELETE) \S+ HTTP\/1\.1" \d{3} \d+ /,
};

function level(line: string): string {
  const match = /\b(INFO|DEBUG|WARN|ERROR|info|debug|warn|error)\b/.exec(line);
  if (!match) throw new Error(`no level in ${line}`);
  return match[1]!.toUpperCase();
}

describe("createLogGenerator", () => {
  test("the same seed gives the same lines", () => {
    expect(lines(7, 200)).toEqual(SAMPLE.slice(0, 200));
  });

  test("different seeds give different lines", () => {
    expect(lines(8, 50)).not.toEqual(SAMPLE.slice(0, 50));
  });

  test("every line is non-empty, one line, and in one of the four formats", () => {
    for (const line of SAMPLE) {
      expect(line.length).toBeGreaterThan(0);
      expect(line).not.toContain("\n");
      const matching = Object.values(FORMATS).filter((format) => format.test(line));
      expect({ line, matching: matching.length }).toEqual({ line, matching: 1 });
    }
  });

  test.each(Object.entries(FORMATS))("the %s format appears in a sample", (_, format) => {
    expect(SAMPLE.filter((line) => format.test(line)).length).toBeGreaterThan(SAMPLE.length / 10);
  });

  test("JSON lines parse and carry timestamp, level, service and message", () => {
    const parsed = SAMPLE.filter((line) => FORMATS.json.test(line)).map((line) => JSON.parse(line));
    for (const record of parsed) {
      expect(record).toMatchObject({
        ts: expect.any(String),
        level: expect.stringMatching(/^(info|debug|warn|error)$/),
        service: expect.any(String),
        msg: expect.any(String),
      });
    }
  });

  test("timestamps are ISO 8601 and never go backwards", () => {
    const times = SAMPLE.map((line) => /(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)/.exec(line)![1]!);
    for (const time of times) expect(new Date(time).toISOString()).toBe(time);
    const ms = times.map((time) => Date.parse(time));
    expect(ms.every((t, i) => i === 0 || t >= ms[i - 1]!)).toBe(true);
  });

  test("levels are a weighted mix: INFO most common, ERROR present but rare", () => {
    const counts: Record<string, number> = {};
    for (const line of SAMPLE) counts[level(line)] = (counts[level(line)] ?? 0) + 1;
    expect(Object.keys(counts).sort()).toEqual(["DEBUG", "ERROR", "INFO", "WARN"]);
    expect(counts.INFO!).toBeGreaterThan(SAMPLE.length / 2);
    expect(counts.ERROR!).toBeLessThan(counts.INFO! / 4);
  });

  test("messages carry IPv4 and IPv6 addresses, ids and numbers", () => {
    const has = (pattern: RegExp) => SAMPLE.some((line) => pattern.test(line));
    expect(has(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/)).toBe(true);
    expect(has(/\b2001:db8:[0-9a-f]{4}:[0-9a-f]{4}::[0-9a-f]{4}\b/)).toBe(true);
    expect(has(/\bu_\d+\b/)).toBe(true);
    expect(has(/\bord_[0-9a-f]{8}\b/)).toBe(true);
    expect(has(/\b[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\b/)).toBe(true);
  });

  test("no two lines in a sample are the same", () => {
    expect(new Set(SAMPLE).size).toBe(SAMPLE.length);
  });
});
