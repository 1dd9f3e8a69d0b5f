import { describe, expect, test } from "bun:test";
import { ConfigError } from "../config/env.ts";
import { Balancer } from "./balancer.ts";
import { loadDistributorConfig } from "./config.ts";
import { DEFAULT_DISCOVERED_WEIGHT, planTargets, type Resolver, sortAddresses, startDiscovery } from "./discovery.ts";

describe("sortAddresses", () => {
  test("orders IPv4 numerically, not as text, and drops duplicates", () => {
    expect(sortAddresses(["10.0.0.10", "10.0.0.9", "9.255.255.255", "10.0.0.9", "10.0.1.0"])).toEqual([
      "9.255.255.255",
      "10.0.0.9",
      "10.0.0.10",
      "10.0.1.0",
    ]);
  });

  test("puts anything that is not IPv4 after, in text order", () => {
    expect(sortAddresses(["fd00::2", "10.0.0.1", "fd00::1"])).toEqual(["10.0.0.1", "fd00::1", "fd00::2"]);
  });
});

describe("planTargets", () => {
  test.each([
    ["as many weights as analyzers", [1, 2, 3], [1, 2, 3], null],
    ["no weights: every analyzer gets the default", null, [1, 1, 1], null],
    [
      "more analyzers than weights: the extras get the default",
      [1, 2],
      [1, 2, DEFAULT_DISCOVERED_WEIGHT],
      "the 1 beyond them by address (10.0.0.10) get weight 1",
    ],
    ["fewer analyzers than weights: the surplus is unused", [1, 2, 3, 4], [1, 2, 3], "weights 4 are unused"],
  ])("%s", (_, weights, want, warning) => {
    const plan = planTargets(["10.0.0.10", "10.0.0.2", "10.0.0.9"], 5000, weights);
    expect(plan.targets).toEqual([
      { url: "http://10.0.0.2:5000", weight: want[0] },
      { url: "http://10.0.0.9:5000", weight: want[1] },
      { url: "http://10.0.0.10:5000", weight: want[2] },
    ]);
    if (warning === null) expect(plan.warning).toBeNull();
    else expect(plan.warning).toContain(warning);
  });

  test("the warning counts both sides", () => {
    expect(planTargets(["10.0.0.1"], 5000, [1, 2]).warning).toBe(
      "found 1 analyzer for 2 weights in DISTRIBUTION_WEIGHTS: weights 2 are unused until more analyzers appear",
    );
  });

  test("brackets IPv6 addresses in URLs", () => {
    expect(planTargets(["fd00::1"], 5000, null).targets).toEqual([{ url: "http://[fd00::1]:5000", weight: 1 }]);
  });
});

describe("ANALYZER_SCHEME=https", () => {
  test.each([
    ["ANALYZER_HOST", { host: "analyzer", group: null, weights: [1, 2] }],
    ["ANALYZER_GROUPS", { host: "analyzer", group: "analyzer", weights: null }],
  ])("with %s: https URLs to the addresses, each verified against the name it was found under", async (_, name) => {
    const balancer = new Balancer([], { groups: name.group === null ? [] : [{ name: name.group, weight: 3 }] });
    const discovery = startDiscovery({
      names: [name],
      port: 5443,
      scheme: "https",
      intervalMs: 3_600_000,
      balancer,
      resolve: async () => ["10.0.0.9", "10.0.0.2"],
      log: () => {},
    });
    await discovery.refresh();
    discovery.stop();
    expect(balancer.upstreams.map((u) => ({ url: u.url, serverName: u.serverName, group: u.group }))).toEqual([
      { url: "https://10.0.0.2:5443", serverName: "analyzer", group: name.group },
      { url: "https://10.0.0.9:5443", serverName: "analyzer", group: name.group },
    ]);
  });
});

/** A resolver whose answer the test sets; `null` makes it fail like getaddrinfo does. */
function fakeDns(initial: string[] | null) {
  const state = { answer: initial, calls: 0 };
  const resolve: Resolver = async (host) => {
    state.calls++;
    if (state.answer === null) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
    return state.answer;
  };
  return { state, resolve };
}

function discoveryOf(answer: string[] | null, weights: number[] | null) {
  const dns = fakeDns(answer);
  const balancer = new Balancer([]);
  const lines: string[] = [];
  const changes: string[][] = [];
  const discovery = startDiscovery({
    names: [{ host: "analyzer", group: null, weights }],
    port: 5000,
    intervalMs: 3_600_000, // rounds are driven by refresh() in these tests
    balancer,
    resolve: dns.resolve,
    log: (line) => lines.push(line),
    onChange: (upstreams) => void changes.push(upstreams.map((u) => u.url)),
  });
  const weightsByUrl = () => Object.fromEntries(balancer.upstreams.map((u) => [u.url, u.weight]));
  return { dns, balancer, lines, changes, discovery, weightsByUrl };
}

describe("startDiscovery", () => {
  test("resolves at once and gives the weights to the analyzers sorted by address", async () => {
    const d = discoveryOf(["10.0.0.10", "10.0.0.3", "10.0.0.9"], [1, 2, 3]);
    await d.discovery.refresh(); // joins the first round, already under way
    d.discovery.stop();
    expect(d.weightsByUrl()).toEqual({
      "http://10.0.0.3:5000": 1,
      "http://10.0.0.9:5000": 2,
      "http://10.0.0.10:5000": 3,
    });
    expect(d.changes).toHaveLength(1);
    expect(d.lines).toEqual([
      "discovery: analyzer:5000 → 3 analyzers (3 joined, 0 left), weights by address: http://10.0.0.3:5000=1, http://10.0.0.9:5000=2, http://10.0.0.10:5000=3",
    ]);
  });

  test("an analyzer that joins or leaves changes the set; those that stay keep their object and health", async () => {
    const d = discoveryOf(["10.0.0.2", "10.0.0.3"], [1, 2, 3]);
    await d.discovery.refresh();
    const [first, second] = d.balancer.upstreams;
    d.balancer.setHealthy(first, true, "probe");
    d.balancer.setHealthy(second, true, "probe");
    d.balancer.requestStarted(first);
    d.balancer.requestEnded(first, 7, true);

    d.dns.state.answer = ["10.0.0.4", "10.0.0.2", "10.0.0.3"];
    await d.discovery.refresh();
    expect(d.balancer.upstreams.slice(0, 2)).toEqual([first, second]);
    expect(first).toMatchObject({ healthy: true, delivered: 7 });
    expect(d.balancer.upstreams[2]).toMatchObject({ url: "http://10.0.0.4:5000", weight: 3, healthy: false });

    // 10.0.0.3 leaves: 10.0.0.4 moves up to the second position and so to the second weight.
    const third = d.balancer.upstreams[2];
    d.dns.state.answer = ["10.0.0.2", "10.0.0.4"];
    await d.discovery.refresh();
    d.discovery.stop();
    expect(d.balancer.upstreams).toEqual([first, third]);
    expect(d.weightsByUrl()).toEqual({ "http://10.0.0.2:5000": 1, "http://10.0.0.4:5000": 2 });
    expect(d.changes).toHaveLength(3);
    expect(d.lines.at(-1)).toContain("2 analyzers (0 joined, 1 left)");
  });

  test("a weight pinned through the admin API stays with its analyzer when the positions shift", async () => {
    const d = discoveryOf(["10.0.0.2", "10.0.0.3"], [1, 2]);
    await d.discovery.refresh();
    d.balancer.pinWeight(d.balancer.upstreams[1], 7);
    d.dns.state.answer = ["10.0.0.3", "10.0.0.4"];
    await d.discovery.refresh();
    d.discovery.stop();
    expect(d.weightsByUrl()).toEqual({ "http://10.0.0.3:5000": 7, "http://10.0.0.4:5000": 2 });
  });

  test("an unchanged answer changes nothing, whatever order DNS gives it in", async () => {
    const d = discoveryOf(["10.0.0.2", "10.0.0.3"], null);
    await d.discovery.refresh();
    const before = d.balancer.upstreams;
    d.dns.state.answer = ["10.0.0.3", "10.0.0.2", "10.0.0.3"];
    await d.discovery.refresh();
    d.discovery.stop();
    expect(d.balancer.upstreams).toBe(before);
    expect(d.changes).toHaveLength(1);
    expect(d.lines).toHaveLength(1);
  });

  test("a count that differs from the weights is warned about once per change, not every round", async () => {
    const d = discoveryOf(["10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"], [1, 2, 3]);
    await d.discovery.refresh();
    await d.discovery.refresh();
    expect(d.weightsByUrl()["http://10.0.0.5:5000"]).toBe(DEFAULT_DISCOVERED_WEIGHT);
    d.dns.state.answer = ["10.0.0.2"];
    await d.discovery.refresh();
    await d.discovery.refresh();
    d.discovery.stop();
    expect(d.lines.filter((l) => l.includes("warning"))).toEqual([
      "discovery: warning: analyzer:5000: found 4 analyzers for 3 weights in DISTRIBUTION_WEIGHTS: the 1 beyond them by address (10.0.0.5) get weight 1",
      "discovery: warning: analyzer:5000: found 1 analyzer for 3 weights in DISTRIBUTION_WEIGHTS: weights 2,3 are unused until more analyzers appear",
    ]);
  });

  test("a failed lookup keeps the last known set and is logged once, not thrown; recovery is logged", async () => {
    const d = discoveryOf(["10.0.0.2", "10.0.0.3"], null);
    await d.discovery.refresh();
    const before = d.balancer.upstreams;
    d.dns.state.answer = null;
    await d.discovery.refresh(); // resolves: never rejects
    await d.discovery.refresh();
    expect(d.balancer.upstreams).toBe(before);
    d.dns.state.answer = [];
    await d.discovery.refresh(); // no addresses at all counts as a failure too
    expect(d.balancer.upstreams).toBe(before);
    d.dns.state.answer = ["10.0.0.2", "10.0.0.3"];
    await d.discovery.refresh();
    d.discovery.stop();
    expect(d.balancer.upstreams).toBe(before);
    expect(d.lines.slice(1)).toEqual([
      "discovery: cannot resolve analyzer: ENOTFOUND; keeping the last known 2 analyzers",
      "discovery: cannot resolve analyzer: no addresses; keeping the last known 2 analyzers",
      "discovery: analyzer resolves again",
    ]);
  });

  test("a first lookup that fails leaves no analyzers, and a later one brings them in", async () => {
    const d = discoveryOf(null, null);
    await d.discovery.refresh();
    expect(d.balancer.upstreams).toHaveLength(0);
    d.dns.state.answer = ["10.0.0.2"];
    await d.discovery.refresh();
    d.discovery.stop();
    expect(d.balancer.upstreams.map((u) => u.url)).toEqual(["http://10.0.0.2:5000"]);
  });

  test("concurrent refreshes share one lookup", async () => {
    const d = discoveryOf(["10.0.0.2"], null);
    await d.discovery.refresh();
    const calls = d.dns.state.calls;
    await Promise.all([d.discovery.refresh(), d.discovery.refresh(), d.discovery.refresh()]);
    d.discovery.stop();
    expect(d.dns.state.calls).toBe(calls + 1);
  });
});

describe("startDiscovery with ANALYZER_GROUPS", () => {
  /** DNS whose answer per name the test sets; a missing name fails like getaddrinfo does. */
  function groupDiscovery(answers: Record<string, string[]>) {
    const dns = { answers };
    const resolve: Resolver = async (host) => {
      const answer = dns.answers[host];
      if (!answer) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
      return answer;
    };
    const balancer = new Balancer([], {
      groups: [
        { name: "analyzer-main", weight: 3 },
        { name: "analyzer-canary", weight: 1 },
      ],
    });
    const lines: string[] = [];
    const discovery = startDiscovery({
      names: [
        { host: "analyzer-main", group: "analyzer-main", weights: null },
        { host: "analyzer-canary", group: "analyzer-canary", weights: null },
      ],
      port: 5000,
      intervalMs: 3_600_000,
      balancer,
      resolve,
      log: (line) => lines.push(line),
    });
    const members = () => balancer.upstreams.map((u) => `${u.group} ${u.url} ${u.weight}`);
    return { dns, balancer, lines, discovery, members };
  }

  test("every address of a name is an instance of its group, weighing 1: the balancer shares the group's weight", async () => {
    const d = groupDiscovery({ "analyzer-main": ["10.0.0.9", "10.0.0.3"], "analyzer-canary": ["10.0.0.5"] });
    await d.discovery.refresh();
    d.discovery.stop();
    expect(d.members()).toEqual([
      "analyzer-main http://10.0.0.3:5000 1",
      "analyzer-main http://10.0.0.9:5000 1",
      "analyzer-canary http://10.0.0.5:5000 1",
    ]);
    for (const u of d.balancer.upstreams) d.balancer.setHealthy(u, true, "probe");
    expect(d.balancer.upstreams.map((u) => d.balancer.effectiveWeight(u))).toEqual([1.5, 1.5, 1]);
    expect(d.lines).toEqual([
      "discovery: groups → 3 analyzers (3 joined, 0 left): analyzer-main http://10.0.0.3:5000 http://10.0.0.9:5000; analyzer-canary http://10.0.0.5:5000",
    ]);
  });

  test("a restart at a new address keeps the group's weight: the weight follows the name, not the address", async () => {
    const d = groupDiscovery({ "analyzer-main": ["10.0.0.3", "10.0.0.9"], "analyzer-canary": ["10.0.0.5"] });
    await d.discovery.refresh();
    // The canary restarts and comes back below both mains' addresses (by address order it would now be first).
    d.dns.answers["analyzer-canary"] = ["10.0.0.1"];
    await d.discovery.refresh();
    d.discovery.stop();
    for (const u of d.balancer.upstreams) d.balancer.setHealthy(u, true, "probe");
    const canary = d.balancer.upstreams.find((u) => u.group === "analyzer-canary")!;
    expect(canary.url).toBe("http://10.0.0.1:5000");
    expect(describeGroupShares(d.balancer)).toEqual({ "analyzer-main": 0.75, "analyzer-canary": 0.25 });
    expect(d.lines.at(-1)).toContain("3 analyzers (1 joined, 1 left)");
  });

  test("one name failing keeps its own last set and logs once; the other names are still applied", async () => {
    const d = groupDiscovery({ "analyzer-main": ["10.0.0.3"], "analyzer-canary": ["10.0.0.5"] });
    await d.discovery.refresh();
    delete (d.dns.answers as Record<string, string[] | undefined>)["analyzer-canary"];
    d.dns.answers["analyzer-main"] = ["10.0.0.3", "10.0.0.4"];
    await d.discovery.refresh();
    await d.discovery.refresh();
    d.discovery.stop();
    expect(d.members()).toEqual([
      "analyzer-main http://10.0.0.3:5000 1",
      "analyzer-main http://10.0.0.4:5000 1",
      "analyzer-canary http://10.0.0.5:5000 1",
    ]);
    expect(d.lines.filter((l) => l.includes("cannot resolve"))).toEqual([
      "discovery: cannot resolve analyzer-canary: ENOTFOUND; keeping the last known 1 analyzer",
    ]);
  });

  test("an address under two names stays in the first group, with a warning", async () => {
    const d = groupDiscovery({ "analyzer-main": ["10.0.0.3"], "analyzer-canary": ["10.0.0.3", "10.0.0.5"] });
    await d.discovery.refresh();
    d.discovery.stop();
    expect(d.members()).toEqual(["analyzer-main http://10.0.0.3:5000 1", "analyzer-canary http://10.0.0.5:5000 1"]);
    expect(d.lines[0]).toBe(
      "discovery: warning: http://10.0.0.3:5000 is found under both analyzer-main and analyzer-canary: it stays in analyzer-main",
    );
  });
});

/** Each group's share of new messages, from the balancer's effective weights. */
function describeGroupShares(balancer: Balancer): Record<string, number> {
  const total = balancer.upstreams.reduce((sum, u) => sum + balancer.effectiveWeight(u), 0);
  const shares: Record<string, number> = {};
  for (const u of balancer.upstreams) shares[u.group!] = (shares[u.group!] ?? 0) + balancer.effectiveWeight(u) / total;
  return shares;
}

describe("discovery config", () => {
  test("ANALYZER_HOST switches to discovery with documented defaults", () => {
    const c = loadDistributorConfig({ ANALYZER_HOST: "analyzer" });
    expect(c.analyzers).toEqual([]);
    expect(c.discovery).toEqual({
      names: [{ host: "analyzer", group: null, weights: null }],
      port: 5000,
      scheme: "http",
      intervalMs: 2000,
    });
  });

  test("takes ANALYZER_PORT, DISCOVERY_INTERVAL_MS and DISTRIBUTION_WEIGHTS of any length", () => {
    const c = loadDistributorConfig({
      ANALYZER_HOST: "analyzer",
      ANALYZER_PORT: "5001",
      DISCOVERY_INTERVAL_MS: "500",
      DISTRIBUTION_WEIGHTS: "[1, 2, 3]",
    });
    expect(c.discovery).toEqual({
      names: [{ host: "analyzer", group: null, weights: [1, 2, 3] }],
      port: 5001,
      scheme: "http",
      intervalMs: 500,
    });
  });

  test("without ANALYZER_HOST, the fixed list is used as before", () => {
    expect(loadDistributorConfig({}).discovery).toBeNull();
    expect(loadDistributorConfig({}).groups).toEqual([]);
  });

  test("ANALYZER_GROUPS resolves one name per group, weight 1 when omitted, on ANALYZER_PORT", () => {
    const c = loadDistributorConfig({
      ANALYZER_GROUPS: " analyzer-main=9, analyzer-canary.logs.svc.cluster.local=0.5 ,analyzer-extra",
      ANALYZER_PORT: "5001",
    });
    expect(c.analyzers).toEqual([]);
    expect(c.groups).toEqual([
      { name: "analyzer-main", weight: 9 },
      { name: "analyzer-canary.logs.svc.cluster.local", weight: 0.5 },
      { name: "analyzer-extra", weight: 1 },
    ]);
    expect(c.discovery).toEqual({
      names: c.groups.map((g) => ({ host: g.name, group: g.name, weights: null })),
      port: 5001,
      scheme: "http",
      intervalMs: 2000,
    });
  });

  test.each([
    [
      { ANALYZER_HOST: "analyzer", ANALYZERS: "http://a:1" },
      'ANALYZER_HOST ("analyzer") and ANALYZERS are both set: use ANALYZER_HOST to find analyzers by DNS or ANALYZERS to list them, not both',
    ],
    [
      { ANALYZER_HOST: "http://analyzer:5000" },
      'ANALYZER_HOST must be a host name like analyzer (no scheme, no port), got "http://analyzer:5000"',
    ],
    [
      { ANALYZER_HOST: "analyzer", ANALYZER_PORT: "0" },
      'ANALYZER_PORT must be a whole number from 1 to 65535, got "0"',
    ],
    [
      { ANALYZER_HOST: "analyzer", DISCOVERY_INTERVAL_MS: "often" },
      'DISCOVERY_INTERVAL_MS must be a whole number from 10 to 3600000, got "often"',
    ],
    [
      { ANALYZER_HOST: "analyzer", DISTRIBUTION_WEIGHTS: "0,0" },
      "at least one analyzer weight must be positive, got [0,0]",
    ],
    [
      { ANALYZER_HOST: "analyzer", DISTRIBUTION_WEIGHTS: "1,x" },
      'DISTRIBUTION_WEIGHTS weights must be finite numbers >= 0, got "x"',
    ],
    [
      { ANALYZER_GROUPS: "a=1", ANALYZER_HOST: "analyzer", DISTRIBUTION_WEIGHTS: "1" },
      "ANALYZER_GROUPS is set together with ANALYZER_HOST and DISTRIBUTION_WEIGHTS: ANALYZER_GROUPS names the analyzers and their weights on its own, leave the others unset",
    ],
    [
      { ANALYZER_GROUPS: "a=1", ANALYZERS: "http://a:1" },
      "ANALYZER_GROUPS is set together with ANALYZERS: ANALYZER_GROUPS names the analyzers and their weights on its own, leave the others unset",
    ],
    [{ ANALYZER_GROUPS: " , " }, 'ANALYZER_GROUPS must list at least one name=weight, got " , "'],
    [
      { ANALYZER_GROUPS: "http://a:5000=1" },
      'ANALYZER_GROUPS names must be host names like analyzer-main (no scheme, no port), got "http://a:5000"',
    ],
    [{ ANALYZER_GROUPS: "a=1,b=lots" }, 'ANALYZER_GROUPS weights must be finite numbers >= 0, got "lots"'],
    [{ ANALYZER_GROUPS: "a=1,a=2" }, "ANALYZER_GROUPS lists a twice: give it one entry with the sum of the weights"],
    [{ ANALYZER_GROUPS: "a=0,b=0" }, "at least one ANALYZER_GROUPS weight must be positive, got [0,0]"],
  ])("%p is refused: %s", (env, message) => {
    expect(() => loadDistributorConfig(env)).toThrow(ConfigError);
    expect(() => loadDistributorConfig(env)).toThrow(message);
  });
});
