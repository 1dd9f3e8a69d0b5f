// Elasticsearch's _bulk and Loki's push through a real distributor and three real analyzers, with
// bodies as the agents send them (each test says whose, and where that comes from). What each
// analyzer analyzed comes from its audit file (AUDIT_FILE: one JSON-encoded message per line):
// every message exactly once, and the split by weight.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import protobuf from "protobufjs";
import { compress } from "snappyjs";
import type {
  BulkAnswer,
  ClusterHealth,
  ElasticsearchInfo,
  ElasticsearchLicense,
} from "../src/protocol/formats/bulk.ts";
import type { AnalyzerStats } from "../src/protocol/stats.ts";
import { Rig } from "../testkit/faults.ts";
import { eventually, getJson } from "../testkit/http.ts";
import { fitsWeights } from "../testkit/shares.ts";

setDefaultTimeout(60_000); // see test/setup.ts

const WEIGHTS = [1, 2, 3];
/** Messages per client: enough for the chi-square to tell a 1:2:3 split from a wrong one. */
const N = 1000;

let rig: Rig;

beforeAll(async () => {
  rig = await Rig.start(WEIGHTS);
}, 60_000);

afterAll(async () => {
  await rig?.stop();
});

/** `n` unique messages starting with `prefix`: quotes, backslashes, UTF-8, a tab, one of 8 KB. */
function messages(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) =>
    i === 7 ? `${prefix} ${i} ${"8 KB line ".repeat(820)}` : `${prefix} ${i} say "hi" \\ to ünïcödé ✓ \t tab`,
  );
}

/** Every sent message delivered exactly once, and the counts per analyzer fit the weights. */
function expectDelivered(prefix: string, sent: readonly string[]): void {
  const perAnalyzer = rig.messagesWith(prefix);
  const delivered = perAnalyzer.flat();
  expect(delivered.length).toBe(sent.length); // no duplicates
  expect(delivered.toSorted()).toEqual(sent.toSorted()); // nothing lost, nothing else
  const counts = perAnalyzer.map((m) => m.length);
  const fit = fitsWeights(counts, WEIGHTS);
  expect(fit.ok, `counts ${counts} for weights ${WEIGHTS}: p = ${fit.pValue}`).toBe(true);
}

function post(path: string, body: Uint8Array | string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${rig.distributor.url}${path}`, { method: "POST", body, headers });
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  return Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));
}

async function levels(): Promise<Record<string, number>> {
  const total: Record<string, number> = {};
  for (const a of rig.analyzers) {
    const stats = await getJson<AnalyzerStats>(`${a.url}/stats`);
    for (const [level, n] of Object.entries(stats.byLevel)) total[level] = (total[level] ?? 0) + n;
  }
  return total;
}

describe("Elasticsearch _bulk", () => {
  // syslog-ng 3.38's scl/elasticsearch/elastic-http.conf: http() with batch_lines(100), headers
  // "Content-Type: application/x-ndjson", body $(format-json index._index=... ) "\n" and the template
  // $(format-json --scope rfc5424 --exclude DATE --key ISODATE @timestamp=${ISODATE}); batched
  // bodies are joined by "\n" and end with body_suffix("\n").
  function syslogNgBody(lines: readonly string[]): string {
    const entry = (message: string) =>
      `{"index":{"_index":"syslog"}}\n${JSON.stringify({
        PROGRAM: "app",
        PRIORITY: "warning",
        PID: "4242",
        MESSAGE: message,
        HOST: "web-1",
        FACILITY: "user",
        "@timestamp": "2026-11-30T09:00:00+00:00",
      })}`;
    return `${lines.map(entry).join("\n")}\n`;
  }

  // rsyslog 8.2302's omelasticsearch, bulkmode="on" esVersion.major="8": buildBatch() writes
  // {"index":{"_index": "<searchIndex>"}} (or {"create":{"_index": "...", "_id":"<bulkid>"}} with
  // writeoperation="create") and the StdJSONFmt template, POSTed to <server>/_bulk with
  // "Content-Type: application/json; charset=utf-8".
  function rsyslogBody(lines: readonly string[], first: number): string {
    return lines
      .map((message, i) => {
        const doc = JSON.stringify({
          message,
          fromhost: "web-1",
          facility: "user",
          priority: "err",
          timereported: "2026-11-30T09:00:00.000000+00:00",
          timegenerated: "2026-11-30T09:00:00.000000+00:00",
        });
        return `{"create":{"_index": "system", "_id":"${first + i}"}}\n${doc}\n`;
      })
      .join("");
  }

  test("syslog-ng elasticsearch-http() batches: every message once, split by weight, one 201 item per action, PRIORITY as the level", async () => {
    const prefix = "bulk syslog-ng";
    const sent = messages(prefix, N);
    const before = await levels();
    for (const batch of chunks(sent, 100)) {
      const res = await post("/_bulk", syslogNgBody(batch), { "content-type": "application/x-ndjson" });
      expect(res.status).toBe(200);
      expect(res.headers.get("x-elastic-product")).toBe("Elasticsearch");
      const answer = (await res.json()) as BulkAnswer;
      expect(answer.errors).toBe(false);
      expect(answer.items).toHaveLength(batch.length);
      expect(answer.items.every((item) => item.index?.status === 201 && item.index._index === "syslog")).toBe(true);
    }
    expectDelivered(prefix, sent);
    // PRIORITY, syslog-ng's severity, is the level: the text names none.
    expect((await levels()).WARN - (before.WARN ?? 0)).toBe(N);
  });

  test("rsyslog omelasticsearch create actions with ids: every message once, split by weight", async () => {
    const prefix = "bulk rsyslog";
    const sent = messages(prefix, N);
    const before = await levels();
    for (const [k, batch] of chunks(sent, 250).entries()) {
      const res = await post("/_bulk", rsyslogBody(batch, k * 250), {
        "content-type": "application/json; charset=utf-8",
      });
      expect(res.status).toBe(200);
      const answer = (await res.json()) as BulkAnswer;
      expect(answer.errors).toBe(false);
      expect(answer.items.map((item) => item.create?._id)).toEqual(batch.map((_, i) => String(k * 250 + i)));
    }
    expectDelivered(prefix, sent);
    // "priority" is not a level field the analyzer knows: each level comes from the text (none names one).
    const after = await levels();
    expect((after.ERROR ?? 0) - (before.ERROR ?? 0)).toBe(0);
  });

  test("POST /<index>/_bulk, gzip-encoded as Filebeat sends it; a document without a message is refused on its own", async () => {
    const prefix = "bulk filebeat";
    const sent = messages(prefix, 10);
    const before = await rig.stats();
    const lines: object[] = sent.flatMap((message) => [
      { create: {} },
      { "@timestamp": "2026-11-30T09:00:00Z", message },
    ]);
    lines.splice(4, 0, { create: {} }, { "@timestamp": "2026-11-30T09:00:00Z", text: "no message field" });
    const body = gzipSync(`${lines.map((line) => JSON.stringify(line)).join("\n")}\n`);
    const res = await post("/filebeat-8.19.0/_bulk", body, {
      "content-type": "application/json",
      "content-encoding": "gzip",
    });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as BulkAnswer;
    expect(answer.errors).toBe(true);
    expect(answer.items.map((item) => item.create?.status)).toEqual([201, 201, 400, ...Array(8).fill(201)]);
    expect(answer.items.every((item) => item.create?._index === "filebeat-8.19.0")).toBe(true);
    expectDelivered(prefix, sent);
    // The refused document shows in /stats and /metrics; the request was not invalid.
    const after = await rig.stats();
    expect(after.invalidMessages - before.invalidMessages).toBe(1);
    expect(after.invalid).toBe(before.invalid);
    const metrics = await (await fetch(`${rig.distributor.url}/metrics`)).text();
    expect(metrics).toContain(`\ndistributor_messages_invalid_total ${after.invalidMessages}\n`);
  });

  test("a body that is not a bulk body is a 400 with a reason", async () => {
    const res = await post("/_bulk", '{"message":"a document without its action"}\n', {
      "content-type": "application/x-ndjson",
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toStartWith("line 1: an action line is an object");
  });

  test("with every analyzer down: 503 + Retry-After with a bulk reply, one failed item per action under its verb, the refused one still 400; sent again after recovery, delivered once", async () => {
    const prefix = "bulk outage";
    const sent = messages(prefix, 3);
    const lines: object[] = [
      { index: { _index: "logs" } },
      { message: sent[0] },
      { create: { _index: "logs", _id: "c1" } },
      { message: sent[1] },
      { create: { _index: "logs", _id: "c2" } },
      { text: "no message field" },
      { index: {} },
      { message: sent[2] },
    ];
    const body = `${lines.map((line) => JSON.stringify(line)).join("\n")}\n`;
    await rig.faultAll({ down: true });
    let res: Response;
    try {
      await rig.untilAll(false);
      res = await post("/_bulk", body, { "content-type": "application/json" });
    } finally {
      await rig.faultAll({ down: false });
    }
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(res.headers.get("x-elastic-product")).toBe("Elasticsearch");
    expect(res.headers.get("content-type")).toStartWith("application/json");
    const answer = (await res.json()) as BulkAnswer;
    expect(answer.errors).toBe(true);
    const unavailable = { type: "unavailable", reason: "no healthy analyzer" };
    expect(answer.items).toEqual([
      { index: { _index: "logs", status: 503, error: unavailable } },
      { create: { _index: "logs", _id: "c1", status: 503, error: unavailable } },
      { create: { _index: "logs", _id: "c2", status: 400, error: expect.any(Object) } },
      { index: { _index: "", status: 503, error: unavailable } },
    ]);
    expect(rig.messagesWith(prefix).flat()).toEqual([]);

    await rig.untilAll(true);
    const again = await post("/_bulk", body, { "content-type": "application/json" });
    expect(again.status).toBe(200);
    expect(((await again.json()) as BulkAnswer).items.map((item) => (item.index ?? item.create)?.status)).toEqual([
      201, 201, 400, 201,
    ]);
    expect(rig.messagesWith(prefix).flat().toSorted()).toEqual(sent.toSorted());
  });

  test("the probes: GET /_cat/health (rsyslog, on resuming), GET / as Elasticsearch for JSON clients, the dashboard for people", async () => {
    const health = await fetch(`${rig.distributor.url}/_cat/health`);
    expect(health.status).toBe(200);
    expect(await health.text()).toMatch(/^\d+ \d\d:\d\d:\d\d weighted-log-distributor green 3 3 /);

    const info = await fetch(`${rig.distributor.url}/`, { headers: { accept: "application/json" } });
    expect(info.headers.get("x-elastic-product")).toBe("Elasticsearch");
    expect(((await info.json()) as ElasticsearchInfo).version.number).toStartWith("8.");

    const page = await fetch(`${rig.distributor.url}/`);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
  });

  test("the other clients' probes: GET /_cluster/health (Vector), GET /_license (Filebeat, Logstash), HEAD / (Logstash)", async () => {
    const url = rig.distributor.url;
    // Vector's health check: a 200 is all it needs; the colour follows the analyzers.
    const health = await fetch(`${url}/_cluster/health`);
    expect(health.status).toBe(200);
    expect(health.headers.get("x-elastic-product")).toBe("Elasticsearch");
    expect(await health.json()).toMatchObject({ status: "green", number_of_nodes: 3, number_of_data_nodes: 3 });

    // Filebeat's licenser: GET /_license?human=false with Accept: application/json.
    const license = await fetch(`${url}/_license?human=false`, { headers: { accept: "application/json" } });
    expect(license.status).toBe(200);
    expect(((await license.json()) as ElasticsearchLicense).license).toMatchObject({ status: "active", type: "basic" });

    // Logstash's health check: HEAD on its healthcheck_path, / by default; then GET / for the version.
    const head = await fetch(`${url}/`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");

    expect((await fetch(`${url}/_cluster/health`, { method: "POST" })).status).toBe(405);

    await rig.fault(0, { down: true });
    await eventually(
      async () => ((await (await fetch(`${url}/_cluster/health`)).json()) as ClusterHealth).status === "yellow",
      "yellow",
    );
    await rig.fault(0, { down: false });
    await rig.untilAll(true);
  });
});

describe("Loki push", () => {
  // The push body in Loki's own push.proto (the vendored copy the distributor reads), encoded by a
  // protobufjs of the test's own, then snappy-compressed: what Promtail's and Alloy's clients send.
  function promtailBody(streams: { labels: string; entries: { ns: bigint; line: string }[] }[]): Uint8Array {
    const root = new protobuf.Root();
    root.addJSON(protobuf.common.get("google/protobuf/timestamp.proto")!.nested!);
    protobuf.parse(readFileSync(join(import.meta.dir, "../src/protocol/formats/loki-proto/push.proto"), "utf8"), root);
    const type = root.resolveAll().lookupType("logproto.PushRequest");
    const request = type.fromObject({
      streams: streams.map((s) => ({
        labels: s.labels,
        entries: s.entries.map((e) => ({
          timestamp: { seconds: Number(e.ns / 1_000_000_000n), nanos: Number(e.ns % 1_000_000_000n) },
          line: e.line,
        })),
      })),
    });
    return compress(type.encode(request).finish());
  }

  test("Promtail's snappy protobuf: every line once, split by weight, its level label analyzed; 204", async () => {
    const prefix = "loki promtail";
    const sent = messages(prefix, N);
    const before = await levels();
    for (const [k, batch] of chunks(sent, 200).entries()) {
      const half = batch.length / 2;
      const body = promtailBody([
        {
          labels: '{job="varlogs", level="warning", filename="/var/log/app.log"}',
          entries: batch.slice(0, half).map((line, i) => ({ ns: 1764493200000000000n + BigInt(k * 200 + i), line })),
        },
        {
          labels: '{job="varlogs", level="error", filename="/var/log/\\"odd\\".log"}',
          entries: batch.slice(half).map((line, i) => ({ ns: 1764493300000000000n + BigInt(k * 200 + i), line })),
        },
      ]);
      const res = await post("/loki/api/v1/push", body, { "content-type": "application/x-protobuf" });
      expect(res.status).toBe(204);
    }
    expectDelivered(prefix, sent);
    const after = await levels();
    expect((after.WARN ?? 0) - (before.WARN ?? 0)).toBe(N / 2);
    expect((after.ERROR ?? 0) - (before.ERROR ?? 0)).toBe(N / 2);
  });

  test("JSON, plain and gzip (Vector's compression = gzip), an empty line too", async () => {
    const prefix = "loki json";
    const sent = [...messages(prefix, 300), ""];
    const json = (lines: readonly string[]) =>
      JSON.stringify({
        streams: [
          { stream: { app: "api" }, values: lines.map((line, i) => [`${1764493200000000000n + BigInt(i)}`, line]) },
        ],
      });
    const plain = await post("/loki/api/v1/push", json(sent.slice(0, 150)), { "content-type": "application/json" });
    expect(plain.status).toBe(204);
    const zipped = await post("/loki/api/v1/push", gzipSync(json(sent.slice(150))), {
      "content-type": "application/json",
      "content-encoding": "gzip",
    });
    expect(zipped.status).toBe(204);
    const delivered = rig.messagesWith(prefix).flat();
    expect(delivered.toSorted()).toEqual(sent.slice(0, -1).toSorted());
    // The empty line starts with no prefix: it is found as the one empty message among everything audited.
    const empties = rig
      .messages()
      .flat()
      .filter((m) => m === "");
    expect(empties).toHaveLength(1);
  });

  test("a body that is neither JSON nor snappy protobuf is a 400 with a reason", async () => {
    const res = await post("/loki/api/v1/push", '{"streams": []}', { "content-type": "text/plain" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toStartWith(
      "body is not snappy-compressed protobuf (it looks like JSON: send Content-Type: application/json)",
    );
  });
});
