// The miner's preprocessing: a line becomes tokens (split on whitespace) with the values every log
// format shares masked as `<*>`: numbers with or without a unit, timestamps, clock times, UUIDs,
// IPs, hex, host and block names, paths and dotted names. The rules are generic on purpose: none is
// written for one log, so one configuration serves every source. It runs once per line on the hot
// path: one scan of each token's characters, and only for tokens with something a value needs (a
// digit, a slash, two dots, a bracket): O(length), no regex to backtrack.

export const MASK = "<*>";

// Characters an identifier or a path is made of: a run of them is one value when it has a digit in
// it (numbers, 12ms, timestamps and clock times, IPs with ports, hex, UUIDs, versions, host and
// block names), when it is a path of two or more segments, or a dotted name of three or more parts
// (host names, Java classes, bundle ids such as com.apple.cts).
const ID_CHARS = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-:/@+#~$%")
  ID_CHARS[c.charCodeAt(0)] = 1;
const isIdChar = (c: number) => c < 128 && ID_CHARS[c] === 1;
const isDigit = (c: number) => c >= 48 && c <= 57;
const isLetter = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** Whether token[start, end) is a value (see ID_CHARS). */
function isValueRun(token: string, start: number, end: number): boolean {
  let digits = 0;
  let dots = 0;
  let slashes = 0;
  for (let i = start; i < end; i++) {
    const c = token.charCodeAt(i);
    if (isDigit(c)) digits++;
    else if (c === 46) dots++;
    else if (c === 47) slashes++;
  }
  if (digits > 0) return !isNameWithDigits(token, start, end, digits);
  const first = token.charCodeAt(start);
  return (first === 47 && slashes >= 2) || (dots >= 2 && isLetter(first));
}

/** Letters and then 1 to 3 digits: a name with a version or a small index (ssh2, utf8, sha256, eth0). */
function isNameWithDigits(token: string, start: number, end: number, digits: number): boolean {
  if (digits > 3 || end - start === digits) return false;
  for (let i = start; i < end - digits; i++) if (!isLetter(token.charCodeAt(i))) return false;
  for (let i = end - digits; i < end; i++) if (!isDigit(token.charCodeAt(i))) return false;
  return true;
}

/** The token line[first, last) with its values masked; its own text when it has none. Indices into
 * the line rather than a slice of it: a token that is one value is never copied. */
function maskToken(line: string, first: number, last: number): string {
  let out = "";
  let from = first;
  let i = first;
  while (i < last) {
    const c = line.charCodeAt(i);
    if (isIdChar(c)) {
      const start = i;
      while (i < last && isIdChar(line.charCodeAt(i))) i++;
      // Edge punctuation belongs to the sentence, not to the value: "port 22." or "id 7:".
      let end = i;
      while (end > start && (line.charCodeAt(end - 1) === 46 || line.charCodeAt(end - 1) === 58)) end--;
      if (end > start && isValueRun(line, start, end)) {
        // The whole token (a number, an address, a time): the one shared MASK string, which
        // later comparisons tell equal by identity.
        if (start === first && end === last) return MASK;
        out += line.slice(from, start) + MASK;
        from = end;
      }
      continue;
    }
    // Empty brackets are a value that happens to be empty: "from 10.0.0.1 ()" is "from <*> (<*>)".
    const next = i + 1 < last ? line.charCodeAt(i + 1) : -1;
    if ((c === 40 && next === 41) || (c === 91 && next === 93) || (c === 123 && next === 125)) {
      out += line.slice(from, i + 1) + MASK;
      from = i + 1;
    }
    i++;
  }
  return from === first ? line.slice(first, last) : out + line.slice(from, last);
}

// A unit after a masked number belongs to it: "1.5 KB" and "3 sec" are one value, as "12ms" is.
const UNIT = /^(?:[KMGTP]i?B|[kKMGT]b|B|bytes?|ms|us|µs|ns|s|secs?|seconds?|mins?|minutes?|h|hours?)([).,;:]*)$/;

// The letters a UNIT starts with: most words are no unit, and this spares them the regex.
const UNIT_FIRST = new Set([..."KMGTPkBbmuµnsh"].map((c) => c.charCodeAt(0)));

/**
 * The line's tokens, split on whitespace, with its values masked. `ipTokens`, when given, receives
 * the unmasked tokens that may hold an IP address (three dots or two colons), so that the analysis
 * looks for addresses in those alone rather than scanning the line again.
 */
export function maskedTokens(line: string, ipTokens?: string[]): string[] {
  const tokens: string[] = [];
  let start = -1;
  // Whether the token so far has what a value needs: a digit, a slash, two dots or a bracket.
  let mayHold = false;
  let dots = 0;
  let colons = 0;
  let dates = false;
  for (let i = 0; i <= line.length; i++) {
    const c = i < line.length ? line.charCodeAt(i) : 32;
    if (c > 32) {
      if (start < 0) {
        start = i;
        mayHold = false;
        dots = 0;
        colons = 0;
      }
      if (c === 58) colons++;
      if ((c >= 48 && c <= 57) || c === 47 || c === 40 || c === 91 || c === 123 || (c === 46 && ++dots === 2)) {
        mayHold = true;
      }
      continue;
    }
    if (start < 0) continue;
    const first = start;
    start = -1;
    if (ipTokens !== undefined && (dots >= 3 || colons >= 2)) ipTokens.push(line.slice(first, i));
    if (mayHold) {
      tokens.push(maskToken(line, first, i));
      continue;
    }
    const token = line.slice(first, i);
    const last = tokens.length - 1;
    const unit =
      last >= 0 && UNIT_FIRST.has(token.charCodeAt(0)) && tokens[last].endsWith(MASK) ? UNIT.exec(token) : null;
    if (unit !== null) tokens[last] += unit[1];
    else {
      dates ||= mayBeDateName(token);
      tokens.push(token);
    }
  }
  return dates ? foldDates(tokens) : tokens;
}

const DATE_NAMES = new Set("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec Mon Tue Wed Thu Fri Sat Sun".split(" "));
const mayBeDateName = (token: string) =>
  (token.length === 3 || (token.length === 4 && token.charCodeAt(3) === 44)) &&
  token.charCodeAt(0) >= 65 &&
  token.charCodeAt(0) <= 90 &&
  DATE_NAMES.has(token.length === 3 ? token : token.slice(0, 3));

const isDatePart = (token: string) => token === MASK || mayBeDateName(token);

/** A date written over several tokens ("Fri Jun 17 07:07:00 2005") becomes one mask: a run of
 * masks and month or day names with at least one of each. */
function foldDates(tokens: string[]): string[] {
  let out: string[] | undefined;
  for (let i = 0; i < tokens.length; i++) {
    if (!isDatePart(tokens[i])) {
      out?.push(tokens[i]);
      continue;
    }
    let end = i;
    let names = 0;
    while (end < tokens.length && isDatePart(tokens[end])) {
      if (tokens[end] !== MASK) names++;
      end++;
    }
    if (names > 0 && names < end - i) {
      out ??= tokens.slice(0, i);
      out.push(MASK);
    } else if (out !== undefined) {
      for (let j = i; j < end; j++) out.push(tokens[j]);
    }
    i = end - 1;
  }
  return out ?? tokens;
}

// A header is what a logger writes before the message: values (time, pid, a host with digits),
// at most two plain words (a host, a facility), a level, bracketed fields ("[main]", even with
// spaces inside) and often a program or component name ending in ":" ("sshd[<*>]:",
// "dfs.DataNode$PacketResponder:"). It is looked for among the first HEADER_TOKENS tokens only, and
// plain words count only when a level or a component follows them.
const HEADER_TOKENS = 12;
const LEVEL_WORD =
  /^\[?(?:TRACE|DEBUG|INFO|NOTICE|WARN|WARNING|ERROR|ERR|SEVERE|CRIT|CRITICAL|ALERT|EMERG|FATAL|PANIC)\]?:?$|^[VDIWEF]$/i;
const VALUE_FIELD = /^[[(<]?<\*>[\])>]?[,:]?$/;
const COMPONENT = /^(?:[\w.$\-/]|<\*>)+(?:\[[^\]]*\]|\([^)]*\))*:$/;

/** How many leading tokens are the line's header rather than its message; at least one token is left. */
export function headerLength(tokens: readonly string[]): number {
  const limit = Math.min(tokens.length - 1, HEADER_TOKENS);
  let end = 0;
  let plain = 0;
  let level = false;
  for (let i = 0; i < limit; i++) {
    const t = tokens[i];
    if (t[0] === "[" && !t.endsWith("]")) {
      // A bracketed field with spaces: it ends at the token that closes it.
      let close = i + 1;
      while (close < limit && !tokens[close].endsWith("]")) close++;
      if (close >= limit) break;
      i = close;
      if (plain === 0 || level) end = i + 1;
      continue;
    }
    // A line that starts with "name:" is a message; after a time or a level, the name is a header's.
    if (end > 0 && t.charCodeAt(t.length - 1) === 58 && COMPONENT.test(t)) return i + 1;
    if (LEVEL_WORD.test(t) && (t.length > 1 || t === t.toUpperCase())) {
      level = true;
      end = i + 1;
    } else if (VALUE_FIELD.test(t) || t === "-" || (t[0] === "[" && t.endsWith("]"))) {
      if (plain === 0 || level) end = i + 1;
    } else if (level || ++plain > 2) break;
  }
  return end;
}
