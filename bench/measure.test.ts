import { describe, expect, test } from "bun:test";
import { BODY_KINDS, benchBody } from "./bodies.ts";
import { loadSpec, unsupportedReason } from "./measure.ts";

describe("loadSpec", () => {
  const lab = {
    bodies: new Map(BODY_KINDS.map((kind) => [kind, { ...benchBody(kind), file: `/tmp/body-${kind}` }])),
    durationMs: 5_000,
    connections: 64,
    dir: "/tmp",
  };
  const target = { analyzeUrl: "http://127.0.0.1:6000/analyze" };

  test("ndjson sends the NDJSON body as application/x-ndjson with Prefer: return=minimal, 100 logs a request", () => {
    expect(loadSpec(lab, target, "ndjson")).toEqual({
      url: "http://127.0.0.1:6000/analyze",
      durationMs: 5_000,
      connections: 64,
      body: benchBody("ndjson").body,
      bodyFile: "/tmp/body-ndjson",
      contentType: "application/x-ndjson",
      packet: 100,
      async: false,
      minimal: true,
      dir: "/tmp",
    });
  });

  test("the other scenarios keep their JSON bodies", () => {
    const pick = (scenario: Parameters<typeof loadSpec>[2]) => {
      const { bodyFile, contentType, packet, async } = loadSpec(lab, target, scenario);
      return { bodyFile, contentType, packet, async };
    };
    const json = "application/json";
    expect(pick("single")).toEqual({ bodyFile: "/tmp/body-single", contentType: json, packet: 1, async: false });
    expect(pick("packet")).toEqual({ bodyFile: "/tmp/body-packet", contentType: json, packet: 100, async: false });
    expect(pick("async")).toEqual({ bodyFile: "/tmp/body-single", contentType: json, packet: 1, async: true });
    expect(pick("failover")).toEqual({ bodyFile: "/tmp/body-single", contentType: json, packet: 1, async: false });
    expect(loadSpec(lab, target, "single", 1_000).durationMs).toBe(1_000);
  });
});

describe("unsupportedReason", () => {
  const distributor = { name: "distributor", supportsAsync: true } as const;
  const haproxy = { name: "haproxy", supportsAsync: false } as const;
  const wrk = { name: "wrk" } as const;
  const loadTester = { name: "load_tester", ownBodies: true } as const;

  test("async needs a target that knows Prefer: respond-async", () => {
    expect(unsupportedReason("async", haproxy, wrk)).toBe("haproxy cannot do async");
    expect(unsupportedReason("async", distributor, wrk)).toBeUndefined();
  });

  test("ndjson needs a generator that sends the bench's body: load_tester makes its own {logs}", () => {
    expect(unsupportedReason("ndjson", distributor, loadTester)).toBe(
      'load_tester sends only its own {"log"}/{"logs"} bodies, not NDJSON',
    );
    expect(unsupportedReason("ndjson", haproxy, wrk)).toBeUndefined();
    expect(unsupportedReason("packet", haproxy, loadTester)).toBeUndefined();
  });

  test("tls needs a target started with a TLS listener", () => {
    expect(unsupportedReason("tls", haproxy, wrk)).toBe("haproxy has no TLS listener");
    expect(unsupportedReason("tls", { ...haproxy, tlsAnalyzeUrl: "https://127.0.0.1:1/analyze" }, wrk)).toBeUndefined();
  });
});
