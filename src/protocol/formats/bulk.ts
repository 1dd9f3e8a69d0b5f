// Elasticsearch's bulk API (POST /_bulk, POST /<index>/_bulk), as log agents use it to ship to
// Elasticsearch: NDJSON lines, each action line ({"index": {"_index": "logs", "_id": "1"}}) followed
// by its document line for index and create. The distributor stores nothing, so:
// - index and create: the document is a log record (its message is the first of MESSAGE_KEYS that
//   is a string; the document's other fields, plus _index and _id, go beside it); a document that is
//   not a JSON object or has no message is refused on its own: its item gets status 400.
// - update (with its partial document line) and delete change a stored document: each is refused on
//   its own with status 400, as acknowledging them would claim a change that never happened.
// - a line that is not an action, or an action without its document, makes the whole body a 400.
// Blank lines are skipped. The answer has one item per action, in order, under the action's name,
// with `errors: true` when any item was refused, and the header clients check for a genuine server.
// Tested against syslog-ng 3.38's elasticsearch-http() and rsyslog 8.2302's omelasticsearch; neither
// needs more than POST /_bulk (rsyslog also GETs /_cat/health when it resumes after a failure).
// The probes other clients send first, from their source: GET / (the version: Filebeat, Logstash,
// Vector), GET /_cluster/health (Vector's health check), GET /_license (Filebeat, Logstash).

import { BadRequestError } from "../../http/errors.ts";
import { type Decoded, type LogRecord, MESSAGE_KEYS, recordFromObject } from "../record.ts";

export type BulkAction = "index" | "create" | "update" | "delete";

/** One action's outcome, as its item in the answer. */
export type BulkItem = {
  action: BulkAction;
  index: string;
  id?: string;
  status: number;
  error?: { type: string; reason: string };
};

export type BulkDecoded = Decoded & {
  /** One per action, in the body's order; the accepted ones in the same order as `records`. */
  items: BulkItem[];
  /** When decoding began (ms, the `now` clock): the answer's `took` counts from here. */
  startedAt: number;
};

/** The answer's body, as clients read it. */
export type BulkAnswer = {
  took: number;
  errors: boolean;
  items: Partial<Record<BulkAction, BulkAnswerItem>>[];
};

export type BulkAnswerItem = {
  _index: string;
  _id?: string;
  result?: "created";
  status: number;
  error?: { type: string; reason: string };
};

export type BulkOptions = {
  /** The index of POST /<index>/_bulk: the default for actions that name none. */
  index?: string;
  /** Milliseconds on any monotonic clock, for `took`. Default: performance.now(). */
  now?: () => number;
};

/** Every answer from an Elasticsearch endpoint carries it: clients (go-elasticsearch, Beats) check it. */
export const ELASTIC_PRODUCT_HEADERS = { "x-elastic-product": "Elasticsearch" } as const;

const ACTIONS: ReadonlySet<string> = new Set(["index", "create", "update", "delete"]);
const USAGE = 'send NDJSON action/document pairs: {"index":{"_index":"logs"}} then {"message":"..."}, one per line';
const NO_MESSAGE = `the document has no message: give it one of ${MESSAGE_KEYS.join(", ")} as a string`;
const utf8 = new TextDecoder();

/** The records in a bulk body (inflated already); throws a BadRequestError naming the line when it is not one. */
export function decodeBulk(body: Uint8Array, _contentType: string, options: BulkOptions = {}): BulkDecoded {
  const startedAt = (options.now ?? performance.now)();
  const defaultIndex = options.index ?? "";
  const lines = utf8.decode(body).split("\n");
  const records: LogRecord[] = [];
  const items: BulkItem[] = [];
  let refused = 0;
  let firstReason = "";

  let n = 0; // index into lines
  const nextLine = (): [number, string] | undefined => {
    while (n < lines.length) {
      const line = lines[n++];
      if (line.trim() !== "") return [n, line];
    }
    return undefined;
  };

  for (let next = nextLine(); next !== undefined; next = nextLine()) {
    const [lineNo, line] = next;
    const { action, meta } = parseAction(line, lineNo);
    const index = typeof meta._index === "string" && meta._index !== "" ? meta._index : defaultIndex;
    const id = typeof meta._id === "string" || typeof meta._id === "number" ? String(meta._id) : undefined;
    const item: BulkItem = { action, index, status: 201 };
    if (id !== undefined) item.id = id;
    items.push(item);

    let reason: string | undefined;
    if (action === "delete" || action === "update") {
      if (action === "update" && nextLine() === undefined) {
        throw new BadRequestError(`line ${lineNo}: the update action has no document line after it: ${USAGE}`);
      }
      reason = `${action} is not taken: the distributor stores no documents, send log records with index or create`;
    } else {
      const doc = nextLine();
      if (doc === undefined) {
        throw new BadRequestError(`line ${lineNo}: the ${action} action has no document line after it: ${USAGE}`);
      }
      const parsed = parseDocument(doc[1]);
      if ("refused" in parsed) reason = `line ${doc[0]}: ${parsed.refused}`;
      else records.push(withMeta(parsed.record, index, id));
    }
    if (reason !== undefined) {
      item.status = 400;
      item.error = {
        type: action === "delete" || action === "update" ? "illegal_argument_exception" : "document_parsing_exception",
        reason,
      };
      refused++;
      if (firstReason === "") firstReason = reason;
    }
  }
  if (items.length === 0) throw new BadRequestError(`empty bulk body: ${USAGE}`);
  const decoded: BulkDecoded = { records, items, startedAt };
  if (refused > 0) decoded.rejected = { count: refused, reason: firstReason };
  return decoded;
}

/**
 * The bulk answer: `{"took", "errors", "items"}`, 200 even when some items were refused (as
 * Elasticsearch does: each item carries its own status).
 */
export function bulkResponse(decoded: BulkDecoded, now: () => number = performance.now): Response {
  const took = Math.max(0, Math.round(now() - decoded.startedAt));
  let errors = false;
  const items = decoded.items.map(({ action, index, id, status, error }) => {
    const item: BulkAnswerItem = id === undefined ? { _index: index, status } : { _index: index, _id: id, status };
    if (error) {
      errors = true;
      item.error = error;
    } else {
      item.result = "created";
    }
    return { [action]: item };
  });
  return Response.json({ took, errors, items } satisfies BulkAnswer, { headers: ELASTIC_PRODUCT_HEADERS });
}

/** Each server error's item `error.type`: rsyslog counts an item with a status but no type as a bad reply. */
const FAILURE_TYPES: Readonly<Record<number, string>> = {
  502: "bad_gateway",
  503: "unavailable",
  504: "gateway_timeout",
};

/**
 * The answer when the distributor could not take the request (503: no healthy analyzer, queue full,
 * shutting down, delivery failed; 502, 504): the error's status and headers (Retry-After), with a
 * bulk reply for a body. rsyslog 8.2302's omelasticsearch reads only the body: with `items` it can
 * resubmit each failed one (retryfailures="on"); a plain error body has it drop the whole batch.
 * Every action the decoder accepted gets `status` and `reason`; items refused on their own keep their 400.
 */
export function bulkFailure(
  decoded: BulkDecoded,
  status: number,
  reason: string,
  headers: Readonly<Record<string, string>> = {},
  now: () => number = performance.now,
): Response {
  const took = Math.max(0, Math.round(now() - decoded.startedAt));
  const failure = { type: FAILURE_TYPES[status] ?? "server_error", reason };
  const items = decoded.items.map(({ action, index, id, status: own, error }) => {
    const item: BulkAnswerItem = id === undefined ? { _index: index, status } : { _index: index, _id: id, status };
    if (error) {
      item.status = own;
      item.error = error;
    } else {
      item.error = failure;
    }
    return { [action]: item };
  });
  return Response.json({ took, errors: true, items } satisfies BulkAnswer, {
    status,
    headers: { ...headers, ...ELASTIC_PRODUCT_HEADERS },
  });
}

/** The index of a POST /<index>/_bulk path, or undefined for POST /_bulk. */
export function bulkIndexOf(pathname: string): string | undefined {
  const match = /^\/([^/]+)\/_bulk\/?$/.exec(pathname);
  if (!match || match[1] === "_bulk") return undefined;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return match[1];
  }
}

/** The Elasticsearch version the info answer claims: clients refuse a server older than they are. */
export const ELASTICSEARCH_VERSION = "8.19.0";

/**
 * GET / as Elasticsearch answers it, for the clients that read the server's version before sending
 * (Filebeat, Logstash, Vector's api_version "auto"); syslog-ng and rsyslog do not ask.
 */
export type ElasticsearchInfo = {
  name: string;
  cluster_name: string;
  version: { number: string; build_flavor: string; [key: string]: unknown };
  tagline: string;
};

export function elasticsearchInfo(): Response {
  return Response.json(
    {
      name: "distributor",
      cluster_name: "weighted-log-distributor",
      version: {
        number: ELASTICSEARCH_VERSION,
        build_flavor: "default",
        build_type: "distributor",
        build_snapshot: false,
        minimum_wire_compatibility_version: "7.17.0",
        minimum_index_compatibility_version: "7.0.0",
      },
      tagline: "You Know, for Search",
    } satisfies ElasticsearchInfo,
    { headers: ELASTIC_PRODUCT_HEADERS },
  );
}

/**
 * Whether a GET / is an Elasticsearch client's (no Accept, or one asking for JSON) rather than a
 * person's: browsers ask for text/html and curl for any type, and both keep getting the dashboard.
 */
export function wantsElasticsearchInfo(accept: string | null | undefined): boolean {
  if (accept == null || accept.trim() === "") return true;
  return /json/i.test(accept) && !/text\/html/i.test(accept);
}

/**
 * GET /_cat/health, which rsyslog's omelasticsearch sends to decide whether to resume after a
 * failure (any answer will do for it): one line, green when every analyzer is healthy, yellow when
 * some are, red when none is.
 */
export function catHealth(healthy: number, total: number, nowMs: number = Date.now()): Response {
  const status = healthColour(healthy, total);
  const epoch = Math.floor(nowMs / 1000);
  const clock = new Date(nowMs).toISOString().slice(11, 19);
  const line = `${epoch} ${clock} weighted-log-distributor ${status} ${total} ${healthy} 0 0 0 0 0 0 - ${total > 0 ? ((100 * healthy) / total).toFixed(1) : "0.0"}%\n`;
  return new Response(line, { headers: { "content-type": "text/plain; charset=UTF-8", ...ELASTIC_PRODUCT_HEADERS } });
}

/** Green when every analyzer is healthy, yellow when some are, red when none is. */
function healthColour(healthy: number, total: number): "green" | "yellow" | "red" {
  return total > 0 && healthy === total ? "green" : healthy > 0 ? "yellow" : "red";
}

/** GET /_cluster/health's body, the fields Elasticsearch always sends; analyzers stand for nodes. */
export type ClusterHealth = {
  cluster_name: string;
  status: "green" | "yellow" | "red";
  timed_out: boolean;
  number_of_nodes: number;
  number_of_data_nodes: number;
  active_primary_shards: number;
  active_shards: number;
  relocating_shards: number;
  initializing_shards: number;
  unassigned_shards: number;
  number_of_pending_tasks: number;
  active_shards_percent_as_number: number;
};

/**
 * GET /_cluster/health, the health check of Vector's elasticsearch sink, which needs only a 200
 * (`healthcheck` in its src/sinks/elasticsearch/common.rs): the colour as /_cat/health says it.
 * Always 200, as Elasticsearch answers for a red cluster too: the check is whether it is there.
 */
export function clusterHealth(healthy: number, total: number): Response {
  return Response.json(
    {
      cluster_name: "weighted-log-distributor",
      status: healthColour(healthy, total),
      timed_out: false,
      number_of_nodes: total,
      number_of_data_nodes: healthy,
      active_primary_shards: 0,
      active_shards: 0,
      relocating_shards: 0,
      initializing_shards: 0,
      unassigned_shards: 0,
      number_of_pending_tasks: 0,
      active_shards_percent_as_number: total > 0 ? (100 * healthy) / total : 0,
    } satisfies ClusterHealth,
    { headers: ELASTIC_PRODUCT_HEADERS },
  );
}

/** GET /_license's body, as far as its readers go. */
export type ElasticsearchLicense = {
  license: {
    status: "active";
    uid: string;
    type: "basic";
    issued_to: string;
    issuer: string;
    start_date_in_millis: number;
  };
};

/**
 * GET /_license: Filebeat's default distribution (x-pack/libbeat/licenser) asks for it on every
 * connection and refuses a server whose answer is not 200 with an active license of type basic or
 * better (a 400 or 405 reads as the OSS distribution, which it refuses too); Logstash's
 * elasticsearch output reads it as well. The distributor's is a basic license, always active.
 */
export function elasticsearchLicense(): Response {
  return Response.json(
    {
      license: {
        status: "active",
        uid: "00000000-0000-4000-8000-000000000000",
        type: "basic",
        issued_to: "weighted-log-distributor",
        issuer: "weighted-log-distributor",
        start_date_in_millis: -1,
      },
    } satisfies ElasticsearchLicense,
    { headers: ELASTIC_PRODUCT_HEADERS },
  );
}

function parseAction(line: string, lineNo: number): { action: BulkAction; meta: Record<string, unknown> } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new BadRequestError(`line ${lineNo} is not a JSON action line (${(error as Error).message}): ${USAGE}`);
  }
  const keys = isObject(value) ? Object.keys(value) : [];
  if (keys.length !== 1 || !ACTIONS.has(keys[0])) {
    throw new BadRequestError(
      `line ${lineNo}: an action line is an object with one key, index, create, update or delete: ${USAGE}`,
    );
  }
  const action = keys[0] as BulkAction;
  const meta = (value as Record<string, unknown>)[action];
  if (meta !== null && meta !== undefined && !isObject(meta)) {
    throw new BadRequestError(`line ${lineNo}: the ${action} action's metadata must be an object: ${USAGE}`);
  }
  return { action, meta: (meta ?? {}) as Record<string, unknown> };
}

function parseDocument(line: string): { record: LogRecord } | { refused: string } {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch (error) {
    return { refused: `the document is not JSON (${(error as Error).message})` };
  }
  if (!isObject(doc)) return { refused: "the document must be a JSON object" };
  const record = recordFromObject(doc);
  return record === undefined ? { refused: NO_MESSAGE } : { record };
}

function withMeta(record: LogRecord, index: string, id: string | undefined): LogRecord {
  if (index === "" && id === undefined) return record;
  const meta: Record<string, unknown> = {};
  if (index !== "") meta._index = index;
  if (id !== undefined) meta._id = id;
  if (typeof record === "string") return { message: record, fields: meta };
  Object.assign(record.fields, meta);
  return record;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
