import { describe, expect, test } from "bun:test";
import type { LoadSpec } from "./generator.ts";
import { hey, parseHey } from "./hey.ts";

// Trimmed from real hey runs.
const MIXED = `
Summary:
  Total:	3.0031 secs
  Slowest:	0.0221 secs
  Requests/sec:	14200.8457

Latency distribution:
  10% in 0.0023 secs
  50% in 0.0042 secs
  99% in 0.0106 secs

Details (average, fastest, slowest):
  DNS+dialup:	0.0000 secs, 0.0003 secs, 0.0221 secs

Status code distribution:
  [200]	42646 responses
  [502]	3 responses
  [503]	1 responses

Error distribution:
  [5]	Post "http://127.0.0.1:6100/analyze": EOF
  [2]	Post "http://127.0.0.1:6100/analyze": read tcp 127.0.0.1:40000->127.0.0.1:6100: read: connection reset by peer
`;

const REFUSED = `
Summary:
  Total:	0.0010 secs
  Average:	 NaN secs
  Requests/sec:	5816.8281

Response time histogram:


Latency distribution:

Details (average, fastest, slowest):
  DNS+dialup:	 NaN secs, 0.0000 secs, 0.0000 secs

Status code distribution:

Error distribution:
  [6]	Post "http://127.0.0.1:6999/analyze": dial tcp 127.0.0.1:6999: connect: connection refused
`;

// With few samples hey prints "0% in" where the 99% line should be.
const FEW = `
Summary:
  Total:	0.0075 secs

Latency distribution:
  50% in 0.0006 secs
  95% in 0.0024 secs
  0% in 0.0000 secs

Status code distribution:
  [400]	20 responses
`;

describe("parseHey", () => {
  test("statuses, socket errors and percentiles of a run with some failures", () => {
    expect(parseHey(MIXED)).toEqual({
      elapsedMs: 3003.1,
      responses: 42650,
      ok: 42646,
      non2xx: 4,
      socketErrors: 7,
      p50Ms: 4.2,
      p99Ms: 10.6,
      statusCodes: { "200": 42646, "502": 3, "503": 1 },
    });
  });

  test("a run where every connection was refused", () => {
    expect(parseHey(REFUSED)).toMatchObject({ responses: 0, ok: 0, socketErrors: 6, p50Ms: null, p99Ms: null });
  });

  test("a missing percentile line reads as null, not 0", () => {
    expect(parseHey(FEW)).toMatchObject({ ok: 0, non2xx: 20, p50Ms: 0.6, p99Ms: null });
  });

  test("output without a summary is an error", () => {
    expect(() => parseHey("flag provided but not defined: -x\n")).toThrow('no "Total: … secs" line');
  });
});

describe("hey.command", () => {
  const spec = (contentType: string, async = false, minimal = false): LoadSpec => ({
    url: "http://127.0.0.1:6000/analyze",
    durationMs: 1500,
    connections: 8,
    body: "{}",
    bodyFile: "/tmp/body",
    contentType,
    packet: 1,
    async,
    minimal,
    dir: "/tmp",
  });

  test("POSTs the body file with the body's Content-Type; Prefer only as the spec asks", async () => {
    const argv = await hey.command(spec("application/x-ndjson"));
    expect(argv.join(" ")).toContain("-m POST -T application/x-ndjson");
    expect(argv.slice(-3)).toEqual(["-D", "/tmp/body", "http://127.0.0.1:6000/analyze"]);
    expect(argv).not.toContain("Prefer: respond-async");
    expect(await hey.command(spec("application/json", true))).toContain("Prefer: respond-async");
    expect(await hey.command(spec("application/x-ndjson", false, true))).toContain("Prefer: return=minimal");
  });
});
