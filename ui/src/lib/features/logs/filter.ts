// The loaded log lines, and searching them as the reader types. Each message is lowercased
// once, when it arrives, so a search over 100,000 lines is one substring test per line; a
// longer search narrows the last one's matches, and lines that arrive while following are
// searched on their own. Which lines exist, and whether one is an error, are the engine's.
import type { LogLine } from '../../ipc';

/** The loaded lines, oldest first, with their messages lowercased for searching. */
export class LogIndex {
  lines: LogLine[] = [];
  lower: string[] = [];
  /** How many of the lines look like errors (the engine's mark). */
  errors = 0;
  /** Bumped whenever lines are replaced or the oldest dropped, so positions found before no longer hold. */
  generation = 0;

  /** Replaces every line (a new search or time range). */
  reset(lines: LogLine[]): void {
    this.lines = lines.slice();
    this.lower = lines.map((l) => l.message.toLowerCase());
    this.errors = countErrors(lines);
    this.generation += 1;
  }

  /**
   * Adds lines that arrived while following, skipping any already loaded (the follow may
   * start a little before the newest loaded line, to leave no gap). Beyond `cap` lines the
   * oldest are dropped, down to `keep`. Returns how many were added and whether any were dropped.
   */
  append(lines: LogLine[], cap = Infinity, keep = cap): { added: number; dropped: boolean } {
    if (lines.length === 0) return { added: 0, dropped: false };
    let earliest = Infinity;
    for (const line of lines) earliest = Math.min(earliest, line.atMs ?? -Infinity);
    const recent = new Set<string>();
    for (let i = this.lines.length - 1; i >= 0 && (this.lines[i].atMs ?? -Infinity) >= earliest; i--) {
      recent.add(this.lines[i].id);
    }
    let added = 0;
    for (const line of lines) {
      if (recent.has(line.id)) continue;
      recent.add(line.id);
      this.lines.push(line);
      this.lower.push(line.message.toLowerCase());
      if (line.error) this.errors += 1;
      added += 1;
    }
    let dropped = false;
    if (this.lines.length > cap) {
      const cut = this.lines.length - keep;
      this.lines.splice(0, cut);
      this.lower.splice(0, cut);
      this.errors = countErrors(this.lines);
      this.generation += 1;
      dropped = true;
    }
    return { added, dropped };
  }

  /** The time of the newest line, ms since the epoch; null when none has one. */
  newestAtMs(): number | null {
    for (let i = this.lines.length - 1; i >= 0; i--) {
      const at = this.lines[i].atMs;
      if (at !== null) return at;
    }
    return null;
  }

  /** The tasks the lines came from, in the order they first appear. */
  taskIds(): string[] {
    const seen = new Set<string>();
    for (const line of this.lines) seen.add(line.taskId);
    return [...seen];
  }
}

function countErrors(lines: LogLine[]): number {
  let n = 0;
  for (const line of lines) if (line.error) n += 1;
  return n;
}

/** What the search asks, as it is compared: any case, spaces kept (" 500" is not "500"). */
export function searchKey(text: string): string {
  return text.trim() === '' ? '' : text.toLowerCase();
}

/**
 * Searches an index, remembering the last answer: the same search after more lines came
 * only looks at the new ones, and a search that contains the last one only looks at its
 * matches. A new array every time, so whoever holds the last one sees a change.
 */
export class LogFilter {
  #last: { generation: number; length: number; key: string; rows: number[] } | null = null;

  /** The positions in `index.lines` of the lines containing `text`; null when every line is shown. */
  apply(index: LogIndex, text: string): number[] | null {
    const key = searchKey(text);
    if (key === '') return null;
    const { lower, generation } = index;
    const last = this.#last;
    let rows: number[];
    let from = 0;
    if (last !== null && last.generation === generation && key.includes(last.key) && last.length <= lower.length) {
      rows = key === last.key ? last.rows.slice() : last.rows.filter((i) => lower[i].includes(key));
      from = last.length;
    } else {
      rows = [];
    }
    for (let i = from; i < lower.length; i++) {
      if (lower[i].includes(key)) rows.push(i);
    }
    this.#last = { generation, length: lower.length, key, rows };
    return rows.slice();
  }
}

export interface Segment {
  text: string;
  match: boolean;
}

/** `message` cut where the search matches (any case), so the matches can be marked. */
export function highlight(message: string, text: string): Segment[] {
  const key = searchKey(text);
  const lower = message.toLowerCase();
  // Lowercasing a few characters changes their length (İ); then positions cannot be trusted.
  if (key === '' || lower.length !== message.length) return [{ text: message, match: false }];
  const out: Segment[] = [];
  let at = 0;
  for (let found = lower.indexOf(key); found !== -1; found = lower.indexOf(key, at)) {
    if (found > at) out.push({ text: message.slice(at, found), match: false });
    out.push({ text: message.slice(found, found + key.length), match: true });
    at = found + key.length;
  }
  if (at < message.length || out.length === 0) out.push({ text: message.slice(at), match: false });
  return out;
}
