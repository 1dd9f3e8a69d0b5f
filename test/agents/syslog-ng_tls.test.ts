// syslog-ng 3.38 (testkit/agents.ts) shipping over TLS with its http() destination, whose tls()
// block takes ca-file(), cert-file(), key-file() and peer-verify(): to a distributor with TLS, and to
// one with client certificates (TLS_CLIENT_CA_FILE), where a syslog-ng without a certificate is
// refused and delivers nothing. Certificates come from testkit/certs.ts, made at test time.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { type Agent, agentLines, configString, requireAgents, shipped, startSyslogNg } from "../../testkit/agents.ts";
import { type Certs, makeCerts } from "../../testkit/certs.ts";
import { Rig } from "../../testkit/faults.ts";
import { eventually } from "../../testkit/http.ts";
import type { Service } from "../../testkit/procs.ts";

setDefaultTimeout(60_000); // see test/setup.ts

const N = 300;
/** 50 ms polls: 60 s at most for an agent to ship what it was given. */
const POLLS = 1200;

let certs: Certs;
let rig: Rig;
let tls: Service;
let mtls: Service;
const agents: Agent[] = [];

beforeAll(async () => {
  requireAgents();
  certs = makeCerts();
  rig = await Rig.start([1, 2]);
  ({ tls, mtls } = await rig.tlsDistributors(certs));
}, 60_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.stop()));
  await rig?.stop();
});

/** An http() destination to `url`/analyze, verifying the server against our CA; `client` adds a client certificate. */
async function syslogNg(url: string, client: boolean): Promise<Agent> {
  const clientFiles = client
    ? `cert-file(${configString(certs.client.cert)}) key-file(${configString(certs.client.key)})`
    : "";
  const agent = await startSyslogNg({
    destination: `http(url("${url}/analyze") method("POST") batch-lines(50) batch-timeout(100)
      body("$(format-json message=$MSG)")
      tls(ca-file(${configString(certs.ca.cert)}) ${clientFiles} peer-verify(yes)))`,
    options: "time-reopen(1);",
  });
  agents.push(agent);
  return agent;
}

/** What the analyzers got of `prefix`, once `n` arrived and the agent stopped. */
async function delivered(agent: Agent, prefix: string, n: number): Promise<string[]> {
  await shipped(rig, agent, prefix, n);
  return rig.messagesWith(prefix).flat();
}

describe("syslog-ng http() over TLS", () => {
  test("to a TLS distributor, verified against the CA: every line delivered once", async () => {
    const sent = agentLines("syslog-ng tls", N);
    const agent = await syslogNg(tls.url, false);
    agent.write(sent);
    const got = await delivered(agent, "syslog-ng tls", N);
    expect(got.toSorted()).toEqual(sent.toSorted());
  });

  test("to an mTLS distributor with a client certificate: every line delivered once", async () => {
    const sent = agentLines("syslog-ng mtls", N);
    const agent = await syslogNg(mtls.url, true);
    agent.write(sent);
    const got = await delivered(agent, "syslog-ng mtls", N);
    expect(got.toSorted()).toEqual(sent.toSorted());
  });

  // What it logs, measured (3.38.1 with Debian's libcurl): "curl: error sending HTTP request; …
  // error='Failure when receiving data from the peer'", then it keeps the batch and tries again.
  test("to an mTLS distributor without a client certificate: refused at every attempt, nothing delivered", async () => {
    const prefix = "syslog-ng no cert";
    const agent = await syslogNg(mtls.url, false);
    agent.write(agentLines(prefix, 10));
    const refused = /curl: error sending HTTP request; .*error='Failure when receiving data from the peer'/g;
    await agent.child.whileRunning(
      eventually(() => (agent.output().match(refused) ?? []).length >= 2, "two refused attempts", POLLS),
    );
    await agent.stop();
    expect(rig.messagesWith(prefix).flat()).toEqual([]);
    expect(mtls.exitCode).toBeNull();
  });
});
