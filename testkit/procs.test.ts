import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { spawnChild, spawnService, stopAll } from "./procs.ts";

setDefaultTimeout(60_000); // see test/setup.ts

afterAll(stopAll);

const sh = (script: string, options = {}) => spawnChild("sh", ["sh", "-c", script], options);
/** Running, not a zombie waiting to be reaped (/proc/<pid>/stat's third field). */
const running = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
};

describe("spawnChild", () => {
  test("waitFor resolves with the first match; stdout, stderr and the interleaved output are kept", async () => {
    const child = sh("echo out-1; echo err-1 >&2; echo ready on 42; exec sleep 30");
    const match = await child.waitFor(/ready on (\d+)/);
    expect(match[1]).toBe("42");
    expect(child.exitCode).toBeNull();
    expect(await child.stop()).toBe(143);
    expect(child.stdout()).toBe("out-1\nready on 42\n");
    expect(child.stderr()).toBe("err-1\n");
    expect(child.output()).toContain("err-1");
  });

  test("waitFor rejects with everything it printed when it exits first", async () => {
    const child = sh("echo 'bad config: PORT' >&2; exit 3");
    await expect(child.waitFor(/listening/)).rejects.toThrow(
      "sh exited with 3 before printing /listening/:\nbad config: PORT",
    );
    expect(await child.exited).toBe(3);
  });

  test("stop sends SIGTERM and returns the exit code", async () => {
    const child = sh("trap 'exit 7' TERM; echo up; while :; do sleep 0.05; done");
    await child.waitFor(/up/);
    expect(await child.stop()).toBe(7);
  });

  test("stop insists with SIGKILL when SIGTERM is ignored", async () => {
    const child = sh("trap '' TERM; echo up; while :; do sleep 0.05; done");
    await child.waitFor(/up/);
    expect(await child.stop("SIGTERM", 100)).toBe(137);
  });

  test.each([
    [true, "goes with it"],
    [false, "outlives it"],
  ])("group %p: what it started %s on kill", async (group) => {
    const child = sh("sleep 30 > /dev/null 2>&1 & echo $!; wait", { group });
    const grandchild = Number((await child.waitFor(/^(\d+)$/m))[1]);
    expect(running(grandchild)).toBe(true);
    child.kill();
    expect(await child.exited).toBe(137);
    // SIGKILL is delivered before kill() returns; the kernel may take a moment to finish it off.
    for (let i = 0; i < 100 && running(grandchild) === group; i++) await Bun.sleep(20);
    expect(running(grandchild)).toBe(!group);
    if (!group) process.kill(grandchild, "SIGKILL");
  });

  test("whileRunning turns an exit into a rejection that shows the output", async () => {
    const child = sh("echo 'port taken' >&2; exit 1");
    await expect(child.whileRunning(new Promise(() => {}))).rejects.toThrow("sh exited with 1:\nport taken");
  });

  test("stdio inherit has nothing to wait for", () => {
    const child = spawnChild("true", ["true"], { stdio: "inherit" });
    expect(() => child.waitFor(/x/)).toThrow(TypeError);
  });
});

describe("spawnService", () => {
  test("learns its URL from the listening line; restart brings it back on the same port with the same env", async () => {
    const analyzer = await spawnService("analyzer.ts", { ANALYZER_ID: "restarted" });
    expect(analyzer.url).toBe(`http://127.0.0.1:${analyzer.port}`);
    analyzer.kill();
    const again = await analyzer.restart();
    expect(again.port).toBe(analyzer.port);
    const health = (await (await fetch(`${again.url}/health`)).json()) as { id: string };
    expect(health.id).toBe("restarted");
    expect(await again.stop()).toBe(0);
  });

  test("a program that stops before listening is an error with its output", async () => {
    await expect(spawnService("analyzer.ts", { FAILURE_RATE: "2" })).rejects.toThrow(
      'FAILURE_RATE must be a number from 0 to 1, got "2"',
    );
  });
});
