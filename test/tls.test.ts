// TLS on the distributor and the analyzer (TLS_CERT_FILE, TLS_KEY_FILE, TLS_CLIENT_CA_FILE), with
// certificates made at test time (testkit/certs.ts) and real processes: curl and the load tester
// deliver over TLS and mTLS, the analyzers' audit files show every message arrived, and each client
// the server must refuse is refused, with what curl says about it, while the others are still served.
//
// What curl 7.88 sees, measured (Bun 1.4.5, TLS 1.3):
// - no client certificate under mTLS: the handshake ends with the alert "certificate required"
//   (exit 56);
// - a client certificate from another CA, or an expired one: Bun completes the handshake, then
//   closes the connection before reading the request (exit 52, "Empty reply from server");
// - plain HTTP to the TLS port: no reply (exit 52).
// In every case the request never reaches a handler.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import type { DistributorStats } from "../src/protocol/stats.ts";
import { type Certs, makeCerts, type Pair } from "../testkit/certs.ts";
import { startAnalyzer } from "../testkit/cluster.ts";
import { Rig } from "../testkit/faults.ts";
import { eventually } from "../testkit/http.ts";
import { type Service, spawnChild } from "../testkit/procs.ts";

setDefaultTimeout(60_000); // see test/setup.ts

let certs: Certs;
let rig: Rig;
/** TLS, and TLS with client certificates, in front of the rig's analyzers. */
let tls: Service;
let mtls: Service;

beforeAll(async () => {
  certs = makeCerts();
  rig = await Rig.start([1, 2]);
  const serverTls = { TLS_CERT_FILE: certs.server.cert, TLS_KEY_FILE: certs.server.key };
  [tls, mtls] = await Promise.all([
    rig.anotherDistributor(serverTls),
    rig.anotherDistributor({ ...serverTls, TLS_CLIENT_CA_FILE: certs.ca.cert }),
  ]);
}, 60_000);

afterAll(() => rig?.stop());

type Run = { exitCode: number; stdout: string; stderr: string };

function run(argv: string[]): Run {
  const proc = Bun.spawnSync(argv, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  return { exitCode: proc.exitCode ?? -1, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

/** curl POSTing one {"log"} to `url`/analyze with the given TLS flags. */
function curlLog(url: string, log: string, flags: string[]): Run {
  return run([
    "curl",
    "-sS",
    "--max-time",
    "10",
    ...flags,
    "-H",
    "content-type: application/json",
    "--data",
    JSON.stringify({ log }),
    `${url}/analyze`,
  ]);
}

const trust = () => ["--cacert", certs.ca.cert];
const present = (pair: Pair) => ["--cert", pair.cert, "--key", pair.key];

/** fetch()'s tls option: our CA, and a client certificate when given. */
function clientTls(pair?: Pair) {
  const ca = Bun.file(certs.ca.cert);
  return pair ? { ca, cert: Bun.file(pair.cert), key: Bun.file(pair.key) } : { ca };
}

async function statsOf(service: Service, pair?: Pair): Promise<DistributorStats> {
  const res = await fetch(`${service.url}/stats`, { tls: clientTls(pair) });
  return (await res.json()) as DistributorStats;
}

/** Until the analyzers' audit files hold `n` messages starting with `prefix`. */
async function arrived(prefix: string, n: number): Promise<string[]> {
  await eventually(() => rig.messagesWith(prefix).flat().length >= n, `${n} "${prefix}" messages analyzed`);
  return rig.messagesWith(prefix).flat();
}

describe("a distributor with TLS_CERT_FILE and TLS_KEY_FILE", () => {
  test("says so when it starts, and listens on https", () => {
    expect(tls.url).toStartWith("https://127.0.0.1:");
    expect(tls.output()).toMatch(/TLS CN=localhost, not after \d{4}-/);
  });

  test("curl trusting the CA delivers, and the message reaches an analyzer", async () => {
    const answer = curlLog(tls.url, "tls curl one", trust());
    expect(answer.stderr).toBe("");
    expect(JSON.parse(answer.stdout)).toMatchObject({ analyzer: expect.any(String) });
    expect(await arrived("tls curl", 1)).toEqual(["tls curl one"]);
  });

  test("curl without the CA refuses the server's certificate (exit 60); nothing is sent", () => {
    const answer = curlLog(tls.url, "tls untrusted", []);
    expect(answer.exitCode).toBe(60);
    expect(answer.stderr).toMatch(/certificate/);
  });

  test("plain HTTP to the TLS port gets no reply (curl exit 52) and reaches no handler", async () => {
    const before = (await statsOf(tls)).received;
    const answer = curlLog(tls.url.replace("https:", "http:"), "tls plain", []);
    expect(answer.exitCode).toBe(52);
    expect(answer.stderr).toMatch(/Empty reply from server/);
    expect((await statsOf(tls)).received).toBe(before);
    expect(tls.exitCode).toBeNull();
  });

  test("the load tester with --cacert delivers every message; the analyzers audit them all", async () => {
    const before = rig.messages().flat().length;
    const { delivered } = await statsOf(tls);
    const answer = run([
      process.execPath,
      "load_tester.ts",
      "-n",
      "200",
      "-c",
      "4",
      "--packet",
      "5",
      "--json",
      "--cacert",
      certs.ca.cert,
      `${tls.url}/analyze`,
    ]);
    expect(answer.exitCode, answer.stderr).toBe(0);
    const report = JSON.parse(answer.stdout);
    expect(report.summary.successes).toBe(200);
    expect((await statsOf(tls)).delivered - delivered).toBe(1000);
    await eventually(() => rig.messages().flat().length - before === 1000, "1000 messages audited");
  });
});

describe("a distributor with TLS_CLIENT_CA_FILE (mTLS)", () => {
  test("says so when it starts", () => {
    expect(mtls.output()).toMatch(/TLS CN=localhost, not after .*, client certificates required/);
  });

  test("curl with a client certificate from the CA delivers", async () => {
    const answer = curlLog(mtls.url, "mtls curl one", [...trust(), ...present(certs.client)]);
    expect(answer.stderr).toBe("");
    expect(await arrived("mtls curl", 1)).toEqual(["mtls curl one"]);
  });

  // Each refused client, what curl says (see the top of this file), then a good client still served.
  test.each([
    ["without a client certificate", 56, /certificate required/, "none"],
    ["with a certificate from another CA", 52, /Empty reply from server/, "stranger"],
    ["with an expired certificate", 52, /Empty reply from server/, "expired"],
    ["over plain HTTP", 52, /Empty reply from server/, "plain"],
  ] as const)(
    "curl %s is refused (exit %d) and nothing arrives; the others are still served",
    async (name, exit, says, kind) => {
      const prefix = `mtls refused ${name}`;
      const flags = kind === "stranger" || kind === "expired" ? [...trust(), ...present(certs[kind])] : trust();
      const url = kind === "plain" ? mtls.url.replace("https:", "http:") : mtls.url;
      const before = (await statsOf(mtls, certs.client)).received;
      const answer = curlLog(url, `${prefix} 1`, flags);
      expect(answer.exitCode, answer.stderr).toBe(exit);
      expect(answer.stderr).toMatch(says);

      const good = curlLog(mtls.url, `${prefix} good`, [...trust(), ...present(certs.client)]);
      expect(good.stderr).toBe("");
      expect(await arrived(prefix, 1)).toEqual([`${prefix} good`]);
      expect((await statsOf(mtls, certs.client)).received).toBe(before + 1);
    },
  );

  test("the load tester with --cert and --key delivers every message; without them every request fails", async () => {
    const before = rig.messages().flat().length;
    const load = (...flags: string[]) =>
      run([
        process.execPath,
        "load_tester.ts",
        "-n",
        "100",
        "-c",
        "4",
        "--packet",
        "3",
        "--json",
        "--cacert",
        certs.ca.cert,
        ...flags,
        `${mtls.url}/analyze`,
      ]);
    const refused = load();
    expect(refused.exitCode).toBe(1);
    expect(JSON.parse(refused.stdout).summary.successes).toBe(0);

    const answer = load("--cert", certs.client.cert, "--key", certs.client.key);
    expect(answer.exitCode, answer.stderr).toBe(0);
    expect(JSON.parse(answer.stdout).summary.successes).toBe(100);
    await eventually(() => rig.messages().flat().length - before === 300, "300 messages audited");
  });
});

describe("an analyzer with TLS", () => {
  let analyzer: Service;
  beforeAll(async () => {
    analyzer = await startAnalyzer("tls-a", {
      TLS_CERT_FILE: certs.server.cert,
      TLS_KEY_FILE: certs.server.key,
      TLS_CLIENT_CA_FILE: certs.ca.cert,
    });
  });
  afterAll(() => analyzer?.stop());

  test("answers curl with a client certificate, and refuses curl without one", () => {
    expect(analyzer.url).toStartWith("https://");
    const health = run(["curl", "-sS", ...trust(), ...present(certs.client), `${analyzer.url}/health`]);
    expect(JSON.parse(health.stdout)).toEqual({ status: "healthy", id: "tls-a" });
    const answer = curlLog(analyzer.url, "analyzer tls", [...trust(), ...present(certs.client)]);
    expect(JSON.parse(answer.stdout)).toMatchObject({ analyzer: "tls-a" });
    expect(run(["curl", "-sS", ...trust(), `${analyzer.url}/health`]).exitCode).toBe(56);
  });
});

describe("a certificate past its date", () => {
  test("is served, and the startup line says it has expired", async () => {
    const analyzer = await startAnalyzer("tls-expired", {
      TLS_CERT_FILE: certs.expired.cert,
      TLS_KEY_FILE: certs.expired.key,
    });
    try {
      expect(analyzer.output()).toMatch(
        /listening on https:\/\/.*TLS CN=expired, not after 2020-01-02T00:00:00\.000Z \(EXPIRED: clients that verify it will refuse every connection\)/,
      );
      expect(run(["curl", "-sS", ...trust(), `${analyzer.url}/health`]).exitCode).toBe(60);
    } finally {
      await analyzer.stop();
    }
  });
});

describe("bad TLS settings stop startup with one line", () => {
  test.each([
    [
      "TLS_CERT_FILE without TLS_KEY_FILE",
      () => ({ TLS_CERT_FILE: certs.server.cert }),
      /TLS_CERT_FILE is set but TLS_KEY_FILE is not/,
    ],
    [
      "a key that is not the certificate's",
      () => ({ TLS_CERT_FILE: certs.server.cert, TLS_KEY_FILE: certs.client.key }),
      /TLS_KEY_FILE .* is not the key of the certificate in/,
    ],
    [
      "TLS_CLIENT_CA_FILE without TLS",
      () => ({ TLS_CLIENT_CA_FILE: certs.ca.cert }),
      /TLS_CLIENT_CA_FILE is set without TLS_CERT_FILE and TLS_KEY_FILE/,
    ],
  ])("%s", async (_, env, message) => {
    for (const entry of ["distributor.ts", "analyzer.ts"]) {
      const child = spawnChild(entry, [process.execPath, entry], {
        env: { PORT: "0", HOST: "127.0.0.1", SPOOL: "memory", ...env() },
      });
      expect(await child.exited).toBe(1);
      expect(child.stderr()).toMatch(message);
    }
  });
});

/** The CN of the certificate a new TLS connection to `url` is served. */
function servedCn(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), ca: readFileSync(certs.ca.cert, "utf8") }, () => {
      const cn = socket.getPeerCertificate().subject.CN;
      socket.end();
      resolve(Array.isArray(cn) ? cn.join(",") : String(cn));
    });
    socket.on("error", reject);
  });
}

describe("certificate reload", () => {
  let dir: string;
  let live: Pair;
  let distributor: Service;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "live-certs-"));
    live = { cert: join(dir, "tls.crt"), key: join(dir, "tls.key") };
    install(certs.server);
    distributor = await rig.anotherDistributor({ TLS_CERT_FILE: live.cert, TLS_KEY_FILE: live.key });
  });
  afterAll(() => distributor?.stop());

  function install(pair: Pair): void {
    copyFileSync(pair.cert, live.cert);
    copyFileSync(pair.key, live.key);
  }

  /** Keep-alive clients POSTing until `until` settles (at most `max` each); the outcome of every request. */
  async function keepAliveLoad(prefix: string, until: Promise<unknown>, clients = 4, max = 5000) {
    let done = false;
    void until.finally(() => {
      done = true;
    });
    const outcomes = { ok: 0, failed: [] as string[] };
    await Promise.all(
      Array.from({ length: clients }, async (_, c) => {
        for (let i = 0; i < max && !done; i++) {
          try {
            const res = await fetch(`${distributor.url}/analyze`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ log: `${prefix} ${c}-${i}` }),
              tls: clientTls(),
            });
            await res.arrayBuffer();
            if (res.status === 200) outcomes.ok++;
            else outcomes.failed.push(`status ${res.status}`);
          } catch (error) {
            outcomes.failed.push(String(error));
          }
        }
      }),
    );
    return outcomes;
  }

  test("a renewed certificate written over the files serves new connections on the same port; keep-alive clients lose no request", async () => {
    expect(await servedCn(distributor.url)).toBe("localhost");
    const reloaded = distributor.waitFor(/tls: files changed: reloaded certificate CN=localhost-renewed/);
    const load = keepAliveLoad(
      "reload files",
      reloaded.then(() => Bun.sleep(1500)),
    );
    await Bun.sleep(300);
    install(certs.renewed);
    const outcomes = await load;
    expect(outcomes.failed).toEqual([]);
    expect(outcomes.ok).toBeGreaterThan(0);
    expect(await servedCn(distributor.url)).toBe("localhost-renewed");
    expect(await arrived("reload files", outcomes.ok)).toHaveLength(outcomes.ok);
  });

  test("a bad new certificate is refused with the reason, and the old one keeps serving", async () => {
    const mark = distributor.output().length;
    writeFileSync(live.cert, "-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n");
    await eventually(
      () => /kept the old certificate \(CN=localhost-renewed/.test(distributor.output().slice(mark)),
      "the refusal logged",
    );
    expect(distributor.output().slice(mark)).toMatch(/TLS_CERT_FILE .* holds no certificate/);
    expect(await servedCn(distributor.url)).toBe("localhost-renewed");
    expect(curlLog(distributor.url, "after a bad certificate", trust()).stderr).toBe("");
  });

  // The watch covers the folders holding the files; files that are symlinks into another folder
  // change unseen, so here only SIGHUP can tell this distributor to read them again.
  test("SIGHUP reads the files again", async () => {
    const store = join(dir, "store");
    const linked = join(dir, "linked");
    mkdirSync(store);
    mkdirSync(linked);
    copyFileSync(certs.server.cert, join(store, "tls.crt"));
    copyFileSync(certs.server.key, join(store, "tls.key"));
    symlinkSync(join(store, "tls.crt"), join(linked, "tls.crt"));
    symlinkSync(join(store, "tls.key"), join(linked, "tls.key"));
    const hup = await rig.anotherDistributor({
      TLS_CERT_FILE: join(linked, "tls.crt"),
      TLS_KEY_FILE: join(linked, "tls.key"),
    });
    try {
      copyFileSync(certs.renewed.cert, join(store, "tls.crt"));
      copyFileSync(certs.renewed.key, join(store, "tls.key"));
      hup.signal("SIGHUP");
      await hup.waitFor(/tls: SIGHUP: reloaded certificate CN=localhost-renewed/);
      expect(await servedCn(hup.url)).toBe("localhost-renewed");
      expect(hup.output()).not.toMatch(/files changed/);
    } finally {
      await hup.stop();
    }
  });
});
