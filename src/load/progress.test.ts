import { describe, expect, test } from "bun:test";
import { createPaint } from "./colour.ts";
import { fractionDone, type ProgressState, renderBar, renderLine, startProgress } from "./progress.ts";

const plain = createPaint(false);
const state = (overrides: Partial<ProgressState>): ProgressState => ({
  completed: 0,
  failures: 0,
  elapsedMs: 0,
  rate: 0,
  total: undefined,
  durationMs: undefined,
  ...overrides,
});

describe("fractionDone", () => {
  test.each<[Partial<ProgressState>, number]>([
    [{ completed: 250, total: 500 }, 0.5],
    [{ elapsedMs: 2_500, durationMs: 10_000 }, 0.25],
    [{ completed: 100, total: 500, elapsedMs: 5_000, durationMs: 10_000 }, 0.5],
    [{ completed: 600, total: 500 }, 1],
  ])("%j is %d done", (overrides, fraction) => {
    expect(fractionDone(state(overrides))).toBe(fraction);
  });
});

describe("renderBar", () => {
  test("fills the bar in proportion and shows count, live rate, errors and time", () => {
    expect(renderBar(state({ completed: 300, total: 500, rate: 1234.4, elapsedMs: 400 }), plain, 10)).toBe(
      "[██████░░░░]  60% 300/500 1234 req/s 0 errors 400ms",
    );
  });

  test("errors turn red on a TTY", () => {
    expect(renderBar(state({ completed: 1, failures: 1, total: 2 }), createPaint(true), 2)).toContain(
      "\x1b[31m1 errors\x1b[39m",
    );
  });
});

describe("renderLine", () => {
  test("is plain text with the elapsed time first", () => {
    expect(renderLine(state({ completed: 300, failures: 2, total: 500, rate: 150, elapsedMs: 2_000 }))).toBe(
      "[2s] 300/500 requests (60%), 150 req/s, 2 errors",
    );
  });

  test("a duration-only run shows the count without a total", () => {
    expect(renderLine(state({ completed: 42, durationMs: 10_000, elapsedMs: 1_000, rate: 42 }))).toBe(
      "[1s] 42 requests (10%), 42 req/s, 0 errors",
    );
  });
});

describe("startProgress", () => {
  async function capture(isTTY: boolean) {
    const written: string[] = [];
    const source = { completed: 0, failures: 0 };
    const progress = startProgress({
      source,
      stream: { isTTY, write: (text: string) => written.push(text) },
      paint: plain,
      total: 10,
      durationMs: undefined,
      intervalMs: 5,
    });
    source.completed = 5;
    while (written.length < 2) await Bun.sleep(5);
    progress.stop();
    return written;
  }

  test("off a TTY it writes whole lines and no control characters", async () => {
    const written = await capture(false);
    for (const line of written) expect(line).toMatch(/^\[[^\]]+\] 5\/10 requests \(50%\), \d+ req\/s, 0 errors\n$/);
  });

  test("on a TTY it redraws one line in place and clears it when stopped", async () => {
    const written = await capture(true);
    expect(written[0]).toStartWith("\r\x1b[2K[");
    expect(written.at(-1)).toBe("\r\x1b[2K");
    expect(written.join("")).not.toContain("\n");
  });
});
