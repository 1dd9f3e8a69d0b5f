import { describe, expect, test } from "bun:test";
import { parseWrk, wrkScript } from "./wrk.ts";

// wrk's own report followed by the line our done() prints (trimmed from a real run).
const OUTPUT = `Running 5s test @ http://127.0.0.1:6000/analyze
  1 threads and 64 connections
  57637 requests in 3.01s, 16.33MB read
Requests/sec:  19154.23
WRK_JSON {"requests":57637,"durationUs":3009101,"connect":1,"read":2,"write":3,"status":40,"timeout":4,"p50Us":2818.0,"p99Us":15877.5}
`;

describe("parseWrk", () => {
  test("reads the done() line: 2xx are the requests minus the status errors, times in ms", () => {
    expect(parseWrk(OUTPUT)).toEqual({
      elapsedMs: 3009.101,
      responses: 57637,
      ok: 57597,
      non2xx: 40,
      socketErrors: 10,
      p50Ms: 2.818,
      p99Ms: 15.8775,
      statusCodes: { "2xx": 57597, "non-2xx": 40 },
    });
  });

  test("a run that got no response has no percentiles", () => {
    const line =
      'WRK_JSON {"requests":0,"durationUs":1000000,"connect":64,"read":0,"write":0,"status":0,"timeout":0,"p50Us":0,"p99Us":0}';
    expect(parseWrk(line)).toMatchObject({ responses: 0, socketErrors: 64, p50Ms: null, p99Ms: null, statusCodes: {} });
  });

  test("output without the line (wrk failed) is an error", () => {
    expect(() => parseWrk("unable to connect to 127.0.0.1:1 Connection refused\n")).toThrow("no WRK_JSON line");
  });
});

describe("wrkScript", () => {
  test("POSTs the body file with its Content-Type; Prefer only as the spec asks", () => {
    const sync = wrkScript({
      bodyFile: "/tmp/b d/body-single.json",
      contentType: "application/json",
      async: false,
      minimal: false,
    });
    expect(sync).toContain('io.open("/tmp/b d/body-single.json", "rb")');
    expect(sync).toContain('wrk.method = "POST"');
    expect(sync).toContain('wrk.headers["Content-Type"] = "application/json"');
    expect(sync).not.toContain("Prefer");
    const async = wrkScript({ bodyFile: "/b", contentType: "application/json", async: true, minimal: false });
    expect(async).toContain('wrk.headers["Prefer"] = "respond-async"');
    const ndjson = wrkScript({
      bodyFile: "/b.ndjson",
      contentType: "application/x-ndjson",
      async: false,
      minimal: false,
    });
    expect(ndjson).toContain('wrk.headers["Content-Type"] = "application/x-ndjson"');
    const minimal = wrkScript({
      bodyFile: "/b.ndjson",
      contentType: "application/x-ndjson",
      async: false,
      minimal: true,
    });
    expect(minimal).toContain('wrk.headers["Prefer"] = "return=minimal"');
  });
});
