// Fluent Bit as a real client, when there is one (FLUENT_BIT, or fluent-bit on the PATH): tail
// follows a file the test writes and each output plugin that speaks a protocol the distributor
// takes ships every line through a real distributor to three real analyzers: http in each Format
// and compression, es and opensearch to /_bulk, loki, opentelemetry. What each analyzer analyzed comes from its
// audit file. Fluent Bit is neither on npm nor in Debian, so CI skips this file; it was run by hand
// against Fluent Bit 5.1.1 built from its source (docs/agents.md#fluent-bit).
//
// What Fluent Bit 5.1.1 does with an answer (plugins/out_http/http.c; es, loki and opentelemetry
// the same way for a status): 2xx: delivered; 408, 429 and every 5xx: the chunk is retried after
// scheduler.base seconds, growing to scheduler.cap, Retry_Limit times (1 by default, no_limits
// here); any other 4xx: "chunk will not be retried", dropped. tail makes a record of an empty line
// too, {"log": ""}: every output sends it, and it is analyzed as "".

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import {
  type Agent,
  agentLines,
  expectEachOnceByWeight,
  FLUENT_BIT,
  shipped,
  startFluentBit,
} from "../../testkit/agents.ts";
import { type Certs, makeCerts } from "../../testkit/certs.ts";
import { Rig } from "../../testkit/faults.ts";
import { distributorStats, eventually } from "../../testkit/http.ts";
import type { Service } from "../../testkit/procs.ts";

setDefaultTimeout(60_000); // see test/setup.ts

const WEIGHTS = [1, 2, 3];
/** Lines per run: enough for the chi-square to tell a 1:2:3 split from a wrong one. */
const N = 1000;
/** 50 ms polls: 60 s at most for an agent to ship what it was given. */
const POLLS = 1200;
/**
 * tail puts what it read in one go into one chunk, and a chunk is one request: the 1001 lines here
 * are over the default MAX_PACKET (1000), as docs/agents.md#fluent-bit warns.
 */
const MAX_PACKET = 5000;
/** A chunk the distributor refuses with 400 (MAX_PACKET below it). */
const STRICT_MAX_PACKET = 5;

type Output = { name: string; plugin: string; settings: (host: string, port: string) => string };

const http = (extra: string) => (host: string, port: string) =>
  `Host ${host}\nPort ${port}\nURI /analyze\nJson_date_key date\nJson_date_format iso8601\n${extra}`;

const OUTPUTS: Output[] = [
  { name: "http, Format json", plugin: "http", settings: http("Format json") },
  {
    name: "http, Format json_lines, Header Prefer return=minimal",
    plugin: "http",
    settings: http("Format json_lines\nHeader Prefer return=minimal"),
  },
  { name: "http, Format json_stream", plugin: "http", settings: http("Format json_stream") },
  { name: "http, Format msgpack (its default)", plugin: "http", settings: http("Format msgpack") },
  // GELF puts the message under short_message, one of the keys a message is looked for under.
  { name: "http, Format gelf", plugin: "http", settings: http("Format gelf\nGelf_Short_Message_Key log") },
  { name: "http, json_lines, compress gzip", plugin: "http", settings: http("Format json_lines\ncompress gzip") },
  { name: "http, json_lines, compress zstd", plugin: "http", settings: http("Format json_lines\ncompress zstd") },
  { name: "http, json_lines, compress snappy", plugin: "http", settings: http("Format json_lines\ncompress snappy") },
  {
    name: "es to /_bulk",
    plugin: "es",
    settings: (host, port) => `Host ${host}\nPort ${port}\nIndex fluent-bit\nSuppress_Type_Name On`,
  },
  {
    name: "opensearch to /_bulk",
    plugin: "opensearch",
    settings: (host, port) => `Host ${host}\nPort ${port}\nIndex fluent-bit\nSuppress_Type_Name On`,
  },
  {
    // drop_single_key raw: the line is the log's text; by default it would be {"log": "…"} as JSON.
    name: "loki",
    plugin: "loki",
    settings: (host, port) => `Host ${host}\nPort ${port}\nLabels job=fluent-bit\nDrop_Single_Key raw`,
  },
  {
    // logs_body_key: the body is the log's text; without it, the whole record as a map.
    name: "opentelemetry to /v1/logs",
    plugin: "opentelemetry",
    settings: (host, port) => `Host ${host}\nPort ${port}\nLogs_uri /v1/logs\nLogs_body_key $log`,
  },
];

const HOST_PORT = /^https?:\/\/([^:]+):(\d+)$/;
const hostPort = (url: string) => {
  const [, host, port] = HOST_PORT.exec(url)!;
  return [host!, port!] as const;
};

let rig: Rig;
const agents: Agent[] = [];

describe.skipIf(!FLUENT_BIT)("Fluent Bit", () => {
  beforeAll(async () => {
    rig = await Rig.start(WEIGHTS, { MAX_PACKET: String(MAX_PACKET) });
  }, 60_000);

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await rig?.stop();
  });

  async function fluentBit(plugin: string, output: string, service?: string): Promise<Agent> {
    const agent = await startFluentBit({ plugin, output, service });
    agents.push(agent);
    return agent;
  }

  describe.each(OUTPUTS.map((o) => [o.name, o] as const))("%s", (name, output) => {
    test("every line delivered once, split by weight; the empty line analyzed as one empty message", async () => {
      const prefix = `steady ${name}`;
      const sent = agentLines(prefix, N);
      const emptyBefore = rig.emptyMessages();
      const agent = await fluentBit(output.plugin, output.settings(...hostPort(rig.distributor.url)));
      agent.write([...sent.slice(0, 500), "", ...sent.slice(500)]);
      await shipped(rig, agent, prefix, N);

      expect(rig.emptyMessages() - emptyBefore).toBe(1);
      expect(agent.output()).not.toMatch(/\[(error|warn)\]/);
      expectEachOnceByWeight(`Fluent Bit ${name}`, rig.messagesWith(prefix), sent, WEIGHTS);
    });
  });

  test("while every analyzer is down the distributor answers 503; Fluent Bit retries and all arrive once they are back", async () => {
    const prefix = "outage";
    const sent = agentLines(prefix, 200);
    await rig.faultAll({ down: true });
    let agent: Agent;
    try {
      await rig.untilAll(false);
      const rejected = (await rig.stats()).rejected;
      agent = await fluentBit(
        "http",
        `${http("Format json_lines\nRetry_Limit no_limits")(...hostPort(rig.distributor.url))}`,
        "scheduler.base 1\nscheduler.cap 2",
      );
      agent.write(sent);
      await eventually(async () => (await rig.stats()).rejected > rejected, "a 503 answered", POLLS);
      expect(rig.messagesWith(prefix).flat()).toEqual([]);
      await rig.faultAll({ down: false });
      await shipped(rig, agent, prefix, sent.length);
    } finally {
      await rig.faultAll({ down: false });
    }
    expect(agent.output()).toMatch(/HTTP status=503/);
    const delivered = rig.messagesWith(prefix).flat();
    expect(delivered.length).toBe(sent.length);
    expect(delivered.toSorted()).toEqual(sent.toSorted());
  });

  describe("a chunk the distributor refuses with 400 (more lines than MAX_PACKET)", () => {
    let strict: Service;
    beforeAll(async () => {
      strict = await rig.anotherDistributor({ MAX_PACKET: String(STRICT_MAX_PACKET) });
    });
    afterAll(() => strict?.stop());

    test("is dropped, not retried, and the lines after it still go", async () => {
      const prefix = "refused";
      const refused = agentLines(`${prefix} big`, 2 * STRICT_MAX_PACKET);
      const later = agentLines(`${prefix} small`, 3);
      const agent = await fluentBit(
        "http",
        http("Format json_lines\nRetry_Limit no_limits")(...hostPort(strict.url)),
        "scheduler.base 1\nscheduler.cap 2",
      );
      agent.write(refused);
      await agent.child.whileRunning(
        eventually(async () => (await distributorStats(strict.url)).invalid >= 1, "the 400", POLLS),
      );
      agent.write(later);
      await agent.child.whileRunning(
        eventually(() => rig.messagesWith(`${prefix} small`).flat().length === later.length, "the later lines", POLLS),
      );
      await agent.stop();

      expect((await distributorStats(strict.url)).invalid).toBe(1);
      expect(rig.messagesWith(`${prefix} big`).flat()).toEqual([]);
      expect(rig.messagesWith(`${prefix} small`).flat().toSorted()).toEqual(later.toSorted());
      expect(agent.output()).toMatch(/HTTP status=400[\s\S]*chunk will not be retried/);
    });
  });
  describe("over TLS: a distributor with TLS, and one that wants client certificates", () => {
    let certs: Certs;
    let tls: Service;
    let mtls: Service;
    beforeAll(async () => {
      certs = makeCerts();
      ({ tls, mtls } = await rig.tlsDistributors(certs));
    });
    afterAll(() => Promise.all([tls?.stop(), mtls?.stop()]));

    /** The http output to `url` (https), verifying the server against our CA; `client` adds a client certificate. */
    const overTls = (url: string, client: boolean) =>
      `${http("Format json_lines")(...hostPort(url))}
       tls On
       tls.verify On
       tls.ca_file ${certs.ca.cert}
       ${client ? `tls.crt_file ${certs.client.cert}\ntls.key_file ${certs.client.key}` : ""}`;

    test.each([
      ["TLS, the server verified", false],
      ["mTLS, with a client certificate", true],
    ])("%s: every line delivered once", async (name, client) => {
      const prefix = `tls ${name}`;
      const sent = agentLines(prefix, 300);
      const agent = await fluentBit("http", overTls(client ? mtls.url : tls.url, client));
      agent.write(sent);
      await shipped(rig, agent, prefix, sent.length);
      expect(rig.messagesWith(prefix).flat().toSorted()).toEqual(sent.toSorted());
    });

    // What it logs (5.1.1): the handshake refused ("tlsv13 alert certificate required"), the chunk
    // retried once (Retry_Limit's default), then "cannot be retried": dropped.
    test("mTLS without a client certificate: refused at both attempts, then dropped; nothing delivered", async () => {
      const prefix = "tls refused";
      const agent = await fluentBit("http", overTls(mtls.url, false), "scheduler.base 1\nscheduler.cap 2");
      agent.write(agentLines(prefix, 10));
      await agent.child.whileRunning(
        eventually(() => /cannot be retried/.test(agent.output()), "the chunk dropped", POLLS),
      );
      await agent.stop();
      expect(agent.output()).toMatch(/certificate required/);
      expect(rig.messagesWith(prefix).flat()).toEqual([]);
    });
  });
});
