// What an analyzer answers about log lines: the analysis of each (POST /analyze, passed through
// by the distributor as the analyzer's JSON text) and the templates it has learnt (GET /templates).
// Produced by src/analyzer/, typed here so that every reader imports the same shape.

export type Level = "TRACE" | "DEBUG" | "INFO" | "NOTICE" | "WARN" | "ERROR" | "CRITICAL" | "ALERT" | "EMERG" | "FATAL";

export type Analysis = {
  /** Normalized level, or null when the line names none. */
  level: Level | null;
  /** ISO 8601 in UTC (`toISOString()`, millisecond precision), or null when none is recognized. */
  timestamp: string | null;
  /** IPv4 and IPv6 addresses as written, in order of first appearance, without duplicates. */
  ips: string[];
  /** The template the message joined: its id, fixed when the template was created, never reused
   * by that analyzer process. Lines with one id come from one logging statement. */
  templateId: number;
  /** That template's text when the line joined it: the message (the line without its header) with
   * the variable parts as `<*>`. It may generalize later; the id stays. */
  template: string;
  /** `line.length`: UTF-16 code units, which is what the rest of the pipeline counts too. */
  length: number;
};

/** One template an analyzer has learnt. */
export type TemplateSummary = {
  id: number;
  template: string;
  /** Lines that joined it. */
  count: number;
  /** When its first and its latest line arrived, ISO 8601 in UTC. */
  firstSeen: string;
  lastSeen: string;
  /** Its lines by level ("NONE" for lines without one). */
  levels: Record<string, number>;
};

/** The analyzer's GET /templates answer. */
export type AnalyzerTemplates = {
  id: string;
  /** Templates kept now, and MAX_TEMPLATES. */
  size: number;
  maxTemplates: number;
  /** Templates evicted (least recently seen first) to stay within MAX_TEMPLATES. */
  evicted: number;
  /** Most lines first, at most `limit` of them. */
  templates: TemplateSummary[];
};
