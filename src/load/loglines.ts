// Realistic, replayable log lines for load runs: the same random source yields the same lines.
// Four shapes seen in real fleets (plain text, key=value, JSON, nginx access log behind a
// syslog-style prefix), each with an ISO timestamp, a level, a service, ids, numbers and
// IPv4/IPv6 addresses, so analyzers get the variety they would in production.

import type { Random } from "../math/random.ts";

export type Level = "INFO" | "WARN" | "ERROR" | "DEBUG";

// Mostly INFO, errors rare — roughly what a healthy service emits.
const LEVELS: readonly (readonly [Level, number])[] = [
  ["INFO", 70],
  ["DEBUG", 15],
  ["WARN", 10],
  ["ERROR", 5],
];
const LEVEL_TOTAL = LEVELS.reduce((sum, [, weight]) => sum + weight, 0);

const SERVICES = ["auth", "checkout", "payments", "inventory", "search", "gateway", "billing", "notifications"];
const METHODS = ["GET", "GET", "GET", "POST", "PUT", "DELETE"];
// "{id}" is replaced by a number, as in REST paths.
const PATHS = [
  "/api/v1/orders/{id}",
  "/api/v1/users/{id}",
  "/api/v1/cart",
  "/api/v2/search?q=shoes&page={id}",
  "/healthz",
  "/static/app.js",
];
const AGENTS = ["curl/8.5.0", "Mozilla/5.0 (X11; Linux x86_64)", "okhttp/4.12.0", "Go-http-client/1.1"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

// A fixed start keeps lines identical across runs with the same seed; time then moves forward
// by up to 250 ms per line, as it would in a busy service.
const START_MS = Date.UTC(2025, 5, 1, 12, 0, 0);
const MAX_STEP_MS = 250;

const MESSAGES: Record<Level, readonly ((g: Pieces) => string)[]> = {
  INFO: [
    (g) => `request served user=${g.userId()} order=${g.orderId()} duration_ms=${g.int(1, 900)} client=${g.ip()}`,
    (g) => `login succeeded for user ${g.userId()} from ${g.ip()} session=${g.hex(16)}`,
    (g) => `cache refreshed keys=${g.int(10, 50_000)} took_ms=${g.int(1, 400)} node=${g.ipv4()}`,
  ],
  DEBUG: [
    (g) => `query plan chosen index=idx_${g.hex(6)} rows=${g.int(0, 10_000)} request_id=${g.uuid()}`,
    (g) => `connection pool stats active=${g.int(0, 64)} idle=${g.int(0, 64)} peer=${g.ipv6()}`,
  ],
  WARN: [
    (g) => `slow upstream ${g.ip()} latency_ms=${g.int(800, 5_000)} request_id=${g.uuid()}`,
    (g) => `retrying payment ${g.orderId()} attempt=${g.int(2, 5)} of 5 after timeout`,
    (g) => `rate limit near for client ${g.ip()}: ${g.int(900, 1_000)}/1000 requests`,
  ],
  ERROR: [
    (g) =>
      `charge failed for order ${g.orderId()} user=${g.userId()} amount=${g.int(1, 999)}.${g.int(10, 99)} code=E${g.int(1000, 9999)}`,
    (g) => `connection refused by ${g.ip()}:${g.int(1024, 65535)} after ${g.int(1, 30)} retries request_id=${g.uuid()}`,
    (g) =>
      `unhandled exception in worker ${g.int(1, 32)}: TypeError at handler.ts:${g.int(10, 900)} trace=${g.hex(16)}`,
  ],
};

type Pieces = {
  int(min: number, max: number): number;
  hex(length: number): string;
  uuid(): string;
  userId(): string;
  orderId(): string;
  ipv4(): string;
  ipv6(): string;
  ip(): string;
};

/** Returns a function producing one log line per call, determined entirely by `random`. */
export function createLogGenerator(random: Random): () => string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const hex = (length: number) => {
    let out = "";
    for (let i = 0; i < length; i++) out += "0123456789abcdef"[Math.floor(random() * 16)];
    return out;
  };
  const ipv4 = () => `${pick([10, 172, 192, 203])}.${int(0, 255)}.${int(0, 255)}.${int(1, 254)}`;
  const ipv6 = () => `2001:db8:${hex(4)}:${hex(4)}::${hex(4)}`;
  const pieces: Pieces = {
    int,
    hex,
    uuid: () => `${hex(8)}-${hex(4)}-4${hex(3)}-${pick(["8", "9", "a", "b"])}${hex(3)}-${hex(12)}`,
    userId: () => `u_${int(1, 99_999)}`,
    orderId: () => `ord_${hex(8)}`,
    ipv4,
    ipv6,
    // One address in four is IPv6, as on a dual-stack edge.
    ip: () => (random() < 0.25 ? ipv6() : ipv4()),
  };

  let clock = START_MS;
  const level = (): Level => {
    let roll = random() * LEVEL_TOTAL;
    for (const [name, weight] of LEVELS) {
      roll -= weight;
      if (roll < 0) return name;
    }
    return LEVELS[LEVELS.length - 1]![0];
  };

  const FORMATS: readonly ((time: number) => string)[] = [
    function plain(time) {
      const l = level();
      return `${iso(time)} ${l.padEnd(5)} [${pick(SERVICES)}] ${pick(MESSAGES[l])(pieces)}`;
    },
    function keyValue(time) {
      const l = level();
      return `ts=${iso(time)} level=${l.toLowerCase()} service=${pick(SERVICES)} msg="${pick(MESSAGES[l])(pieces)}"`;
    },
    function jsonLine(time) {
      const l = level();
      return JSON.stringify({
        ts: iso(time),
        level: l.toLowerCase(),
        service: pick(SERVICES),
        msg: pick(MESSAGES[l])(pieces),
        requestId: pieces.uuid(),
        host: ipv4(),
      });
    },
    function nginxAccess(time) {
      const status = pick([200, 200, 200, 200, 201, 204, 301, 304, 400, 404, 429, 500, 502, 503]);
      const l: Level = status >= 500 ? "ERROR" : status >= 400 ? "WARN" : "INFO";
      const path = pick(PATHS).replace("{id}", String(int(1, 99_999)));
      const seconds = (int(1, 3_000) / 1_000).toFixed(3);
      return (
        `${iso(time)} ${l} nginx[${pick(SERVICES)}]: ${pieces.ip()} - - [${clf(time)}] ` +
        `"${pick(METHODS)} ${path} HTTP/1.1" ${status} ${int(0, 65_536)} "-" "${pick(AGENTS)}" rt=${seconds}`
      );
    },
  ];

  return function nextLogLine() {
    clock += Math.floor(random() * MAX_STEP_MS);
    return pick(FORMATS)(clock);
  };
}

function iso(time: number): string {
  return new Date(time).toISOString();
}

/** Common Log Format time, as nginx writes it: 01/Jun/2025:12:00:00 +0000. */
function clf(time: number): string {
  const d = new Date(time);
  const two = (n: number) => String(n).padStart(2, "0");
  return (
    `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`
  );
}
