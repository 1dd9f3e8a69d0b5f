import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { BadRequestError } from "../../http/errors.ts";
import { messageOf } from "../record.ts";
import {
  type BulkAnswer,
  bulkFailure,
  bulkIndexOf,
  bulkResponse,
  type ClusterHealth,
  catHealth,
  clusterHealth,
  decodeBulk,
  ELASTICSEARCH_VERSION,
  type ElasticsearchInfo,
  type ElasticsearchLicense,
  elasticsearchInfo,
  elasticsearchLicense,
  wantsElasticsearchInfo,
} from "./bulk.ts";

const bytes = (text: string) => new TextEncoder().encode(text);
const ndjson = (...values: unknown[]) => bytes(`${values.map((v) => JSON.stringify(v)).join("\n")}\n`);
const clock =
  (...times: number[]) =>
  () =>
    times.shift()!;

function badRequest(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(BadRequestError);
    return (error as Error).message;
  }
  throw new Error("expected a BadRequestError");
}

describe("decodeBulk", () => {
  test("syslog-ng 3.38 elasticsearch-http(): its index action and rfc5424 JSON template, batched", () => {
    // The SCL block's body: $(format-json --scope none --omit-empty-values index._index=`index` ...)
    // then the template $(format-json --scope rfc5424 --exclude DATE --key ISODATE @timestamp=${ISODATE}).
    const doc = (message: string) => ({
      PROGRAM: "app",
      PRIORITY: "info",
      PID: "42",
      MESSAGE: message,
      HOST: "web-1",
      FACILITY: "user",
      "@timestamp": "2026-11-30T09:00:00+00:00",
    });
    const body = bytes(
      `{"index":{"_index":"logs"}}\n${JSON.stringify(doc('say "hi" \\ é'))}\n{"index":{"_index":"logs"}}\n${JSON.stringify(doc(""))}\n`,
    );
    const decoded = decodeBulk(body, "application/x-ndjson");
    const { MESSAGE: _, ...fields } = doc("");
    expect(decoded.records).toEqual([
      { message: 'say "hi" \\ é', fields: { ...fields, _index: "logs" } },
      { message: "", fields: { ...fields, _index: "logs" } },
    ]);
    expect(decoded.rejected).toBeUndefined();
    expect(decoded.items).toEqual([
      { action: "index", index: "logs", status: 201 },
      { action: "index", index: "logs", status: 201 },
    ]);
  });

  test("rsyslog 8.2302 omelasticsearch, bulkmode, esVersion.major 8: its index and create lines with StdJSONFmt", () => {
    // buildBatch(): META_STRT / META_STRT_CREATE + META_IX + index + META_ID + id + META_END, then the message.
    const doc = { message: " hello", fromhost: "web-1", facility: "user", priority: "info" };
    const body = bytes(
      `{"index":{"_index": "system"}}\n${JSON.stringify(doc)}\n{"create":{"_index": "system", "_id":"abc"}}\n${JSON.stringify(doc)}\n`,
    );
    const decoded = decodeBulk(body, "application/json; charset=utf-8");
    const { message: _, ...fields } = doc;
    expect(decoded.records).toEqual([
      { message: " hello", fields: { ...fields, _index: "system" } },
      { message: " hello", fields: { ...fields, _index: "system", _id: "abc" } },
    ]);
    expect(decoded.items.map((i) => [i.action, i.index, i.id])).toEqual([
      ["index", "system", undefined],
      ["create", "system", "abc"],
    ]);
  });

  test("an action without _index takes the index of the URL; a document with only a message stays a line", () => {
    const body = ndjson({ create: {} }, { msg: "one" }, { index: { _index: "other" } }, { log: "two" });
    expect(decodeBulk(body, "", { index: "from-url" }).records).toEqual([
      { message: "one", fields: { _index: "from-url" } },
      { message: "two", fields: { _index: "other" } },
    ]);
    expect(decodeBulk(ndjson({ create: {} }, { msg: "one" }), "").records).toEqual(["one"]);
    expect(decodeBulk(bytes('{"create":null}\n{"msg":"one"}'), "").records).toEqual(["one"]);
  });

  test("numbers as _id become strings", () => {
    const decoded = decodeBulk(ndjson({ index: { _id: 7 } }, { message: "m" }), "");
    expect(decoded.records).toEqual([{ message: "m", fields: { _id: "7" } }]);
    expect(decoded.items[0].id).toBe("7");
  });

  test("a document without a message, or not an object, or not JSON, is refused on its own with 400", () => {
    const body = bytes(
      [
        '{"index":{"_index":"a"}}',
        '{"message":"kept 1"}',
        '{"index":{"_index":"a","_id":"x"}}',
        '{"text":"no message key","message":5}',
        '{"index":{}}',
        '["an","array"]',
        '{"index":{}}',
        "{not json",
        '{"index":{}}',
        '{"message":"kept 2"}',
      ].join("\n"),
    );
    const decoded = decodeBulk(body, "");
    expect(decoded.records.map(messageOf)).toEqual(["kept 1", "kept 2"]);
    expect(decoded.items.map((i) => i.status)).toEqual([201, 400, 400, 400, 201]);
    expect(decoded.items[1]).toEqual({
      action: "index",
      index: "a",
      id: "x",
      status: 400,
      error: {
        type: "document_parsing_exception",
        reason:
          "line 4: the document has no message: give it one of log, message, msg, MESSAGE, short_message, body as a string",
      },
    });
    expect(decoded.items[2].error?.reason).toBe("line 6: the document must be a JSON object");
    expect(decoded.items[3].error?.reason).toStartWith("line 8: the document is not JSON (");
    expect(decoded.rejected).toEqual({ count: 3, reason: decoded.items[1].error!.reason });
  });

  test("update (and its document line) and delete are refused on their own: nothing is stored to change", () => {
    const decoded = decodeBulk(
      ndjson(
        { delete: { _index: "a", _id: "1" } },
        { update: { _index: "a", _id: "2" } },
        { doc: { message: "not a log record" } },
        { index: { _index: "a" } },
        { message: "kept" },
      ),
      "",
    );
    expect(decoded.records).toEqual([{ message: "kept", fields: { _index: "a" } }]);
    expect(decoded.items.map((i) => [i.action, i.id, i.status, i.error?.type])).toEqual([
      ["delete", "1", 400, "illegal_argument_exception"],
      ["update", "2", 400, "illegal_argument_exception"],
      ["index", undefined, 201, undefined],
    ]);
    expect(decoded.rejected?.count).toBe(2);
    expect(decoded.rejected?.reason).toBe(
      "delete is not taken: the distributor stores no documents, send log records with index or create",
    );
  });

  test("blank lines, CRLF line ends and a missing final newline are taken", () => {
    const body = bytes('\n{"index":{}}\r\n{"message":"a"}\r\n\n  \n{"create":{}}\n{"message":"b"}');
    expect(decodeBulk(body, "").records).toEqual(["a", "b"]);
  });

  test.each([
    ["", "empty bulk body"],
    ["\n\n", "empty bulk body"],
    ['{"index":{}', "line 1 is not a JSON action line"],
    ['{"message":"a document where an action belongs"}', "line 1: an action line is an object with one key"],
    ['{"index":{},"create":{}}\n{"message":"a"}', "line 1: an action line is an object with one key"],
    ['["index"]', "line 1: an action line is an object with one key"],
    ['{"index":"logs"}\n{"message":"a"}', "line 1: the index action's metadata must be an object"],
    ['{"index":{}}\n{"message":"a"}\n\n{"create":{}}\n', "line 4: the create action has no document line after it"],
    ['{"update":{"_id":"1"}}', "line 1: the update action has no document line after it"],
  ])("%j is a 400 for the whole body: %s", (body, reason) => {
    expect(badRequest(() => decodeBulk(bytes(body), ""))).toStartWith(reason);
  });

  test("every message comes back exactly, whatever its characters", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ unit: "grapheme" }), fc.option(fc.string())), { maxLength: 20 }),
        (docs) => {
          fc.pre(docs.length > 0);
          const lines = docs.flatMap(([message, id]) => [{ create: id === null ? {} : { _id: id } }, { message }]);
          const decoded = decodeBulk(ndjson(...lines), "");
          expect(decoded.records.map(messageOf)).toEqual(docs.map(([message]) => message));
          expect(decoded.items.map((i) => i.id ?? null)).toEqual(docs.map(([, id]) => id));
        },
      ),
    );
  });
});

describe("bulkResponse", () => {
  test("one item per action under its name, errors false, took from decoding to answering, the product header", async () => {
    const decoded = decodeBulk(
      ndjson({ index: { _index: "logs" } }, { message: "a" }, { create: { _id: "9" } }, { message: "b" }),
      "",
      {
        index: "dflt",
        now: clock(1000),
      },
    );
    const res = bulkResponse(decoded, clock(1012.4));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("application/json");
    expect(res.headers.get("x-elastic-product")).toBe("Elasticsearch");
    expect(await res.json()).toEqual({
      took: 12,
      errors: false,
      items: [
        { index: { _index: "logs", result: "created", status: 201 } },
        { create: { _index: "dflt", _id: "9", result: "created", status: 201 } },
      ],
    });
  });

  test("errors true and each refused item with its status and error, the rest created", async () => {
    const decoded = decodeBulk(
      ndjson({ index: {} }, { nope: 1 }, { index: {} }, { message: "ok" }, { delete: { _id: "3" } }),
      "",
      {
        now: clock(0),
      },
    );
    const body = (await bulkResponse(decoded, clock(0)).json()) as BulkAnswer;
    expect(body.errors).toBe(true);
    expect(body.items).toEqual([
      { index: { _index: "", status: 400, error: decoded.items[0].error } },
      { index: { _index: "", result: "created", status: 201 } },
      { delete: { _index: "", _id: "3", status: 400, error: decoded.items[2].error } },
    ]);
  });
});

describe("bulkFailure", () => {
  test("the error's status and headers, every accepted item failed with it under its own action, errors true", async () => {
    const decoded = decodeBulk(
      ndjson({ index: { _index: "logs" } }, { message: "a" }, { create: { _id: "9" } }, { message: "b" }),
      "",
      { index: "dflt", now: clock(1000) },
    );
    const res = bulkFailure(decoded, 503, "no healthy analyzer", { "retry-after": "1" }, clock(1003));
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(res.headers.get("content-type")).toStartWith("application/json");
    expect(res.headers.get("x-elastic-product")).toBe("Elasticsearch");
    const error = { type: "unavailable", reason: "no healthy analyzer" };
    expect(await res.json()).toEqual({
      took: 3,
      errors: true,
      items: [
        { index: { _index: "logs", status: 503, error } },
        { create: { _index: "dflt", _id: "9", status: 503, error } },
      ],
    });
  });

  test("items refused on their own keep their 400 and reason", async () => {
    const decoded = decodeBulk(
      ndjson({ index: {} }, { nope: 1 }, { create: {} }, { message: "ok" }, { delete: { _id: "3" } }),
      "",
      { now: clock(0) },
    );
    const body = (await bulkFailure(
      decoded,
      504,
      "2 of 2 messages failed: timeout",
      {},
      clock(0),
    ).json()) as BulkAnswer;
    expect(body.errors).toBe(true);
    expect(body.items).toEqual([
      { index: { _index: "", status: 400, error: decoded.items[0].error } },
      {
        create: {
          _index: "",
          status: 504,
          error: { type: "gateway_timeout", reason: "2 of 2 messages failed: timeout" },
        },
      },
      { delete: { _index: "", _id: "3", status: 400, error: decoded.items[2].error } },
    ]);
  });

  test.each([
    [502, "bad_gateway"],
    [503, "unavailable"],
    [504, "gateway_timeout"],
    [500, "server_error"],
  ])(
    "a %d item's error type is %s: rsyslog takes an item error without a type for a bad reply",
    async (status, type) => {
      const decoded = decodeBulk(ndjson({ index: {} }, { message: "a" }), "");
      const body = (await bulkFailure(decoded, status, "why").json()) as BulkAnswer;
      expect(body.items[0].index?.error?.type).toBe(type);
    },
  );
});

test.each([
  ["/_bulk", undefined],
  ["/logs/_bulk", "logs"],
  ["/logs-2026.11.30/_bulk/", "logs-2026.11.30"],
  ["/a%20b/_bulk", "a b"],
  ["/%E0%A4/_bulk", "%E0%A4"],
  ["/a/b/_bulk", undefined],
])("bulkIndexOf(%j) is %j", (path, index) => {
  expect(bulkIndexOf(path)).toBe(index);
});

describe("the probes", () => {
  test("GET / answers as Elasticsearch 8 with the product header", async () => {
    const res = elasticsearchInfo();
    expect(res.headers.get("x-elastic-product")).toBe("Elasticsearch");
    const body = (await res.json()) as ElasticsearchInfo;
    expect(body.version.number).toBe(ELASTICSEARCH_VERSION);
    expect(body.version.number).toStartWith("8.");
    expect(body.version.build_flavor).toBe("default");
    expect(body.tagline).toBe("You Know, for Search");
  });

  test.each([
    [null, true],
    ["", true],
    ["application/json", true],
    ["application/vnd.elasticsearch+json; compatible-with=8", true],
    ["*/*", false],
    ["text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false],
    ["text/html, application/json", false],
  ])("Accept %j is an Elasticsearch client's: %p", (accept, wants) => {
    expect(wantsElasticsearchInfo(accept)).toBe(wants);
  });

  test.each([
    [2, 2, "green", "100.0%"],
    [1, 2, "yellow", "50.0%"],
    [0, 2, "red", "0.0%"],
    [0, 0, "red", "0.0%"],
  ])("GET /_cat/health with %d of %d analyzers healthy is %s", async (healthy, total, status, percent) => {
    const res = catHealth(healthy, total, Date.UTC(2026, 10, 30, 9, 5, 7));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(
      `${Date.UTC(2026, 10, 30, 9, 5, 7) / 1000} 09:05:07 weighted-log-distributor ${status} ${total} ${healthy} 0 0 0 0 0 0 - ${percent}\n`,
    );
  });

  test.each([
    [3, 3, "green", 100],
    [1, 2, "yellow", 50],
    [0, 2, "red", 0],
    [0, 0, "red", 0],
  ])(
    "GET /_cluster/health with %d of %d analyzers healthy: 200 (Vector asks no more), status %s",
    async (healthy, total, status, percent) => {
      const res = clusterHealth(healthy, total);
      expect(res.status).toBe(200);
      expect(res.headers.get("x-elastic-product")).toBe("Elasticsearch");
      const body = (await res.json()) as ClusterHealth;
      expect(body).toMatchObject({ status, timed_out: false, number_of_nodes: total, number_of_data_nodes: healthy });
      expect(body.active_shards_percent_as_number).toBe(percent);
    },
  );

  test("GET /_license: an active basic license, what Filebeat's licenser accepts (type basic or better, status active)", async () => {
    const res = elasticsearchLicense();
    expect(res.status).toBe(200);
    expect(res.headers.get("x-elastic-product")).toBe("Elasticsearch");
    const { license } = (await res.json()) as ElasticsearchLicense;
    expect(license).toMatchObject({ status: "active", type: "basic" });
    expect(license.uid).toMatch(/^[0-9a-f-]{36}$/);
  });
});
