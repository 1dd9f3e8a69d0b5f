// Renewing the distributor's analyzer TLS files (ANALYZER_CA_FILE, ANALYZER_CERT_FILE,
// ANALYZER_KEY_FILE) without a restart: AnalyzerTlsSource's reload outcomes, its folder watch, and
// a real distributor child process that trusts the wrong CA until the right one is written over
// the file, then refuses a broken file on SIGHUP and keeps delivering.

import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AnalyzerTlsSource, analyzerTlsProblem, readAnalyzerTls } from "../src/distributor/analyzertls.ts";
import { createForward } from "../src/distributor/forward.ts";
import { createUpstream } from "../src/distributor/upstream.ts";
import type { DistributorStats } from "../src/protocol/stats.ts";
import { makeCerts } from "../testkit/certs.ts";
import { startAnalyzer } from "../testkit/cluster.ts";
import { eventually, getJson, postJson } from "../testkit/http.ts";
import { spawnService, stopAll } from "../testkit/procs.ts";
import { startTlsFront } from "../testkit/tlsfront.ts";

const certs = makeCerts();
const dir = mkdtempSync(join(tmpdir(), "analyzer-tls-"));
afterAll(async () => {
  await stopAll();
  rmSync(dir, { recursive: true, force: true });
});

/** Copies of our CA and client certificate in a folder of their own, and a source reading them, logging into `lines`. */
function source(name: string) {
  const folder = mkdtempSync(join(dir, `${name}-`));
  const files = { caFile: join(folder, "ca.pem"), certFile: join(folder, "tls.crt"), keyFile: join(folder, "tls.key") };
  copyFileSync(certs.ca.cert, files.caFile);
  copyFileSync(certs.client.cert, files.certFile);
  copyFileSync(certs.client.key, files.keyFile);
  const lines: string[] = [];
  return { files, lines, tls: new AnalyzerTlsSource(files, (line) => lines.push(line)) };
}

describe("AnalyzerTlsSource.reload", () => {
  test("the same files: unchanged, the same material", () => {
    const { tls, lines } = source("same");
    const before = tls.current;
    expect(tls.reload("SIGHUP")).toBe("unchanged");
    expect(tls.current).toBe(before);
    expect(lines).toEqual([]);
  });

  test("a new CA: reloaded, a new material object, said in one line", () => {
    const { tls, files, lines } = source("new");
    const before = tls.current;
    copyFileSync(certs.otherCa.cert, files.caFile);
    expect(tls.reload("SIGHUP")).toBe("reloaded");
    expect(tls.current).not.toBe(before);
    expect(tls.current.ca).toBe(readFileSync(certs.otherCa.cert, "utf8"));
    expect(lines).toEqual([
      `analyzer tls: SIGHUP: reloaded ${files.caFile}, ${files.certFile}, ${files.keyFile}: new connections to analyzers use them`,
    ]);
  });

  test.each([
    [
      "a CA that does not parse",
      (f: Record<string, string>) => writeFileSync(f.caFile!, "not a certificate\n"),
      /ANALYZER_CA_FILE \(.*ca\.pem\) holds no certificate/,
    ],
    [
      "a key that is not the certificate's",
      (f: Record<string, string>) => copyFileSync(certs.server.key, f.keyFile!),
      /ANALYZER_KEY_FILE \(.*tls\.key\) is not the key of ANALYZER_CERT_FILE/,
    ],
    ["a file that is gone", (f: Record<string, string>) => rmSync(f.certFile!), /ENOENT/],
  ])("%s: kept, the old material still in use, and why", (_, damage, why) => {
    const { tls, files, lines } = source("bad");
    const before = tls.current;
    damage(files);
    expect(tls.reload("files changed")).toBe("kept");
    expect(tls.current).toBe(before);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toStartWith("analyzer tls: files changed: kept the files in use: ");
    expect(lines[0]).toMatch(why);
  });

  test("without files: nothing to read, unchanged", () => {
    const tls = new AnalyzerTlsSource({}, () => {});
    expect(tls.current).toEqual({ ca: undefined, cert: undefined, key: undefined });
    expect(tls.reload("SIGHUP")).toBe("unchanged");
  });
});

test("watch(): a file written over is read again once its folder is quiet", async () => {
  const { tls, files, lines } = source("watched");
  tls.watch();
  try {
    writeFileSync(files.caFile, readFileSync(certs.otherCa.cert));
    await eventually(() => lines.some((l) => l.startsWith("analyzer tls: files changed: reloaded")), "the reload");
    expect(tls.current.ca).toBe(readFileSync(certs.otherCa.cert, "utf8"));
  } finally {
    tls.stop();
  }
});

test("the forwarding client: connections made after a reload use the new files, the old client's idle ones close", async () => {
  const analyzer = await startAnalyzer("f1");
  const front = startTlsFront({ target: analyzer.url, pair: certs.server });
  try {
    const right = readAnalyzerTls({ caFile: certs.ca.cert });
    const wrong = readAnalyzerTls({ caFile: certs.otherCa.cert });
    let material = right;
    const forward = createForward(2000, () => material);
    const upstream = createUpstream(front.url, 1);
    expect(await forward(upstream, ["kept-alive"])).toMatchObject({ ok: true });
    // Trusting only another CA now: the kept-alive connection is not reused, a new one is refused.
    material = wrong;
    const refused = await forward(upstream, ["refused"]);
    expect(refused).toMatchObject({ ok: false, unreachable: true });
    expect(refused.ok === false && refused.reason).toMatch(/^TLS handshake with 127\.0\.0\.1:\d+ failed: /);
    material = right;
    expect(await forward(upstream, ["again"])).toMatchObject({ ok: true });
    expect(front.requests).toBe(2);
  } finally {
    front.stop();
  }
});

test("analyzerTlsProblem: our own CA and client pair are sound", () => {
  const read = (p: string) => readFileSync(p, "utf8");
  const pem = { ca: read(certs.ca.cert), cert: read(certs.client.cert), key: read(certs.client.key) };
  expect(analyzerTlsProblem(pem, {})).toBeUndefined();
});

test("a running distributor: the wrong CA until the right one is written over its file; a broken file on SIGHUP is refused", async () => {
  const analyzer = await startAnalyzer("r1");
  const front = startTlsFront({ target: analyzer.url, pair: certs.server, clientCa: certs.ca.cert });
  try {
    const { files } = source("running");
    copyFileSync(certs.otherCa.cert, files.caFile); // a CA that did not sign the analyzer's certificate
    const distributor = await spawnService("distributor.ts", {
      ANALYZERS: front.url,
      ANALYZER_CA_FILE: files.caFile,
      ANALYZER_CERT_FILE: files.certFile,
      ANALYZER_KEY_FILE: files.keyFile,
      HEALTH_INTERVAL_MS: "100",
    });
    const analyzerState = async () => (await getJson<DistributorStats>(`${distributor.url}/stats`)).analyzers[0]!;
    await eventually(async () => (await analyzerState()).lastError?.startsWith("health check failed") ?? false, "down");
    expect((await postJson(`${distributor.url}/analyze`, { log: "before" })).status).toBe(503);

    // A renewal writes the right CA in place: picked up without a signal.
    writeFileSync(files.caFile, readFileSync(certs.ca.cert));
    await distributor.waitFor(
      /analyzer tls: files changed: reloaded .*ca\.pem.*: new connections to analyzers use them/,
    );
    await eventually(async () => (await analyzerState()).healthy, "the analyzer up");
    expect((await postJson(`${distributor.url}/analyze`, { log: "after" })).status).toBe(200);

    // Half a renewal: a certificate without its key. Refused, on the watch and on SIGHUP alike.
    copyFileSync(certs.server.cert, files.certFile);
    await distributor.waitFor(
      /analyzer tls: files changed: kept the files in use: ANALYZER_KEY_FILE .* is not the key/,
    );
    distributor.signal("SIGHUP");
    await distributor.waitFor(/analyzer tls: SIGHUP: kept the files in use: ANALYZER_KEY_FILE .* is not the key/);
    const passed = front.requests;
    await eventually(() => front.requests >= passed + 3, "three more health probes through TLS");
    expect((await analyzerState()).healthy).toBe(true);
    expect((await postJson(`${distributor.url}/analyze`, { log: "still" })).status).toBe(200);
  } finally {
    front.stop();
  }
});
