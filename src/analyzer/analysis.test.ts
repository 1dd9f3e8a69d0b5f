import { describe, expect, test } from "bun:test";
import type { Analysis, Level } from "./analysis.ts";
import { analyzeLine, analyzeRecord, MASK } from "./analysis.ts";

// Syslog lines carry no year; every test reads them on this day.
const DEC_1_2026 = () => new Date("2026-12-01T00:00:00Z");
const analyze = (line: string) => analyzeLine(line, { now: DEC_1_2026 });

type Expected = Pick<Analysis, "level" | "timestamp" | "ips">;

describe("level, timestamp and IPs of realistic lines", () => {
  const lines: [string, string, Expected][] = [
    [
      "nginx access (combined)",
      `10.0.0.1 - - [24/Nov/2026:19:46:28 +0000] "GET /api/v1/users/42 HTTP/1.1" 200 612 "-" "curl/8.5.0"`,
      { level: null, timestamp: "2026-11-24T19:46:28.000Z", ips: ["10.0.0.1"] },
    ],
    [
      "nginx access from an IPv6 client, zone +0100",
      `2001:db8::1 - alice [24/Nov/2026:20:46:28 +0100] "POST /login HTTP/2.0" 302 0 "-" "Mozilla/5.0"`,
      { level: null, timestamp: "2026-11-24T19:46:28.000Z", ips: ["2001:db8::1"] },
    ],
    [
      "nginx error",
      `2026/11/24 19:46:28 [error] 1234#0: *5 connect() failed (111: Connection refused) while connecting to upstream, client: 192.168.1.9, server: api.example.com, upstream: "http://127.0.0.1:8080/"`,
      { level: "ERROR", timestamp: "2026-11-24T19:46:28.000Z", ips: ["192.168.1.9", "127.0.0.1"] },
    ],
    [
      "Apache error log (ctime with a year, module-prefixed level)",
      `[Tue Nov 24 19:46:28.123456 2026] [core:error] [pid 35708:tid 4328636416] [client 72.15.99.187:56134] AH00037: Symbolic link not allowed`,
      { level: "ERROR", timestamp: "2026-11-24T19:46:28.123Z", ips: ["72.15.99.187"] },
    ],
    [
      "HAProxy via syslog: the CLF date, which has a year, wins over the syslog one",
      `Nov 24 19:46:29 lb1 haproxy[12]: 198.51.100.4:51234 [24/Nov/2026:19:46:28.001] fe be/srv1 0/0/1/2/3 200 512 - - ---- 1/1/0/0/0 0/0 "GET / HTTP/1.1"`,
      { level: null, timestamp: "2026-11-24T19:46:28.001Z", ips: ["198.51.100.4"] },
    ],
    [
      "syslog RFC 3164 without a level",
      `Nov 24 19:46:28 web-1 sshd[4242]: Failed password for root from 203.0.113.7 port 52144 ssh2`,
      { level: null, timestamp: "2026-11-24T19:46:28.000Z", ips: ["203.0.113.7"] },
    ],
    [
      "syslog with PRI 34 (auth.crit) and a space-padded day",
      `<34>Nov  4 09:05:01 mymachine su: 'su root' failed for lonvick on /dev/pts/8`,
      { level: "CRITICAL", timestamp: "2026-11-04T09:05:01.000Z", ips: [] },
    ],
    [
      "syslog RFC 5424 with PRI 165 (local4.notice)",
      `<165>1 2026-11-24T19:46:28.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"] An application event log entry`,
      { level: "NOTICE", timestamp: "2026-11-24T19:46:28.003Z", ips: [] },
    ],
    [
      "pino JSON with a numeric level and an IPv4-mapped IPv6 address",
      `{"level":30,"time":1764013588123,"pid":7,"hostname":"analyzer-2","msg":"request completed","remoteAddress":"::ffff:10.1.2.3"}`,
      { level: "INFO", timestamp: null, ips: ["::ffff:10.1.2.3"] },
    ],
    [
      "JSON with level warning and a fractional +01:00 timestamp",
      `{"ts":"2026-11-24T20:46:28.123456+01:00","level":"warning","logger":"billing","message":"retrying charge after connection error","attempt":2}`,
      { level: "WARN", timestamp: "2026-11-24T19:46:28.123Z", ips: [] },
    ],
    [
      "JSON whose message says ERROR while its level field says info",
      `{"level":"info","msg":"upstream said ERROR 503, retrying","time":"2026-11-24T19:46:28Z"}`,
      { level: "INFO", timestamp: "2026-11-24T19:46:28.000Z", ips: [] },
    ],
    [
      "Google Cloud JSON with severity",
      `{"severity":"ERROR","message":"payment declined","timestamp":"2026-11-24T19:46:28.5Z"}`,
      { level: "ERROR", timestamp: "2026-11-24T19:46:28.500Z", ips: [] },
    ],
    [
      "Java logback",
      `2026-11-24 19:46:28,123 ERROR [http-nio-8080-exec-3] c.e.shop.OrderService - Order 8812 failed for 10.20.30.40`,
      { level: "ERROR", timestamp: "2026-11-24T19:46:28.123Z", ips: ["10.20.30.40"] },
    ],
    [
      "Java stack frame",
      "\tat com.example.shop.OrderService.place(OrderService.java:88)",
      { level: null, timestamp: null, ips: [] },
    ],
    [
      "Java exception header",
      "java.lang.IllegalStateException: connection pool exhausted (max=50)",
      { level: null, timestamp: null, ips: [] },
    ],
    [
      "Python logging default format",
      "WARNING:root:disk usage at 91% on /var/lib/postgresql",
      { level: "WARN", timestamp: null, ips: [] },
    ],
    [
      "Python logging with asctime",
      "2026-11-24 19:46:28,123 - app.worker - INFO - processed 128 jobs in 3.2s",
      { level: "INFO", timestamp: "2026-11-24T19:46:28.123Z", ips: [] },
    ],
    ["Python traceback header", "Traceback (most recent call last):", { level: null, timestamp: null, ips: [] }],
    [
      "logfmt with a -05:00 zone",
      `time=2026-11-24T14:46:28-05:00 level=error msg="dial tcp 10.0.0.5:5432: connect: connection refused" service=api`,
      { level: "ERROR", timestamp: "2026-11-24T19:46:28.000Z", ips: ["10.0.0.5"] },
    ],
    [
      "log15 key=value with lvl=dbug",
      `t=2026-11-24T19:46:28+0000 lvl=dbug msg="cache miss" key=user:42`,
      { level: "DEBUG", timestamp: "2026-11-24T19:46:28.000Z", ips: [] },
    ],
    [
      "plain prose mentioning an error",
      "connection error while reading from upstream",
      { level: null, timestamp: null, ips: [] },
    ],
    [
      "plain INFO line mentioning an error",
      "INFO connection error on 10.0.0.1 recovered after 3 retries",
      { level: "INFO", timestamp: null, ips: ["10.0.0.1"] },
    ],
    [
      "Serilog console with a time only",
      "[19:46:28 WRN] Slow query took 1532 ms",
      { level: "WARN", timestamp: null, ips: [] },
    ],
    [
      "Go log with an IPv6 zone index",
      "2026/11/24 19:46:28 http: TLS handshake error from [fe80::1%eth0]:443: EOF",
      { level: null, timestamp: "2026-11-24T19:46:28.000Z", ips: ["fe80::1"] },
    ],
    [
      "epoch seconds with a fraction at line start",
      "1764013588.250 INFO heartbeat ok",
      { level: "INFO", timestamp: "2025-11-24T19:46:28.250Z", ips: [] },
    ],
    [
      "epoch milliseconds at line start",
      "1764013588250 DEBUG tick",
      { level: "DEBUG", timestamp: "2025-11-24T19:46:28.250Z", ips: [] },
    ],
    [
      "PostgreSQL with a UTC suffix and FATAL",
      `2026-11-24 19:46:28.123 UTC [4242] FATAL:  password authentication failed for user "app"`,
      { level: "FATAL", timestamp: "2026-11-24T19:46:28.123Z", ips: [] },
    ],
    [
      "lower-case bracketed level",
      "[warn] 2026-11-24T19:46:28Z low memory: 12% free",
      { level: "WARN", timestamp: "2026-11-24T19:46:28.000Z", ips: [] },
    ],
    [
      "Kubernetes klog (single-letter levels are not read)",
      "E1124 19:46:28.123456       1 reflector.go:138] Failed to watch *v1.Pod",
      { level: null, timestamp: null, ips: [] },
    ],
    [
      "a bare clock before the timestamp, a fraction of one digit",
      "job 12:00:00:00 done at 2026-11-24T19:46:28.5Z from 10.0.0.1:8080,10.0.0.2",
      { level: null, timestamp: "2026-11-24T19:46:28.500Z", ips: ["10.0.0.1", "10.0.0.2"] },
    ],
    [
      "a leap second rolls into the next minute",
      "2026-12-31T23:59:60Z INFO leap",
      { level: "INFO", timestamp: "2027-01-01T00:00:00.000Z", ips: [] },
    ],
    [
      "a UTC time that does not exist is no timestamp",
      "2026-02-30T10:00:00Z WARN odd clock",
      { level: "WARN", timestamp: null, ips: [] },
    ],
  ];

  test.each(lines)("%s", (_name, line, expected) => {
    const { level, timestamp, ips } = analyze(line);
    expect({ level, timestamp, ips }).toEqual(expected);
  });
});

describe("level", () => {
  const cases: [string, string, Level | null][] = [
    ["WARNING is WARN", "WARNING: low disk", "WARN"],
    ["CRIT is CRITICAL", "CRIT raid degraded", "CRITICAL"],
    ["FATAL is kept as FATAL", "FATAL cannot bind :8080", "FATAL"],
    ["PANIC is syslog's EMERG", "PANIC kernel stack overflow", "EMERG"],
    ["SEVERE is java.util.logging's ERROR", "SEVERE: servlet threw", "ERROR"],
    ["a bracketed level in any case", "[Error] lookup failed", "ERROR"],
    ["level= is case-insensitive", "Level=Notice msg=rotated", "NOTICE"],
    ["the first token wins", "[INFO] worker saw ERROR from peer", "INFO"],
    ["a level= field wins over an earlier token", "ERROR-prone step ok level=info", "INFO"],
    ["an unknown level= value falls through to the tokens", "level=high WARN pressure", "WARN"],
    ["a pino numeric level", `{"level":50,"msg":"boom"}`, "ERROR"],
    ["a bare number after an unquoted level is prose", "battery level: 30 percent", null],
    ["a level glued into an identifier is not a level", "ERR_CONNECTION_REFUSED", null],
    ["level=constructor does not find Object.prototype", "level=constructor", null],
    ["a lower-case bare word is prose", "warning: this is a test", null],
  ];
  test.each(cases)("%s", (_name, line, level) => {
    expect(analyze(line).level).toBe(level);
  });
});

describe("timestamp", () => {
  test("a syslog line from Dec 31 read just after New Year belongs to the year before", () => {
    const now = () => new Date("2027-01-01T00:00:05Z");
    expect(analyzeLine("Dec 31 23:59:59 host app: tick", { now }).timestamp).toBe("2026-12-31T23:59:59.000Z");
  });

  test("a syslog Feb 29 read in a year without one belongs to the leap year before", () => {
    const now = () => new Date("2025-01-10T00:00:00Z");
    expect(analyzeLine("Feb 29 12:00:00 host app: tick", { now }).timestamp).toBe("2024-02-29T12:00:00.000Z");
  });

  test.each([
    ["month 13", "2026-13-01T00:00:00Z"],
    ["April 31", "2026-04-31 10:00:00"],
    ["hour 24", "2026-11-24T24:00:00Z"],
    ["a zone of +25:00", "2026-11-24T10:00:00+25:00"],
    ["a date without a time", "released on 2026-11-24"],
    ["a time without a date", "took until 19:46:28"],
  ])("%s is not a timestamp", (_name, line) => {
    expect(analyze(line).timestamp).toBeNull();
  });

  test("the clock is read only for lines that need it, and must give a valid Date", () => {
    const now = () => new Date("not a date");
    const iso = analyzeLine("2026-11-24T19:46:28Z ok", { now }).timestamp;
    expect(iso).toBe("2026-11-24T19:46:28.000Z");
    expect(() => analyzeLine("Nov 24 19:46:28 host app: tick", { now })).toThrow(
      new RangeError("options.now() must return a valid Date, got Invalid Date"),
    );
  });
});

describe("IPv4", () => {
  test.each([
    ["999.1.1.1 has an octet over 255", "from 999.1.1.1", []],
    ["256.0.0.1 has an octet over 255", "from 256.0.0.1", []],
    ["1.2.3.256 has an octet over 255", "from 1.2.3.256", []],
    ["a three-part version is not an address", "upgraded to 1.2.3", []],
    ["a v-prefixed four-part version is not an address", "upgraded to v1.2.3.4", []],
    ["a five-part dotted run is not an address", "build 1.2.3.4.5", []],
    ["leading zeros are not read (could be octal)", "from 010.1.1.1", []],
    ["a full stop after an address ends the sentence", "from 10.0.0.1.", ["10.0.0.1"]],
    ["a port after an address", "dial 10.0.0.1:8080", ["10.0.0.1"]],
    ["a CIDR suffix after an address", "allow 10.1.0.0/16", ["10.1.0.0"]],
    ["both ends of the range", "0.0.0.0 to 255.255.255.255", ["0.0.0.0", "255.255.255.255"]],
    ["duplicates are removed, order kept", "10.0.0.2 > 10.0.0.1 > 10.0.0.2", ["10.0.0.2", "10.0.0.1"]],
  ])("%s", (_name, line, ips) => {
    expect(analyze(line).ips).toEqual(ips);
  });
});

describe("IPv6", () => {
  test.each([
    ["loopback", "connect ::1 port 5432", ["::1"]],
    ["link-local", "neighbour fe80::1 reachable", ["fe80::1"]],
    ["compressed in the middle", "peer 2001:db8::8a2e:370:7334 up", ["2001:db8::8a2e:370:7334"]],
    ["uncompressed", "peer 2001:db8:85a3:0:0:8a2e:370:7334", ["2001:db8:85a3:0:0:8a2e:370:7334"]],
    ["with leading zeros", "peer 2001:0db8::0370:7334", ["2001:0db8::0370:7334"]],
    ["the unspecified address in brackets with a port", "Listening on [::]:8080", ["::"]],
    ["bracketed with a port", "dial [2001:db8::1]:443", ["2001:db8::1"]],
    ["IPv4-mapped", "client ::ffff:192.0.2.128 accepted", ["::ffff:192.0.2.128"]],
    ["trailing compression", "route 2001:db8:: via eth0", ["2001:db8::"]],
    ["a time is not an address", "at 19:46:28 sharp", []],
    ["a MAC address is not an address", "hwaddr 00:1a:2b:3c:4d:5e", []],
    ["a C++ scope is not an address", "threw std::bad_alloc in Foo::bar", []],
    ["nine groups are too many", "id 1:2:3:4:5:6:7:8:9", []],
    ["two :: are ambiguous", "bad 2001:db8::1::2", []],
    ["a group of five hex digits is too long", "bad fe80::12345", []],
    ["an IPv4 tail with an octet over 255", "bad ::ffff:192.0.2.300", []],
  ])("%s", (_name, line, ips) => {
    expect(analyze(line).ips).toEqual(ips);
  });
});

describe("template", () => {
  test("lines from the same statement share one template", () => {
    const a = analyze("user 42 logged in from 10.0.0.1");
    const b = analyze("user 7 logged in from 192.168.1.9");
    expect(a.template).toBe(`user ${MASK} logged in from ${MASK}`);
    expect(b.template).toBe(a.template);
  });

  test.each([
    [
      "nginx access",
      `10.0.0.1 - - [24/Nov/2026:19:46:28 +0000] "GET /api/v1/users/42 HTTP/1.1" 200 612 "-" "curl/8.5.0"`,
      `2001:db8::7 - - [25/Nov/2026:01:02:03 -0800] "GET /api/v1/users/1337 HTTP/1.1" 404 17 "-" "curl/8.6.1"`,
    ],
    [
      "logback",
      "2026-11-24 19:46:28,123 ERROR [http-nio-8080-exec-3] c.e.shop.OrderService - Order 8812 failed for 10.20.30.40",
      "2026-11-25 07:00:01,999 ERROR [http-nio-8080-exec-12] c.e.shop.OrderService - Order 9 failed for 172.16.0.4",
    ],
    [
      "syslog",
      "Nov 24 19:46:28 web-1 sshd[4242]: Failed password for root from 203.0.113.7 port 52144 ssh2",
      "Dec  1 03:00:00 web-1 sshd[77]: Failed password for root from 198.51.100.20 port 60001 ssh2",
    ],
    [
      "ids",
      "job 3f2a9c1d-1234-4abc-8def-0123456789ab done in 0x1f ticks, trace=deadbeefcafe1234",
      "job 00000000-aaaa-4bbb-8ccc-ffffffffffff done in 0xA0 ticks, trace=0123456789abcdef",
    ],
  ])("two %s lines share a template", (_name, a, b) => {
    expect(analyze(a).template).toBe(analyze(b).template);
  });

  test.each([
    ["user 42 logged in", "user 42 logged out"],
    ["GET /users/1 200", "POST /users/1 200"],
    ["cache warm", "cache cold"],
  ])("%p and %p have different templates", (a, b) => {
    expect(analyze(a).template).not.toBe(analyze(b).template);
  });

  test.each([
    ["numbers, with a unit or not, and paths", "GET /users/42?page=3 in 12.5ms", `GET ${MASK}?page=${MASK} in ${MASK}`],
    ["numbers inside names stay", "sha256 of upload 7 via http2", `sha256 of upload ${MASK} via http2`],
    ["a timestamp is one mask", "backup of 2026-11-24T19:46:28.123+01:00 done", `backup of ${MASK} done`],
    ["the header is left out", "2026-11-24T19:46:28.123+01:00 ERROR [main] app.Server: start", "start"],
    ["an IPv6 address is one mask", "peer fe80::1 port 443", `peer ${MASK} port ${MASK}`],
    ["a CLF date keeps its brackets", "hit at [24/Nov/2026:19:46:28 +0000]", `hit at [${MASK} ${MASK}]`],
    ["an invalid IPv4 is masked as one number run", "from 999.1.1.1", `from ${MASK}`],
    ["words made of hex letters are kept when short", "added a bad face", "added a bad face"],
  ])("%s", (_name, line, template) => {
    expect(analyze(line).template).toBe(template);
  });
});

describe("edge cases", () => {
  test.each([
    ["empty", ""],
    ["a single space", " "],
    ["only tabs", "\t\t"],
  ])("an %s line finds nothing", (_name, line) => {
    const nothing = { level: null, timestamp: null, ips: [], templateId: 1, template: "", length: line.length };
    expect(analyze(line)).toEqual(nothing);
  });

  const MB = 1 << 20;
  const fill = (unit: string) => unit.repeat(Math.ceil(MB / unit.length)).slice(0, MB);
  test.each([
    ["a realistic line repeated", fill("user 42 from 10.0.0.1 at 2026-11-24T19:46:28Z level=x ")],
    ["digits and dots", fill("1.")],
    ["hex and colons", fill("a:")],
    ["colons", fill(":")],
    ["times", fill("19:46:28 ")],
    ["one hex run", fill("a")],
    ["unclosed brackets", fill("[a:")],
    ["level= without values", fill("level=")],
  ])("a 1 MB line of %s is analyzed and measured", (_name, line) => {
    const a = analyze(line);
    expect(a.length).toBe(MB);
    expect(a.length).toBe(line.length);
  });

  test("a 1 MB line keeps each IP once", () => {
    expect(analyze(fill("from 10.0.0.1 and ::1 ")).ips).toEqual(["10.0.0.1", "::1"]);
  });

  test("length counts UTF-16 code units, as String.length does", () => {
    expect(analyze("héllo 🙂").length).toBe(8);
  });
});

describe("arguments", () => {
  test("a line that is not a string is a TypeError that names its type", () => {
    const notStrings: unknown[] = [42, null];
    expect(() => analyzeLine(notStrings[0] as string)).toThrow(new TypeError("line must be a string, got number"));
    expect(() => analyzeLine(notStrings[1] as string)).toThrow(new TypeError("line must be a string, got null"));
  });

  test("a now that is not a function is a TypeError that names its type", () => {
    const options = { now: "2026-11-24" as unknown as () => Date };
    expect(() => analyzeLine("x", options)).toThrow(
      new TypeError("options.now must be a function returning a Date, got string"),
    );
  });

  test("without options the system clock supplies the syslog year", () => {
    const before = new Date().getUTCFullYear();
    const ts = analyzeLine("Jan  1 00:00:00 host app: tick").timestamp;
    const after = new Date().getUTCFullYear();
    // Jan 1 is never more than a day ahead, so it is always this year's (either year, at New Year).
    expect([`${before}-01-01T00:00:00.000Z`, `${after}-01-01T00:00:00.000Z`]).toContain(ts!);
  });
});

describe("a record's own time and level", () => {
  const LINE = "2024-05-01T12:00:00Z ERROR disk full on 10.0.0.1";
  const record = (fields: Record<string, unknown>, message = LINE) =>
    analyzeRecord({ message, fields }, { now: DEC_1_2026 });

  test("a plain line is analyzed as analyzeLine does", () => {
    expect(analyzeRecord(LINE, { now: DEC_1_2026 })).toEqual(analyze(LINE));
  });

  test("without time or level fields the text decides, and the rest of the analysis is the message's", () => {
    expect(record({ host: "web-1" })).toEqual(analyze(LINE));
  });

  test.each([
    ["level", "info", "INFO"],
    ["level", "Warning", "WARN"],
    ["level", 30, "INFO"], // pino
    ["level", "50", "ERROR"],
    ["log.level", "debug", "DEBUG"], // Elastic
    ["severity", "critical", "CRITICAL"],
    ["severityText", "WARN", "WARN"], // OpenTelemetry
    ["severity_text", "fatal", "FATAL"],
    ["levelname", "WARNING", "WARN"], // Python logging
    ["lvl", "dbug", "DEBUG"],
    ["loglevel", "notice", "NOTICE"],
    ["severityNumber", 9, "INFO"], // OpenTelemetry: 9-12
    ["severityNumber", 24, "FATAL"],
    ["severityNumber", 1, "TRACE"],
    ["PRIORITY", "3", "ERROR"], // journald: the syslog severity
    ["PRIORITY", 6, "INFO"],
  ] as const)("%s = %p supplies the level %s, over the text's", (key, value, level) => {
    expect(record({ [key]: value }).level).toBe(level);
  });

  test.each([
    ["level", "loud"],
    ["level", 35],
    ["severityNumber", 0],
    ["severityNumber", 25],
    ["PRIORITY", 8],
    ["level", ""],
    ["level", null],
    ["level", { name: "info" }],
  ] as const)("%s = %p is not a level: the text's ERROR stays", (key, value) => {
    expect(record({ [key]: value }).level).toBe("ERROR");
  });

  test("the first level field that reads as a level wins, in the documented order", () => {
    expect(record({ severity: "debug", level: "info" }).level).toBe("INFO");
    expect(record({ level: "loud", severity: "debug" }).level).toBe("DEBUG");
  });

  test.each([
    ["@timestamp", "2026-11-24T19:46:28.123Z", "2026-11-24T19:46:28.123Z"], // Elastic, Vector
    ["timestamp", "2026-11-24 19:46:28+01:00", "2026-11-24T18:46:28.000Z"],
    ["time", 1764013588123, "2025-11-24T19:46:28.123Z"], // pino: epoch ms
    ["date", 1764013588.5, "2025-11-24T19:46:28.500Z"], // Fluent Bit: epoch seconds, a double
    ["ts", "1764013588123456789", "2025-11-24T19:46:28.123Z"], // Loki: nanoseconds as a string
    ["timeUnixNano", "1764013588123456789", "2025-11-24T19:46:28.123Z"], // OpenTelemetry
    ["observedTimeUnixNano", "1764013588000000000", "2025-11-24T19:46:28.000Z"],
    ["time", 1764013588123456, "2025-11-24T19:46:28.123Z"], // microseconds
    ["time", "24/Nov/2026:19:46:28 +0000", "2026-11-24T19:46:28.000Z"], // a format the text parser reads
    ["time", "Nov 24 19:46:28", "2026-11-24T19:46:28.000Z"], // syslog: the year from the clock
  ] as const)("%s = %p supplies the time %s, over the text's", (key, value, timestamp) => {
    expect(record({ [key]: value }).timestamp).toBe(timestamp);
  });

  test.each([
    ["time", "yesterday"],
    ["time", ""],
    ["time", null],
    ["time", true],
    ["time", Number.NaN],
    ["time", 1e30],
  ] as const)("%s = %p is not a time: the text's stays", (key, value) => {
    expect(record({ [key]: value }).timestamp).toBe("2024-05-01T12:00:00.000Z");
  });

  test("a message with no time or level of its own gets them from its fields alone", () => {
    const a = record({ level: "warn", time: "2026-11-24T19:46:28Z" }, "disk almost full");
    expect(a).toMatchObject({ level: "WARN", timestamp: "2026-11-24T19:46:28.000Z", template: "disk almost full" });
  });
});
