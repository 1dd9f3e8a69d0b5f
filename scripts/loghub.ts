// Reading Loghub's labelled samples (logpai/loghub, `*_structured.csv`) and scoring a parser on
// them with grouping accuracy (GA; Zhu et al., "Tools and Benchmarks for Automated Log Parsing",
// ICSE-SEIP 2019): a line is parsed right when the set of lines sharing its predicted group is
// exactly the set sharing its true event.

/** The rows of a CSV text (RFC 4180: quoted fields may hold commas, newlines and doubled quotes). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c !== '"') field += c;
      else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if (field !== "" || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

export type Labelled = { content: string[]; eventIds: string[] };

/** A structured CSV's `Content` and `EventId` columns, in line order. */
export function readStructured(text: string): Labelled {
  const [header, ...rows] = parseCsv(text);
  const content = header?.indexOf("Content") ?? -1;
  const eventId = header?.indexOf("EventId") ?? -1;
  if (content < 0 || eventId < 0) {
    throw new Error(
      `not a Loghub structured CSV: its header has no Content and EventId columns (${header?.join(",")})`,
    );
  }
  const out: Labelled = { content: [], eventIds: [] };
  for (const row of rows) {
    if (row.length === 1 && row[0] === "") continue;
    out.content.push(row[content] ?? "");
    out.eventIds.push(row[eventId] ?? "");
  }
  return out;
}

/** Grouping accuracy: the share of lines whose predicted group holds exactly the lines of their true event. */
export function groupingAccuracy(predicted: readonly unknown[], truth: readonly unknown[]): number {
  if (predicted.length !== truth.length) {
    throw new RangeError(`${predicted.length} predictions for ${truth.length} labelled lines`);
  }
  if (truth.length === 0) return 1;
  // A predicted group is right when it and the true event of its lines coincide: all of its lines
  // share one event, and that event has no lines elsewhere.
  const size = (keys: readonly unknown[]) => {
    const m = new Map<unknown, number>();
    for (const k of keys) m.set(k, (m.get(k) ?? 0) + 1);
    return m;
  };
  const predictedSize = size(predicted);
  const truthSize = size(truth);
  const pairSize = new Map<unknown, Map<unknown, number>>();
  for (let i = 0; i < predicted.length; i++) {
    let events = pairSize.get(predicted[i]);
    if (events === undefined) {
      events = new Map();
      pairSize.set(predicted[i], events);
    }
    events.set(truth[i], (events.get(truth[i]) ?? 0) + 1);
  }
  let right = 0;
  for (const [group, events] of pairSize) {
    if (events.size !== 1) continue;
    const [[event, n]] = events;
    if (n === predictedSize.get(group) && n === truthSize.get(event)) right += n;
  }
  return right / truth.length;
}
