// TLS from the distributor to its analyzers (issue #15, item 3): https:// analyzer URLs verified
// against ANALYZER_CA_FILE, a client certificate for analyzers that require one, and DNS discovery
// over https verified against the name resolved. Most analyzers here are a real analyzer child
// process behind a real TLS server (testkit/tlsfront.ts), so that any certificate can be served;
// the last test has every hop over mTLS with the programs' own TLS (TLS_CERT_FILE and friends).

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readAnalyzerTls } from "../src/distributor/analyzertls.ts";
import { createDistributor } from "../src/distributor/app.ts";
import { loadDistributorConfig } from "../src/distributor/config.ts";
import { createForward } from "../src/distributor/forward.ts";
import { createUpstream } from "../src/distributor/upstream.ts";
import type { AnalyzerStats, DistributorStats } from "../src/protocol/stats.ts";
import { type Certs, makeCerts } from "../testkit/certs.ts";
import { startAnalyzer } from "../testkit/cluster.ts";
import { eventually, getJson, postJson } from "../testkit/http.ts";
import { type Service, spawnService, stopAll } from "../testkit/procs.ts";
import { fitsWeights, withinSigmas } from "../testkit/shares.ts";
import { serverCert, startTlsFront, type TlsFront } from "../testkit/tlsfront.ts";

setDefaultTimeout(60_000); // see test/setup.ts

const certs: Certs = makeCerts();
let analyzers: Service[];
const fronts: TlsFront[] = [];
beforeAll(async () => {
  analyzers = await Promise.all([startAnalyzer("a1"), startAnalyzer("a2")]);
});
afterAll(async () => {
  for (const f of fronts) f.stop();
  await stopAll();
});

function front(target: Service, pair = certs.server, clientCa: string | undefined = certs.ca.cert): TlsFront {
  const f = startTlsFront({ target: target.url, pair, clientCa });
  fronts.push(f);
  return f;
}

const line = (i: number) => `2026-11-30T12:00:${String(i % 60).padStart(2, "0")}Z INFO req ${i} ok`;

describe("ANALYZER_CA_FILE, ANALYZER_CERT_FILE, ANALYZER_KEY_FILE, ANALYZER_SCHEME", () => {
  test("make sense together: the files are kept, discovery takes the scheme", () => {
    const tls = {
      ANALYZER_CA_FILE: certs.ca.cert,
      ANALYZER_CERT_FILE: certs.client.cert,
      ANALYZER_KEY_FILE: certs.client.key,
    };
    expect(loadDistributorConfig({ ANALYZERS: "https://a:1,http://b:2", ...tls }).analyzerTls).toEqual({
      caFile: certs.ca.cert,
      certFile: certs.client.cert,
      keyFile: certs.client.key,
    });
    const c = loadDistributorConfig({ ANALYZER_HOST: "analyzer", ANALYZER_SCHEME: "HTTPS", ...tls });
    expect(c.discovery?.scheme).toBe("https");
  });

  test.each<[string, () => Record<string, string>, string]>([
    [
      "a certificate without its key",
      () => ({ ANALYZERS: "https://a:1", ANALYZER_CERT_FILE: certs.client.cert }),
      "ANALYZER_CERT_FILE is set without ANALYZER_KEY_FILE: a client certificate needs both the certificate and its key",
    ],
    [
      "a key without its certificate",
      () => ({ ANALYZERS: "https://a:1", ANALYZER_KEY_FILE: certs.client.key }),
      "ANALYZER_KEY_FILE is set without ANALYZER_CERT_FILE: a client certificate needs both the certificate and its key",
    ],
    [
      "a key that is another certificate's",
      () => ({ ANALYZERS: "https://a:1", ANALYZER_CERT_FILE: certs.client.cert, ANALYZER_KEY_FILE: certs.server.key }),
      `ANALYZER_KEY_FILE (${certs.server.key}) is not the key of ANALYZER_CERT_FILE (${certs.client.cert}): give the key the certificate was issued for`,
    ],
    [
      "a CA file that holds a key, not certificates",
      () => ({ ANALYZERS: "https://a:1", ANALYZER_CA_FILE: certs.ca.key }),
      `ANALYZER_CA_FILE (${certs.ca.key}) must hold PEM certificates`,
    ],
    [
      "a CA file while every analyzer is http",
      () => ({ ANALYZERS: "http://a:1,http://b:2", ANALYZER_CA_FILE: certs.ca.cert }),
      "ANALYZER_CA_FILE is set but no analyzer is reached over https, so nothing would be encrypted: use https:// URLs in ANALYZERS (or ANALYZER_SCHEME=https with ANALYZER_HOST / ANALYZER_GROUPS), or unset it",
    ],
    [
      "a client certificate with discovery over http",
      () => ({ ANALYZER_HOST: "analyzer", ANALYZER_CERT_FILE: certs.client.cert, ANALYZER_KEY_FILE: certs.client.key }),
      "ANALYZER_CERT_FILE is set but no analyzer is reached over https",
    ],
    [
      "ANALYZER_SCHEME with ANALYZERS",
      () => ({ ANALYZERS: "http://a:1", ANALYZER_SCHEME: "https" }),
      'ANALYZER_SCHEME ("https") applies to analyzers found by ANALYZER_HOST or ANALYZER_GROUPS: with ANALYZERS, write the scheme in each URL (https://…)',
    ],
    [
      "an ANALYZER_SCHEME that is neither",
      () => ({ ANALYZER_HOST: "analyzer", ANALYZER_SCHEME: "tls" }),
      'ANALYZER_SCHEME must be http or https, got "tls"',
    ],
    [
      "a CA file that does not exist",
      () => ({ ANALYZERS: "https://a:1", ANALYZER_CA_FILE: "/nonexistent/ca.pem" }),
      'ANALYZER_CA_FILE must be a readable PEM file (ENOENT), got "/nonexistent/ca.pem"',
    ],
  ])("%s: a startup error", (_, env, message) => {
    expect(() => loadDistributorConfig(env())).toThrow(message);
  });
});

describe("a distributor forwarding to https analyzers", () => {
  test("weights 1:2 over mTLS: every message arrives, shares fit; an analyzer whose CA is not trusted is down, with the reason", async () => {
    const f1 = front(analyzers[0]!);
    const f2 = front(analyzers[1]!);
    // Valid in form and for the right address, signed by a CA the distributor does not trust.
    const impostor = front(analyzers[0]!, serverCert(certs, ["DNS:localhost", "IP:127.0.0.1"], certs.otherCa));
    const distributor = await spawnService("distributor.ts", {
      ANALYZERS: `${f1.url}=1,${f2.url}=2,${impostor.url}=1`,
      ANALYZER_CA_FILE: certs.ca.cert,
      ANALYZER_CERT_FILE: certs.client.cert,
      ANALYZER_KEY_FILE: certs.client.key,
      HEALTH_INTERVAL_MS: "100",
    });
    const before = await Promise.all(analyzers.map((a) => getJson<AnalyzerStats>(`${a.url}/stats`)));

    const packets = 60;
    const size = 100;
    await Promise.all(
      Array.from({ length: 4 }, async (_, w) => {
        for (let p = w; p < packets; p += 4) {
          const res = await postJson(`${distributor.url}/analyze`, {
            logs: Array.from({ length: size }, (_, i) => line(p * size + i)),
          });
          expect(res.status).toBe(200);
          const body = (await res.json()) as { results: { analyzer: string; result: { length: number } }[] };
          expect(body.results.map((r) => r.result.length)).toEqual(
            Array.from({ length: size }, (_, i) => line(p * size + i).length),
          );
        }
      }),
    );

    const stats = await getJson<DistributorStats>(`${distributor.url}/stats`);
    const [s1, s2, s3] = stats.analyzers;
    expect(stats.delivered).toBe(packets * size);
    expect(s3).toMatchObject({ healthy: false, delivered: 0 });
    expect(s3!.lastError).toMatch(/^health check failed: .*(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED)/);
    expect(impostor.requests).toBe(0);
    const counts = [s1!.delivered, s2!.delivered];
    expect(withinSigmas(counts, [1, 2]).ok).toBe(true);
    expect(fitsWeights(counts, [1, 2]).ok).toBe(true);
    // The analyzers behind the TLS fronts analyzed exactly what the distributor counts.
    const after = await Promise.all(analyzers.map((a) => getJson<AnalyzerStats>(`${a.url}/stats`)));
    expect(after.map((a, i) => a.processed - before[i]!.processed)).toEqual(counts);
    expect(distributor.output()).toMatch(
      /analyzer 127\.0\.0\.1:\d+ \(https:\/\/127\.0\.0\.1:\d+\) is down from its first check: health check failed: .*(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED)/,
    );
  });

  test("without the client certificate, analyzers that require one are down, with the reason", async () => {
    const f = front(analyzers[0]!);
    const distributor = await spawnService("distributor.ts", {
      ANALYZERS: f.url,
      ANALYZER_CA_FILE: certs.ca.cert,
      HEALTH_INTERVAL_MS: "100",
    });
    await eventually(async () => {
      const s = await getJson<DistributorStats>(`${distributor.url}/stats`);
      return s.analyzers[0]!.healthy === false && s.analyzers[0]!.lastError !== "not checked yet";
    }, "the analyzer checked and down");
    const s = await getJson<DistributorStats>(`${distributor.url}/stats`);
    // Bun's fetch names the alert no better than this; the forwarding client says CERTIFICATE_REQUIRED.
    expect(s.analyzers[0]!.lastError).toMatch(/^health check failed: EPROTO /);
    expect((await postJson(`${distributor.url}/analyze`, { log: "hello" })).status).toBe(503);
    expect(f.requests).toBe(0);
  });

  test("a forward to an analyzer whose certificate does not verify fails like a refused connection", async () => {
    const expired = front(analyzers[0]!, certs.expired, undefined);
    const forward = createForward(2000, readAnalyzerTls({ caFile: certs.ca.cert }));
    const result = await forward(createUpstream(expired.url, 1), ["hello"]);
    expect(result).toMatchObject({ ok: false, retryable: true, unreachable: true, timedOut: false });
    expect(result.ok === false && result.reason).toMatch(
      /^TLS handshake with 127\.0\.0\.1:\d+ failed: CERT_HAS_EXPIRED \(certificate has expired\)$/,
    );
    expect(expired.requests).toBe(0);
  });
});

describe("DNS discovery with ANALYZER_SCHEME=https", () => {
  /** An in-process distributor for which `analyzer.test` resolves to 127.0.0.1, on `port`. */
  async function discovering(port: number) {
    const lines: string[] = [];
    const distributor = createDistributor(
      loadDistributorConfig({
        ANALYZER_HOST: "analyzer.test",
        ANALYZER_SCHEME: "https",
        ANALYZER_PORT: String(port),
        ANALYZER_CA_FILE: certs.ca.cert,
        ANALYZER_CERT_FILE: certs.client.cert,
        ANALYZER_KEY_FILE: certs.client.key,
        HEALTH_INTERVAL_MS: "60000",
        SPOOL: "memory",
      }),
      { resolve: async () => ["127.0.0.1"], log: (l) => lines.push(l) },
    );
    await distributor.start();
    return { distributor, lines };
  }

  test("connects to the address and verifies the certificate against the name resolved", async () => {
    const f = front(analyzers[0]!, serverCert(certs, ["DNS:analyzer.test"]));
    const { distributor } = await discovering(f.port);
    try {
      const [u] = distributor.balancer.upstreams;
      expect(u).toMatchObject({ url: `https://127.0.0.1:${f.port}`, serverName: "analyzer.test", healthy: true });
      const res = await distributor.app.request("/analyze", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ log: "hello over TLS" }),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { analyzer: string }).analyzer).toBe("a1");
    } finally {
      await distributor.drain(1000);
    }
  });

  test("a certificate for the address but not for the name is refused", async () => {
    const f = front(analyzers[0]!, certs.server); // localhost and 127.0.0.1, not analyzer.test
    const { distributor, lines } = await discovering(f.port);
    try {
      const [u] = distributor.balancer.upstreams;
      expect(u!.healthy).toBe(false);
      expect(u!.lastError).toMatch(/^health check failed: ERR_TLS_CERT_ALTNAME_INVALID/);
      expect(lines.join("\n")).toContain(
        "is down from its first check: health check failed: ERR_TLS_CERT_ALTNAME_INVALID",
      );
      expect(f.requests).toBe(0);
    } finally {
      await distributor.drain(1000);
    }
  });
});

describe("every hop over mTLS with the programs' own TLS", () => {
  test("client → distributor → analyzers 1:3: every message arrives once, shares fit the weights", async () => {
    const serving = {
      TLS_CERT_FILE: certs.server.cert,
      TLS_KEY_FILE: certs.server.key,
      TLS_CLIENT_CA_FILE: certs.ca.cert,
    };
    const tlsAnalyzers = await Promise.all([startAnalyzer("t1", serving), startAnalyzer("t2", serving)]);
    expect(tlsAnalyzers.map((a) => a.url.startsWith("https://"))).toEqual([true, true]);
    const distributor = await spawnService("distributor.ts", {
      ...serving,
      ANALYZERS: `${tlsAnalyzers[0]!.url}=1,${tlsAnalyzers[1]!.url}=3`,
      ANALYZER_CA_FILE: certs.ca.cert,
      ANALYZER_CERT_FILE: certs.client.cert,
      ANALYZER_KEY_FILE: certs.client.key,
      HEALTH_INTERVAL_MS: "100",
    });
    expect(distributor.url).toStartWith("https://");
    const tls = {
      ca: await Bun.file(certs.ca.cert).text(),
      cert: await Bun.file(certs.client.cert).text(),
      key: await Bun.file(certs.client.key).text(),
    };
    const get = async <T>(url: string) => (await (await fetch(url, { tls })).json()) as T;
    await eventually(
      async () => (await get<DistributorStats>(`${distributor.url}/stats`)).analyzers.every((a) => a.healthy),
      "the distributor sees both TLS analyzers healthy",
    );

    const packets = 40;
    const size = 100;
    for (let p = 0; p < packets; p++) {
      const res = await fetch(`${distributor.url}/analyze`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ logs: Array.from({ length: size }, (_, i) => line(p * size + i)) }),
        tls,
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    const counts = await Promise.all(
      tlsAnalyzers.map(async (a) => (await get<AnalyzerStats>(`${a.url}/stats`)).processed),
    );
    expect(counts[0]! + counts[1]!).toBe(packets * size);
    expect(withinSigmas(counts, [1, 3]).ok).toBe(true);
    expect(fitsWeights(counts, [1, 3]).ok).toBe(true);
    // and a client without a certificate gets nowhere
    const refused = await fetch(`${distributor.url}/health`, { tls: { ca: tls.ca } }).then(
      () => "answered",
      () => "refused",
    );
    expect(refused).toBe("refused");
  });
});
