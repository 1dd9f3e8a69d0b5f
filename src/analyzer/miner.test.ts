import { describe, expect, test } from "bun:test";
import { maskedTokens } from "./masking.ts";
import { TemplateMiner } from "./miner.ts";

const tokens = (line: string) => maskedTokens(line);

describe("TemplateMiner", () => {
  test("lines of one statement join one template, whose text generalizes while its id stays", () => {
    const miner = new TemplateMiner();
    const a = miner.add(tokens("Deleting block blk_1 file /data/a/b"));
    expect(a.template).toBe("Deleting block <*> file <*>");
    const b = miner.add(tokens("Deleting block blk_2 file /data/c/d"));
    expect(b.id).toBe(a.id);
    const c = miner.add(tokens("Verification succeeded for blk_3"));
    expect(c.id).not.toBe(a.id);
    // One word differs in a line of five or more: it becomes <*>, the id is the template's.
    const d = miner.add(tokens("session closed for user alice"));
    const e = miner.add(tokens("session closed for user bob"));
    expect(e.id).toBe(d.id);
    expect(e.template).toBe("session closed for user <*>");
    expect(miner.top().map((t) => [t.id, t.count])).toEqual([
      [a.id, 2],
      [d.id, 2],
      [c.id, 1],
    ]);
  });

  test("lines that differ in more than the threshold allows start templates of their own", () => {
    const miner = new TemplateMiner();
    const a = miner.add(tokens("user 1 logged in"));
    const b = miner.add(tokens("user 2 logged out"));
    const c = miner.add(tokens("Starting the cache warmer now for region 3"));
    const d = miner.add(tokens("Stopping the index builder now for region 4"));
    expect(new Set([a.id, b.id, c.id, d.id]).size).toBe(4);
  });

  test("counts lines by level and keeps first and last seen from the injected clock", () => {
    let t = 1000;
    const miner = new TemplateMiner({ now: () => t });
    miner.add(tokens("disk 1 full"), "ERROR");
    t = 2000;
    const joined = miner.add(tokens("disk 2 full"), null);
    expect(joined).toMatchObject({ count: 2, firstSeen: 1000, lastSeen: 2000, levels: { ERROR: 1, NONE: 1 } });
  });

  test("keeps at most maxTemplates, evicting the least recently seen and counting it", () => {
    const miner = new TemplateMiner({ maxTemplates: 2 });
    const a = miner.add(tokens("alpha event"));
    const b = miner.add(tokens("beta event"));
    miner.add(tokens("alpha event")); // a is now the most recently seen
    const c = miner.add(tokens("gamma event"));
    expect(miner.size).toBe(2);
    expect(miner.evicted).toBe(1);
    expect(
      miner
        .top()
        .map((t) => t.id)
        .sort(),
    ).toEqual([a.id, c.id].sort());
    // A line like the evicted one starts a new id; ids are never reused.
    const again = miner.add(tokens("beta event"));
    expect(again.id).not.toBe(b.id);
    expect(again.id).toBeGreaterThan(c.id);
    expect(miner.size).toBe(2);
    expect(miner.evicted).toBe(2);
  });

  test("stays within maxTemplates under many distinct lines", () => {
    const miner = new TemplateMiner({ maxTemplates: 10 });
    const words = ["a", "b", "c", "d", "e", "f", "g", "h"];
    for (let i = 0; i < 500; i++) miner.add([words[i % 8], words[(i >> 3) % 8], words[(i >> 6) % 8]]);
    expect(miner.size).toBeLessThanOrEqual(10);
    // 500 distinct three-word lines: each starts a template, so all but 10 were evicted.
    expect(miner.size + miner.evicted).toBe(500);
  });

  test("an empty line has a template of its own", () => {
    const miner = new TemplateMiner();
    expect(miner.add([]).template).toBe("");
    expect(miner.add([]).count).toBe(2);
  });

  test.each([
    [{ maxTemplates: 0 }, "maxTemplates must be a whole number of at least 1, got 0"],
    [{ similarity: 1.5 }, "similarity must be a number in (0, 1], got 1.5"],
    [{ depth: -1 }, "depth must be a whole number of at least 0, got -1"],
    [{ maxChildren: 0.5 }, "maxChildren must be a whole number of at least 1, got 0.5"],
  ])("refuses %p with a RangeError naming the value", (options, message) => {
    expect(() => new TemplateMiner(options)).toThrow(new RangeError(message));
  });
});
