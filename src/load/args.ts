// Command-line flags for load_tester.ts, in the style of oha and hey. Parsed by hand so every
// mistake gets one precise line naming the flag and the value received.

import { parseDuration } from "./duration.ts";

export type LoadOptions = {
  url: string;
  /** Stop after this many requests; undefined when only a duration bounds the run. */
  requests: number | undefined;
  concurrency: number;
  /** Stop starting requests after this long. */
  durationMs: number | undefined;
  /** Total requests per second, open loop; undefined means closed loop (send as fast as answered). */
  rate: number | undefined;
  /** Logs per request: 1 sends {"log": ...}, more sends {"logs": [...]}. */
  packet: number;
  async: boolean;
  json: boolean;
  seed: number;
  timeoutMs: number;
  /** Extra request headers from -H, in the order given; a name may repeat. */
  headers: [name: string, value: string][];
  /** For https:// URLs, as curl's flags: files are read by the caller (src/load/tls.ts). */
  tls: TlsFlags;
};

export type TlsFlags = {
  /** --cacert: trust the CAs in this PEM file (instead of the system's). */
  caFile: string | undefined;
  /** --cert and --key: present this client certificate (mTLS). */
  certFile: string | undefined;
  keyFile: string | undefined;
  /** -k: do not verify the server's certificate. */
  insecure: boolean;
};

export type ParsedArgs = { kind: "help" } | { kind: "run"; options: LoadOptions };

export const DEFAULT_URL = "http://localhost:6000/analyze";
export const DEFAULT_REQUESTS = 500;
export const DEFAULT_CONCURRENCY = 50;
export const DEFAULT_TIMEOUT = "20s";

/** A mistake on the command line: the message is one line, shown above the usage text. */
export class UsageError extends Error {
  override name = "UsageError";
}

export const USAGE = `Usage: bun load_tester.ts [flags] [url]

Sends generated log lines to the distributor and reports latency, status codes and how the
messages were distributed across analyzers.

Flags:
  -n, --requests <N>     number of requests to send (default ${DEFAULT_REQUESTS}, or unlimited with -z)
  -c, --concurrency <N>  requests in flight at once (default ${DEFAULT_CONCURRENCY})
  -z, --duration <D>     send for this long, e.g. 500ms, 10s, 1m; with -n, whichever ends first
  -q, --rate <R>         total requests per second, open loop: each request is timed from its
                         intended send time, so a stalled server shows up in the latencies
  -t, --timeout <D>      per-request timeout (default ${DEFAULT_TIMEOUT})
      --packet <N>       send packets of N logs as {"logs": [...]} (default 1: {"log": ...})
      --async            ask for asynchronous delivery (Prefer: respond-async, expects 202)
  -H, --header <H>       extra request header "Name: value", e.g. -H "Authorization: Bearer s3cret";
                         repeat for more; replaces a default header of the same name
      --cacert <FILE>    https: trust the CA certificates in this PEM file (like curl's)
      --cert <FILE>      https: send this client certificate (PEM; needs --key), for mTLS
      --key <FILE>       https: the private key of --cert (PEM)
  -k, --insecure         https: do not verify the server's certificate
      --url <URL>        where to POST (default ${DEFAULT_URL});
                         /stats on the same origin feeds the distribution report
      --json             print one JSON object (times in milliseconds) to stdout instead of text
      --seed <N>         seed for the generated log lines (default: random, printed in the summary)
  -h, --help             show this help

Exit status: 0 when every request got a 2xx response, 1 when any did not, 2 for bad flags.`;

type FlagSpec = { name: string; takes: "nothing" | "value" | "values" };

const FLAGS: Record<string, FlagSpec> = {};
for (const [names, takes] of [
  [["-n", "--requests"], "value"],
  [["-c", "--concurrency"], "value"],
  [["-z", "--duration"], "value"],
  [["-q", "--rate"], "value"],
  [["-t", "--timeout"], "value"],
  [["-H", "--header"], "values"],
  [["--packet"], "value"],
  [["--async"], "nothing"],
  [["--url"], "value"],
  [["--cacert"], "value"],
  [["--cert"], "value"],
  [["--key"], "value"],
  [["-k", "--insecure"], "nothing"],
  [["--json"], "nothing"],
  [["--seed"], "value"],
  [["-h", "--help"], "nothing"],
] as const) {
  // Errors name the flag the way the user spelled the short form, when there is one.
  for (const spelling of names) FLAGS[spelling] = { name: names[0], takes };
}

/**
 * @param argv the arguments after the script name (Bun.argv.slice(2))
 * @param randomSeed used when --seed is absent, so runs differ unless asked to repeat
 */
export function parseArgs(argv: readonly string[], randomSeed: () => number = defaultSeed): ParsedArgs {
  const values = new Map<string, string>();
  const repeated = new Map<string, string[]>();
  const switches = new Set<string>();
  let positionalUrl: string | undefined;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("-") || arg === "-") {
      if (positionalUrl !== undefined)
        throw new UsageError(`unexpected argument "${arg}" (the url is already "${positionalUrl}")`);
      positionalUrl = arg;
      continue;
    }
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const spelling = eq === -1 ? arg : arg.slice(0, eq);
    const spec = FLAGS[spelling];
    if (!spec) throw new UsageError(`unknown flag "${spelling}"`);
    if (spec.takes === "nothing") {
      if (eq !== -1) throw new UsageError(`${spec.name} takes no value, got "${arg.slice(eq + 1)}"`);
      switches.add(spec.name);
      continue;
    }
    let value: string | undefined;
    if (eq !== -1) value = arg.slice(eq + 1);
    else if (i + 1 < argv.length) value = argv[++i];
    if (value === undefined) throw new UsageError(`${spec.name} needs a value`);
    if (spec.takes === "values") {
      repeated.set(spec.name, [...(repeated.get(spec.name) ?? []), value]);
      continue;
    }
    if (values.has(spec.name))
      throw new UsageError(`${spec.name} given twice ("${values.get(spec.name)}" and "${value}")`);
    values.set(spec.name, value);
  }

  if (switches.has("-h")) return { kind: "help" };

  const flagUrl = values.get("--url");
  if (flagUrl !== undefined && positionalUrl !== undefined) {
    throw new UsageError(
      `give the url once, either as --url or as an argument (got "${flagUrl}" and "${positionalUrl}")`,
    );
  }

  const durationText = values.get("-z");
  const durationMs = durationText === undefined ? undefined : duration("-z", durationText);
  const requestsText = values.get("-n");
  const requests =
    requestsText !== undefined
      ? positiveInteger("-n", requestsText)
      : durationMs === undefined
        ? DEFAULT_REQUESTS
        : undefined;
  const rateText = values.get("-q");
  const certFile = values.get("--cert");
  const keyFile = values.get("--key");
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new UsageError(
      certFile === undefined
        ? "--key needs --cert (the certificate it belongs to)"
        : "--cert needs --key (its private key)",
    );
  }
  const seedText = values.get("--seed");

  return {
    kind: "run",
    options: {
      url: url(flagUrl ?? positionalUrl ?? DEFAULT_URL),
      requests,
      concurrency: positiveInteger("-c", values.get("-c") ?? String(DEFAULT_CONCURRENCY)),
      durationMs,
      rate: rateText === undefined ? undefined : positiveNumber("-q", rateText),
      packet: positiveInteger("--packet", values.get("--packet") ?? "1"),
      async: switches.has("--async"),
      json: switches.has("--json"),
      seed: seedText === undefined ? randomSeed() : integer("--seed", seedText),
      timeoutMs: duration("-t", values.get("-t") ?? DEFAULT_TIMEOUT),
      headers: (repeated.get("-H") ?? []).map(header),
      tls: { caFile: values.get("--cacert"), certFile, keyFile, insecure: switches.has("-k") },
    },
  };
}

function defaultSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}

const INTEGER = /^[+-]?\d+$/;

function positiveInteger(flag: string, text: string): number {
  const value = Number(text);
  if (!INTEGER.test(text) || !Number.isSafeInteger(value) || value < 1) {
    throw new UsageError(`${flag} must be a positive integer, got "${text}"`);
  }
  return value;
}

function integer(flag: string, text: string): number {
  const value = Number(text);
  if (!INTEGER.test(text) || !Number.isSafeInteger(value))
    throw new UsageError(`${flag} must be an integer, got "${text}"`);
  return value;
}

function positiveNumber(flag: string, text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`${flag} must be a positive number, got "${text}"`);
  }
  return value;
}

function duration(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new UsageError(`${flag} must be a duration like 500ms, 10s or 1m, got "${text}"`);
  return ms;
}

// RFC 9110: a header name is a token; a value is visible characters, spaces and tabs (no CR/LF,
// which would let one -H smuggle in a second header).
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

function header(text: string): [name: string, value: string] {
  const colon = text.indexOf(":");
  const name = text.slice(0, colon).trim();
  const value = text.slice(colon + 1).trim();
  if (colon === -1 || !HEADER_NAME.test(name) || !HEADER_VALUE.test(value)) {
    // JSON quoting keeps a stray newline from breaking the one-line message.
    throw new UsageError(`-H must look like "Name: value", got ${JSON.stringify(text)}`);
  }
  return [name, value];
}

function url(text: string): string {
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new UsageError(`--url must be an http:// or https:// URL, got "${text}"`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new UsageError(`--url must be an http:// or https:// URL, got "${text}"`);
  }
  return parsed.href;
}
