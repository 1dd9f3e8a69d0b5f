// POST /analyze's generic bodies end to end: a real distributor in front of three real analyzers
// (weights 1:2:3), each writing what it analyzed to its audit file. Every body form an agent sends
// (a JSON array, NDJSON, json_stream, text lines, Fluent Bit's msgpack, gzip, zstd, snappy) carries unique
// messages with quotes, backslashes, UTF-8 and an 8 KB one; the audit files must then hold exactly
// the messages sent, each once, split by weight (chi-square), and each answer must say how many
// were analyzed or, asked for them, hold every message's analysis in order, with the level a
// record's fields supplied.

import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { encode } from "@msgpack/msgpack";
import { compress as snappyCompress } from "snappyjs";
import { Rig } from "../testkit/faults.ts";
import { eventually } from "../testkit/http.ts";
import { fitsWeights } from "../testkit/shares.ts";

setDefaultTimeout(60_000); // see test/setup.ts

const WEIGHTS = [1, 2, 3];
/** Messages per body; each form sends BODIES of them. */
const PER_BODY = 50;
const BODIES = 12;
const LEVELS = ["info", "warn", "error", "debug"] as const;

let rig: Rig;
beforeAll(async () => {
  rig = await Rig.start(WEIGHTS, { MAX_PACKET: String(PER_BODY) });
});
afterAll(() => rig.stop());

/** Message i of a form: unique, with the characters agents trip over; the 8th of each body is 8 KB. */
function message(form: string, i: number): string {
  const kinds = [
    `${form} ${i} said "hello" and 'bye'`,
    `${form} ${i} path C:\\logs\\app.log and \\" escaped`,
    `${form} ${i} ünïcödé ✓ 日本語 🚀`,
    `${form} ${i} GET /api?x=1 200 {"json": [1, 2]}`,
  ];
  return i % PER_BODY === 7 ? `${form} ${i} ${"8 KB line ".repeat(820)}` : kinds[i % kinds.length];
}

type Form = {
  name: string;
  contentType: string;
  contentEncoding?: string;
  /** The body carrying `messages`, the i-th with level LEVELS[i % 4] where the form has fields. */
  body(messages: string[]): string | Uint8Array;
  /** Whether the level comes from a field (the messages' text names none). */
  fields: boolean;
};

const objects = (messages: string[]) =>
  messages.map((message, i) => ({ message, level: LEVELS[i % LEVELS.length], host: "web-1" }));

const FORMS: Form[] = [
  { name: "array-of-strings", contentType: "application/json", fields: false, body: (m) => JSON.stringify(m) },
  // Vector `codec json` + `framing array`; winston's Http transport with batching.
  { name: "array-of-objects", contentType: "application/json", fields: true, body: (m) => JSON.stringify(objects(m)) },
  // Vector's ndjson, Fluent Bit json_lines.
  {
    name: "ndjson",
    contentType: "application/x-ndjson",
    fields: true,
    body: (m) =>
      `${objects(m)
        .map((o) => JSON.stringify(o))
        .join("\n")}\n`,
  },
  // Fluent Bit json_stream: objects apart by a space, sent as application/json.
  {
    name: "json-stream",
    contentType: "application/json",
    fields: true,
    body: (m) =>
      objects(m)
        .map((o) => JSON.stringify(o))
        .join(" "),
  },
  // syslog-ng http() with its default Content-Type; an empty line between messages is not one.
  {
    name: "text",
    contentType: "application/x-www-form-urlencoded",
    fields: false,
    body: (m) => `${m.join("\n\n")}\n`,
  },
  // Fluent Bit's default: [[EventTime-ish, {}], map] events back to back.
  {
    name: "msgpack",
    contentType: "application/msgpack",
    fields: true,
    body: (m) => concat(objects(m).map((o, i) => encode([[1764013588 + i, {}], { log: o.message, level: o.level }]))),
  },
  // Fluent Bit's `compress gzip|zstd|snappy`, Vector's `compression`.
  ...(
    [
      ["gzip", (b: Uint8Array) => gzipSync(b)],
      ["zstd", (b: Uint8Array) => zstdCompressSync(b)],
      ["snappy", (b: Uint8Array) => snappyCompress(b)],
    ] as const
  ).map(
    ([coding, compress]): Form => ({
      name: `ndjson-${coding}`,
      contentType: "application/x-ndjson",
      contentEncoding: coding,
      fields: true,
      body: (m) =>
        compress(
          new TextEncoder().encode(
            objects(m)
              .map((o) => JSON.stringify(o))
              .join("\n"),
          ),
        ),
    }),
  ),
];

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Each analyzer's audited messages. */
function audited(): string[][] {
  return rig.messages();
}

type Answer = { results: { analyzer: string; result: { level: string | null; length: number } }[] };

describe.each(FORMS)("$name", (form) => {
  test("every message arrives exactly once, split by weight; answered how many, or each analysis in order when asked", async () => {
    const sent: string[] = [];
    for (let b = 0; b < BODIES; b++) {
      const messages = Array.from({ length: PER_BODY }, (_, i) => message(form.name, b * PER_BODY + i));
      sent.push(...messages);
      // Every other body asks for the analyses; the others get an agent's default, the count.
      const full = b % 2 === 0;
      const headers: Record<string, string> = { "content-type": form.contentType };
      if (form.contentEncoding) headers["content-encoding"] = form.contentEncoding;
      if (full) headers.prefer = "return=representation";
      const res = await fetch(`${rig.distributor.url}/analyze`, { method: "POST", headers, body: form.body(messages) });
      expect(res.status).toBe(200);
      if (!full) {
        expect(await res.json()).toEqual({ analyzed: PER_BODY });
        continue;
      }
      const { results } = (await res.json()) as Answer;
      expect(results.map((r) => r.result.length)).toEqual(messages.map((m) => m.length));
      const levels = results.map((r) => r.result.level);
      if (form.fields) expect(levels).toEqual(messages.map((_, i) => LEVELS[i % LEVELS.length].toUpperCase()));
      else expect(levels.every((l) => l === null)).toBe(true);
    }
    const perAnalyzer = audited().map((messages) => messages.filter((m) => m.startsWith(`${form.name} `)));
    const delivered = perAnalyzer.flat();
    expect(delivered.length).toBe(sent.length); // nothing duplicated
    expect(new Set(delivered)).toEqual(new Set(sent)); // nothing lost, nothing changed
    const counts = perAnalyzer.map((m) => m.length);
    const fit = fitsWeights(counts, WEIGHTS);
    expect(fit.ok, `counts ${counts.join(",")}, p = ${fit.pValue}`).toBe(true);
  });
});

test("Prefer: respond-async: 202 once queued, and every message arrives", async () => {
  const messages = Array.from({ length: PER_BODY }, (_, i) => message("async-ndjson", i));
  const res = await fetch(`${rig.distributor.url}/analyze`, {
    method: "POST",
    headers: { "content-type": "application/x-ndjson", prefer: "respond-async" },
    body: FORMS[2].body(messages),
  });
  expect(res.status).toBe(202);
  expect(await res.json()).toEqual({ accepted: PER_BODY });
  const arrived = () =>
    audited()
      .flat()
      .filter((m) => m.startsWith("async-ndjson "));
  await eventually(() => arrived().length === PER_BODY, "every async message audited");
  expect(new Set(arrived())).toEqual(new Set(messages));
});

test.each([
  ["a JSON array", "application/json", (lines: string[]) => `[${lines.join(",")}]`, {}],
  [
    "NDJSON with Prefer: respond-async",
    "application/x-ndjson",
    (lines: string[]) => `${lines.join("\n")}\n`,
    {
      prefer: "respond-async",
    },
  ],
])(
  "%s with one bad record is refused whole with a 400 naming it, and nothing of it arrives",
  async (_, contentType, make, headers) => {
    const tag = `refused-${contentType.slice(12)}-${Object.keys(headers).length}`;
    const body = make([`{"message":"${tag} 1"}`, '{"lvl":"info"}', `{"message":"${tag} 3"}`]);
    const res = await fetch(`${rig.distributor.url}/analyze`, {
      method: "POST",
      headers: { "content-type": contentType, ...headers },
      body,
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/^(value 2|\[1\]) has no message/);
    const settled = await rig.settled();
    expect(settled.received).toBe(settled.delivered + settled.failed);
    expect(
      audited()
        .flat()
        .filter((m) => m.startsWith(tag)),
    ).toEqual([]);
  },
);

// A waiting client's NDJSON goes to the analyzers line by line, unparsed (docs/design.md): the
// analyzer refuses a bad line alone, as OTLP and _bulk refuse a record, and the others arrive.
test.each([
  ["each message's outcome, asked with Prefer: return=representation", "return=representation"],
  ["how many and why, by default", undefined],
])(
  "a waiting client's NDJSON with one bad line: that line refused (400: %s), the others analyzed",
  async (_, prefer) => {
    const before = await rig.stats();
    const tag = `lone-bad-${prefer ?? "default"}`;
    const body = `{"message":"${tag} 1"}\n{"lvl":"info"}\n{"message":"${tag} 3"}\n`;
    const res = await fetch(`${rig.distributor.url}/analyze`, {
      method: "POST",
      headers: { "content-type": "application/x-ndjson", ...(prefer && { prefer }) },
      body,
    });
    expect(res.status).toBe(400);
    const answer = (await res.json()) as { error: string; results?: Record<string, unknown>[] };
    expect(answer.error).toStartWith("1 of 3 messages failed: message 2: the line has no message");
    if (prefer) {
      expect(answer.results![0]).toHaveProperty("analyzer");
      expect(answer.results![1]).toEqual({ status: 400, error: expect.stringContaining("the line has no message") });
      expect(answer.results![2]).toHaveProperty("analyzer");
    } else expect(Object.keys(answer)).toEqual(["error"]);
    const settled = await rig.settled();
    expect(settled.failed - before.failed).toBe(1);
    expect(settled.invalidMessages - before.invalidMessages).toBe(1); // refused on its own
    expect(settled.invalid).toBe(before.invalid); // the request was not malformed
    expect(
      audited()
        .flat()
        .filter((m) => m.startsWith(`${tag} `))
        .sort(),
    ).toEqual([`${tag} 1`, `${tag} 3`]);
  },
);

test("more messages than MAX_PACKET in any form: 400, nothing queued", async () => {
  const lines = Array.from({ length: PER_BODY + 1 }, (_, i) => `over ${i}`).join("\n");
  const res = await fetch(`${rig.distributor.url}/analyze`, { method: "POST", body: lines });
  expect(res.status).toBe(400);
  expect(((await res.json()) as { error: string }).error).toBe(
    `${PER_BODY + 1} messages in one request, more than MAX_PACKET (${PER_BODY}): split it`,
  );
});
