// What an analyzer finds in one log line: its level, its timestamp, the IP addresses in it, and
// the template it joins (src/analyzer/miner.ts), so that lines printed by one statement group
// together. This runs once per message on the benchmark's hot path, so every regex is compiled once
// at module load, and each keeps backtracking bounded per position (no nested or overlapping
// quantifiers): a hostile 1 MB line costs a few linear scans, not a quadratic blow-up.

import type { Analysis, Level } from "../protocol/analysis.ts";
import type { LogRecord } from "../protocol/record.ts";
import { headerLength, maskedTokens } from "./masking.ts";
import { TemplateMiner } from "./miner.ts";

export { MASK } from "./masking.ts";
export type { Analysis, Level };

export type AnalyzeOptions = {
  /** Clock for syslog timestamps, which carry no year. Defaults to the system clock. */
  now?: () => Date;
  /** The templates learnt so far, which the line joins or adds to. Without one the line is mined
   * alone: its template is its message masked, its templateId 1. */
  miner?: TemplateMiner;
};

const DAY_MS = 86_400_000;

// ---------------------------------------------------------------------------------------------
// Levels

// A Map, not an object literal: a line saying `level=constructor` must not find Object.prototype.
// FATAL stays FATAL rather than folding into CRITICAL: log4j, logback, pino, zap and Go's log.Fatal
// use it to say "the process is about to exit", which is a different fact from syslog's "critical
// condition". PANIC is syslog's old name for EMERG. SEVERE is java.util.logging's ERROR. The
// three-letter forms are Serilog's and zerolog's; DBUG and EROR are log15's.
const LEVEL_ALIASES = new Map<string, Level>([
  ["TRACE", "TRACE"],
  ["TRC", "TRACE"],
  ["VERBOSE", "TRACE"],
  ["VRB", "TRACE"],
  ["DEBUG", "DEBUG"],
  ["DBG", "DEBUG"],
  ["DBUG", "DEBUG"],
  ["INFO", "INFO"],
  ["INF", "INFO"],
  ["NOTICE", "NOTICE"],
  ["WARN", "WARN"],
  ["WARNING", "WARN"],
  ["WRN", "WARN"],
  ["ERROR", "ERROR"],
  ["ERR", "ERROR"],
  ["EROR", "ERROR"],
  ["SEVERE", "ERROR"],
  ["CRITICAL", "CRITICAL"],
  ["CRIT", "CRITICAL"],
  ["ALERT", "ALERT"],
  ["EMERG", "EMERG"],
  ["EMERGENCY", "EMERG"],
  ["PANIC", "EMERG"],
  ["FATAL", "FATAL"],
  ["FTL", "FATAL"],
]);

// pino and bunyan write the level as a number.
const NUMERIC_LEVELS = new Map<string, Level>([
  ["10", "TRACE"],
  ["20", "DEBUG"],
  ["30", "INFO"],
  ["40", "WARN"],
  ["50", "ERROR"],
  ["60", "FATAL"],
]);

// Syslog PRI is facility * 8 + severity; severity 0..7 from most to least severe.
const SYSLOG_SEVERITIES: readonly Level[] = ["EMERG", "ALERT", "CRITICAL", "ERROR", "WARN", "NOTICE", "INFO", "DEBUG"];

// `level=warn`, `"level": "info"`, `"severity":"ERROR"`, `log.level: debug`, `levelname='WARNING'`.
// Group 1 is the quote closing a JSON key: a bare number counts only there (`"level":30`), so that
// prose like "battery level: 30" is not read as INFO.
const LEVEL_FIELD = /\b(?:log[._]?)?(?:level(?:name)?|lvl|severity)(["']?)\s*[:=]\s*["']?([A-Za-z]+|\d+)/gi;

const SYSLOG_PRI = /^<(\d{1,3})>/;

// Level words longest first, so that WARNING is tried before WARN.
const LEVEL_WORDS = [...LEVEL_ALIASES.keys()].sort((a, b) => b.length - a.length);
const anyCase = (word: string) => word.replace(/[A-Z]/g, (c) => `[${c}${c.toLowerCase()}]`);

// A level token is either bracketed in any case (`[error]`, `[WARN]`, Apache's `[core:error]`) or a
// bare upper-case word (`ERROR`, `WARNING:root:`). Bare lower-case words are prose ("connection
// error"), not levels. One regex for both forms, so the first token in the line wins in one pass.
const LEVEL_TOKEN = new RegExp(
  `\\[(?:[\\w.-]*:)?\\s*(${LEVEL_WORDS.map(anyCase).join("|")})\\s*\\]` + `|\\b(${LEVEL_WORDS.join("|")})\\b`,
);

// Explicit fields win (a JSON line's "level" is the truth even when its message says ERROR), then
// the syslog PRI, then the first level token in the line.
function findLevel(line: string): Level | null {
  LEVEL_FIELD.lastIndex = 0;
  for (let m = LEVEL_FIELD.exec(line); m !== null; m = LEVEL_FIELD.exec(line)) {
    const [, keyQuote, value] = m;
    const numeric = isDigit(value.charCodeAt(0));
    if (numeric && keyQuote === "") continue;
    const level = numeric ? NUMERIC_LEVELS.get(value) : LEVEL_ALIASES.get(value.toUpperCase());
    if (level !== undefined) return level;
  }
  const pri = SYSLOG_PRI.exec(line);
  if (pri !== null) {
    const n = Number(pri[1]);
    if (n <= 191) return SYSLOG_SEVERITIES[n & 7];
  }
  const token = LEVEL_TOKEN.exec(line);
  if (token === null) return null;
  return LEVEL_ALIASES.get((token[1] ?? token[2]).toUpperCase()) ?? null;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

// ---------------------------------------------------------------------------------------------
// Timestamps

const MONTH_NAMES = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec";
const MONTHS = new Map(MONTH_NAMES.split("|").map((name, i) => [name, i + 1]));

// 2026-11-24T19:46:28Z, 2026-11-24 19:46:28,123, 2026/11/24 19:46:28 (nginx, Go), with an optional
// zone: Z, +01:00, +0100, +01, " -0500" (git), " UTC" (PostgreSQL). No zone means UTC.
const ISO_TIMESTAMP =
  /\b(\d{4})[-/](\d{2})[-/](\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?([Zz]|[+-]\d{2}(?::?\d{2})?|\s[+-]\d{2}:?\d{2}|\s(?:UTC|GMT))?(?!\d)/g;

// Apache/nginx access logs (CLF): 24/Nov/2026:19:46:28 +0000, HAProxy adds milliseconds.
const CLF_TIMESTAMP = new RegExp(
  `\\b(\\d{1,2})/(${MONTH_NAMES})/(\\d{4}):(\\d{2}):(\\d{2}):(\\d{2})` +
    `(?:\\.(\\d{1,9}))?(?:\\s([+-]\\d{4}))?(?!\\d)`,
  "g",
);

// Syslog (RFC 3164) "Nov  4 19:46:28", and ctime as in Apache's error log, which adds a fraction
// and a year: "Tue Nov 24 19:46:28.123456 2026".
const SYSLOG_TIMESTAMP = new RegExp(
  `\\b(${MONTH_NAMES})\\s{1,2}(\\d{1,2})\\s(\\d{2}):(\\d{2}):(\\d{2})(?:\\.(\\d{1,9}))?(?:\\s(\\d{4}))?(?!\\d)`,
  "g",
);

// Epoch seconds (optionally fractional) or milliseconds, only at the very start of the line:
// anywhere else a 10-digit number is more likely an id than a time.
const EPOCH_TIMESTAMP = /^(?:(\d{13})|(\d{10})(?:\.(\d{1,9}))?)(?![\w.])/;

function findTimestamp(line: string, now: () => Date): string | null {
  // Every format but epoch's has a clock (hh:mm:ss) at most CLOCK_LEAD characters into it, so none
  // starts before the first clock's lead: the search starts there, and is skipped without a clock.
  const clock = firstClock(line);
  if (clock >= 0) {
    const from = Math.max(0, clock - CLOCK_LEAD);
    // Formats that carry a year are tried before syslog's, which does not.
    const text = fromIso(line, from) ?? fromClf(line, from) ?? fromSyslog(line, from, now);
    if (text !== null) return text;
  }
  return isoText(fromEpoch(line));
}

// The longest text before the hour: CLF's "24/Nov/2026:" (ISO's "2026-11-24T" is 11, syslog's
// "Nov  4 " 7).
const CLOCK_LEAD = 12;

/** Where the first hh:mm:ss (two digits each) starts in the line, or -1. */
function firstClock(line: string): number {
  for (let i = line.indexOf(":"); i >= 0; i = line.indexOf(":", i + 1)) {
    if (
      i >= 2 &&
      isDigit(line.charCodeAt(i - 2)) &&
      isDigit(line.charCodeAt(i - 1)) &&
      isDigit(line.charCodeAt(i + 1)) &&
      isDigit(line.charCodeAt(i + 2)) &&
      line.charCodeAt(i + 3) === 58 &&
      isDigit(line.charCodeAt(i + 4)) &&
      isDigit(line.charCodeAt(i + 5))
    ) {
      return i - 2;
    }
  }
  return -1;
}

function fromIso(line: string, from: number): string | null {
  ISO_TIMESTAMP.lastIndex = from;
  const m = ISO_TIMESTAMP.exec(line);
  if (m === null) return null;
  const [, year, month, day, hour, minute, second, fraction, zone] = m;
  const offset = zoneMinutes(zone);
  if (offset !== 0 || second === "60") {
    return isoText(utcMillis(+year, +month, +day, +hour, +minute, +second, fraction, offset));
  }
  // Already UTC: the text is the line's own digits, which costs a fraction of building a Date.
  if (!isWallClock(digits(year), digits(month), digits(day), digits(hour), digits(minute), digits(second), 0)) {
    return null;
  }
  const millis = fraction === undefined ? "000" : fraction.length >= 3 ? fraction.slice(0, 3) : fraction.padEnd(3, "0");
  return `${year}-${month}-${day}T${hour}:${minute}:${second}.${millis}Z`;
}

/** The number a short run of ASCII digits spells, without the cost of Number(). */
function digits(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) n = n * 10 + text.charCodeAt(i) - 48;
  return n;
}

const isoText = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function fromClf(line: string, from: number): string | null {
  CLF_TIMESTAMP.lastIndex = from;
  const m = CLF_TIMESTAMP.exec(line);
  if (m === null) return null;
  return isoText(utcMillis(+m[3], MONTHS.get(m[2])!, +m[1], +m[4], +m[5], +m[6], m[7], zoneMinutes(m[8])));
}

function fromSyslog(line: string, from: number, now: () => Date): string | null {
  SYSLOG_TIMESTAMP.lastIndex = from;
  const m = SYSLOG_TIMESTAMP.exec(line);
  if (m === null) return null;
  const month = MONTHS.get(m[1])!;
  const at = (year: number) => utcMillis(year, month, +m[2], +m[3], +m[4], +m[5], m[6], 0);
  if (m[7] !== undefined) return isoText(at(+m[7]));

  // No year: take the clock's. A line from Dec 31 read on Jan 1 would then land almost a year in
  // the future (and Feb 29 may not exist this year), so fall back to last year. The day of slack
  // covers the zone the line was written in, which syslog does not say either; it is read as UTC.
  const clock = now();
  const nowMs = clock instanceof Date ? clock.getTime() : Number.NaN;
  if (Number.isNaN(nowMs)) {
    throw new RangeError(`options.now() must return a valid Date, got ${String(clock)}`);
  }
  const year = clock.getUTCFullYear();
  const thisYear = at(year);
  return isoText(thisYear !== null && thisYear <= nowMs + DAY_MS ? thisYear : at(year - 1));
}

function fromEpoch(line: string): number | null {
  const m = EPOCH_TIMESTAMP.exec(line);
  if (m === null) return null;
  if (m[1] !== undefined) return Number(m[1]);
  return Number(m[2]) * 1000 + fractionMillis(m[3]);
}

/** Minutes east of UTC for a zone suffix; NaN for an impossible offset. */
function zoneMinutes(zone: string | undefined): number {
  if (zone === undefined) return 0;
  const z = zone.trim();
  if (z === "Z" || z === "z" || z === "UTC" || z === "GMT") return 0;
  const hours = Number(z.slice(1, 3));
  const minutes = z.length > 3 ? Number(z.slice(-2)) : 0;
  if (hours > 23 || minutes > 59) return Number.NaN;
  return (z[0] === "-" ? -1 : 1) * (hours * 60 + minutes);
}

function fractionMillis(fraction: string | undefined): number {
  if (fraction === undefined) return 0;
  return Number(fraction.length >= 3 ? fraction.slice(0, 3) : fraction.padEnd(3, "0"));
}

/** Epoch ms for a wall-clock time `offset` minutes east of UTC; null if there is no such time. */
function utcMillis(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  fraction: string | undefined,
  offset: number,
): number | null {
  if (!isWallClock(year, month, day, hour, minute, second, offset)) return null;
  const local = Date.UTC(year, month - 1, day, hour, minute, second, fractionMillis(fraction));
  return local - offset * 60_000;
}

function isWallClock(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  offset: number,
): boolean {
  // Date.UTC maps years 0..99 to 1900..1999; no log line is that old anyway.
  if (year < 1000 || month < 1 || month > 12) return false;
  if (day < 1 || day > daysInMonth(year, month)) return false;
  // Second 60 is a leap second; Date rolls it into the next minute, which is as close as it gets.
  return hour <= 23 && minute <= 59 && second <= 60 && !Number.isNaN(offset);
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

// ---------------------------------------------------------------------------------------------
// IP addresses

// An octet is 0..255 without leading zeros (010 could mean octal 8; it is not taken as an address).
const OCTET = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const IPV4_EXACT = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);
const HEX_GROUP = "[0-9A-Fa-f]{0,4}";
const HEX_DIGITS = /^[0-9A-Fa-f]{1,4}$/;

// IPv4: four octets, not part of a longer dotted run (1.2.3.4.5) nor glued to a word (v1.2.3.4).
// A trailing "." is allowed: "from 10.0.0.1." ends a sentence.
// IPv6 candidates: up to 9 colon-separated hex groups, optionally ending in a dotted IPv4 tail;
// each repetition starts with ":", which no group can contain, so the split is unambiguous.
// Candidates such as times (19:46:28) and MACs are then rejected by isIPv6.
const IP_CANDIDATE = new RegExp(
  `(?<![\\w.])${OCTET}(?:\\.${OCTET}){3}(?!\\w|\\.\\d)` +
    `|(?<![\\w:.])${HEX_GROUP}(?::${HEX_GROUP}){2,8}(?:(?:\\.\\d{1,3}){3})?(?![\\w:]|\\.\\d)`,
  "g",
);

/** Whether a string of hex groups, colons and dots (as IP_CANDIDATE matches) is an IPv6 address. */
function isIPv6(candidate: string): boolean {
  let s = candidate;
  if (s.includes(".")) {
    // An embedded IPv4 tail (::ffff:192.0.2.1) stands for the last two groups.
    const cut = s.lastIndexOf(":");
    if (!IPV4_EXACT.test(s.slice(cut + 1))) return false;
    s = `${s.slice(0, cut + 1)}0:0`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return false;
  if (halves.length === 1) return countGroups(s) === 8;
  const head = halves[0] === "" ? 0 : countGroups(halves[0]);
  const tail = halves[1] === "" ? 0 : countGroups(halves[1]);
  // "::" stands for at least one zero group.
  return head >= 0 && tail >= 0 && head + tail <= 7;
}

/** Number of colon-separated groups, or -1 if one is empty or longer than 4 hex digits. */
function countGroups(s: string): number {
  const groups = s.split(":");
  for (const g of groups) {
    if (!HEX_DIGITS.test(g)) return -1;
  }
  return groups.length;
}

/**
 * The IPs in the tokens, in order of first appearance, without duplicates. An address holds no
 * whitespace and the regex's lookarounds see none of it as part of one, so searching each
 * whitespace-separated token finds what searching the line would; only tokens with three dots or
 * two colons can hold one (maskedTokens' ipTokens).
 */
function findIps(tokens: readonly string[]): string[] {
  if (tokens.length === 0) return [];
  const seen = new Set<string>();
  for (const token of tokens) {
    IP_CANDIDATE.lastIndex = 0;
    for (let m = IP_CANDIDATE.exec(token); m !== null; m = IP_CANDIDATE.exec(token)) {
      const text = m[0];
      if (!text.includes(":") || isIPv6(text)) seen.add(text);
      // Not an address (a time, a MAC); an IPv4 may still start inside it, after a colon.
      else IP_CANDIDATE.lastIndex = m.index + 1;
    }
  }
  return seen.size === 0 ? [] : [...seen];
}

// ---------------------------------------------------------------------------------------------

const systemNow = () => new Date();

// ---------------------------------------------------------------------------------------------
// A record's own fields (src/protocol/record.ts)

// An agent that parsed a line already knows its time and level: those fields are the truth, and
// the text is only searched when they are missing or unreadable. The names are those the agents
// this project takes send: Elastic (@timestamp, log.level), Vector (timestamp), Fluent Bit (date,
// or time), pino and bunyan (time, level as a number), Loki and Go's zap and slog (ts, level),
// Python's logging (levelname), OpenTelemetry (timeUnixNano, observedTimeUnixNano, severityText,
// severityNumber), journald (PRIORITY, the syslog severity). The first field present that reads as
// a time (or a level) wins. docs/api.md lists them.
export const TIME_FIELDS = [
  "@timestamp",
  "timestamp",
  "time",
  "ts",
  "date",
  "timeUnixNano",
  "observedTimeUnixNano",
] as const;
export const LEVEL_FIELDS = [
  "level",
  "log.level",
  "severity",
  "severityText",
  "severity_text",
  "levelname",
  "lvl",
  "loglevel",
  "severityNumber",
  "PRIORITY",
] as const;

// OpenTelemetry's SeverityNumber: 1-4 TRACE, 5-8 DEBUG, 9-12 INFO, 13-16 WARN, 17-20 ERROR, 21-24 FATAL.
const OTEL_SEVERITIES: readonly Level[] = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];

function levelOfField(key: string, value: unknown): Level | null {
  const text = typeof value === "number" ? String(value) : typeof value === "string" ? value.trim() : null;
  if (text === null || text === "") return null;
  if (!/^\d+$/.test(text)) return LEVEL_ALIASES.get(text.toUpperCase()) ?? null;
  const n = Number(text);
  if (key === "severityNumber") return n >= 1 && n <= 24 ? OTEL_SEVERITIES[(n - 1) >> 2] : null;
  if (key === "PRIORITY") return n <= 7 ? SYSLOG_SEVERITIES[n] : null;
  return NUMERIC_LEVELS.get(text) ?? null;
}

/** Epoch ms from a number of seconds, milliseconds, microseconds or nanoseconds, told apart by size. */
function epochMillis(n: number): number {
  const abs = Math.abs(n);
  if (abs < 1e11) return n * 1000;
  if (abs < 1e14) return n;
  if (abs < 1e17) return n / 1000;
  return n / 1e6;
}

function timeOfField(value: unknown, now: () => Date): string | null {
  let ms: number | null = null;
  if (typeof value === "number") ms = epochMillis(value);
  else if (typeof value === "string") {
    // OpenTelemetry and Loki send nanoseconds as a decimal string.
    ms = /^\d+(?:\.\d+)?$/.test(value) ? epochMillis(Number(value)) : null;
    if (ms === null) return findTimestamp(value, now);
  }
  if (ms === null || !Number.isFinite(ms)) return null;
  const date = new Date(Math.floor(ms));
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** The analysis of a record: its message's, with the time and level its fields supply, if they do. */
export function analyzeRecord(record: LogRecord, options: AnalyzeOptions = {}): Analysis {
  if (typeof record === "string") return analyzeLine(record, options);
  const { message, fields } = record;
  const now = clockOf(options);
  let level: Level | null = null;
  for (const key of LEVEL_FIELDS) {
    if (!Object.hasOwn(fields, key)) continue;
    level = levelOfField(key, fields[key]);
    if (level !== null) break;
  }
  let timestamp: string | null = null;
  for (const key of TIME_FIELDS) {
    if (!Object.hasOwn(fields, key)) continue;
    timestamp = timeOfField(fields[key], now);
    if (timestamp !== null) break;
  }
  return analyze(message, level ?? findLevel(message), timestamp ?? findTimestamp(message, now), options.miner);
}

// ---------------------------------------------------------------------------------------------

export function analyzeLine(line: string, options: AnalyzeOptions = {}): Analysis {
  if (typeof line !== "string") {
    throw new TypeError(`line must be a string, got ${line === null ? "null" : typeof line}`);
  }
  return analyze(line, findLevel(line), findTimestamp(line, clockOf(options)), options.miner);
}

function clockOf(options: AnalyzeOptions): () => Date {
  const now = options.now ?? systemNow;
  if (typeof now !== "function") {
    throw new TypeError(`options.now must be a function returning a Date, got ${typeof now}`);
  }
  return now;
}

function analyze(line: string, level: Level | null, timestamp: string | null, miner?: TemplateMiner): Analysis {
  // The header (time, host, level, component) is told by the fields above; the template is the message's.
  const ipTokens: string[] = [];
  const tokens = maskedTokens(line, ipTokens);
  const joined = (miner ?? new TemplateMiner({ maxTemplates: 1 })).add(tokens.slice(headerLength(tokens)), level);
  return {
    level,
    timestamp,
    ips: findIps(ipTokens),
    templateId: joined.id,
    template: joined.template,
    length: line.length,
  };
}
