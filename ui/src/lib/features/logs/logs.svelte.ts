// The Logs card's state: which task and time range to read from CloudWatch, the lines
// read (up to 100,000, kept outside Svelte's proxies and searched by ./filter), following
// new lines as a job, and saving what the search finds to a file. Reading, matching a
// search in CloudWatch and marking error lines are the engine's.
import {
  appLogs,
  followLogs,
  pickSavePath,
  saveLogs,
  type Job,
  type LogEvent,
  type LogLine,
  type LogQuery,
} from '../../ipc';
import { failureOf, type Failure } from '../../ui/failure';
import { LogFilter, LogIndex } from './filter';

/** The most lines one read returns (the engine's limit): the card reads that many. */
export const LOG_LIMIT = 100_000;
/** While following, the oldest lines are dropped once this many are held, down to LOG_LIMIT. */
export const FOLLOW_CAP = 120_000;

export const RANGES = [
  { id: '15m', label: 'Last 15 minutes', seconds: 15 * 60 },
  { id: '1h', label: 'Last hour', seconds: 3600 },
  { id: '6h', label: 'Last 6 hours', seconds: 6 * 3600 },
  { id: '24h', label: 'Last 24 hours', seconds: 24 * 3600 },
  { id: '7d', label: 'Last 7 days', seconds: 7 * 86400 },
  { id: 'custom', label: 'Since a time…', seconds: null },
] as const;
export type RangeId = (typeof RANGES)[number]['id'];
export const DEFAULT_RANGE: RangeId = '1h';

/** Seconds between a `datetime-local` value (the computer's time zone) and `nowMs`, or why it cannot be used. */
export function sinceCustom(text: string, nowMs: number): { seconds: number } | { problem: string } {
  const at = text ? new Date(text).getTime() : Number.NaN;
  if (Number.isNaN(at)) return { problem: 'Choose the date and time to read from.' };
  if (at >= nowMs) return { problem: 'Choose a time in the past.' };
  return { seconds: Math.ceil((nowMs - at) / 1000) };
}

/** How far back a range reads, in seconds; null with the custom time not usable. */
export function rangeSeconds(range: RangeId, custom: string, nowMs: number): number | null {
  const chosen = RANGES.find((r) => r.id === range);
  if (chosen?.seconds != null) return chosen.seconds;
  const since = sinceCustom(custom, nowMs);
  return 'seconds' in since ? since.seconds : null;
}

/**
 * How far back following starts so nothing falls between the read and the follow: from the
 * newest line read (a second early; repeats are skipped), never further back than the range.
 */
export function followFromSeconds(newestAtMs: number | null, nowMs: number, rangeSecs: number): number {
  if (newestAtMs === null) return 0;
  return Math.min(rangeSecs, Math.max(0, Math.ceil((nowMs - newestAtMs) / 1000) + 1));
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** A line's time: "14:03:07.123", or "11-20 14:03:07" when the lines span days. */
export function formatLogTime(atMs: number | null, withDate: boolean): string {
  if (atMs === null) return '—';
  const at = new Date(atMs);
  const clock = `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
  return withDate ? `${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${clock}` : `${clock}.${pad(at.getMilliseconds(), 3)}`;
}

/** A line's full time, for the line's detail: "2026-11-21 14:03:07.123". */
export function fullLogTime(atMs: number | null): string {
  if (atMs === null) return 'time not known';
  const at = new Date(atMs);
  return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())} ${formatLogTime(atMs, false)}`;
}

/** Whether the first and last of the lines fall on different days. */
export function spansDays(first: number | null, last: number | null): boolean {
  if (first === null || last === null) return false;
  return new Date(first).toDateString() !== new Date(last).toDateString();
}

/** "100,000 lines", or with a search "1 of 100,000 lines contain “needle”". */
export function countText(shown: number, loaded: number, search: string): string {
  const lines = `${loaded.toLocaleString('en-US')} ${loaded === 1 ? 'line' : 'lines'}`;
  if (search.trim() === '') return lines;
  return `${shown.toLocaleString('en-US')} of ${lines} ${shown === 1 ? 'contains' : 'contain'} “${search}”`;
}

/** The file name the save dialog proposes: "hello-site-logs-20261122-0146.txt". */
export function logFileName(app: string, nowMs: number): string {
  const at = new Date(nowMs);
  return `${app}-logs-${at.getFullYear()}${pad(at.getMonth() + 1)}${pad(at.getDate())}-${pad(at.getHours())}${pad(at.getMinutes())}.txt`;
}

/** The task chooser's label for a task: its first 8 characters, as the ECS console lists them. */
export function shortTaskId(taskId: string): string {
  return taskId.slice(0, 8);
}

export interface LogView {
  /** Positions of the shown lines in the index; null when every line is shown. */
  rows: number[] | null;
  count: number;
}

export class AppLogs {
  /** One task's lines, or every task's (null). */
  taskId = $state<string | null>(null);
  range = $state<RangeId>(DEFAULT_RANGE);
  /** The custom range's start, as a `datetime-local` value. */
  since = $state('');
  /** Searches the lines read, as the reader types. */
  search = $state('');
  /** A search CloudWatch was asked for (to reach lines the newest 100,000 left out); null when none. */
  searchedInAws = $state<string | null>(null);

  /** The log group of the last read, and whether more lines matched than it returned. */
  group = $state<string | null>(null);
  truncated = $state(false);
  loaded = $state(false);
  loading = $state(false);
  failure = $state<Failure | null>(null);
  /** The reader's choice; the follow job runs while it is on and a read is not under way. */
  following = $state(false);
  /** Why the last poll failed (following goes on); cleared by the next lines. */
  followNote = $state<string | null>(null);
  saving = $state(false);
  saved = $state<{ count: number; path: string } | null>(null);
  saveFailure = $state<Failure | null>(null);
  /** Bumped when the lines change; they live in `index`, outside Svelte's proxies. */
  version = $state(0);
  /** Bumped when the lines are replaced: the list starts again at the newest line. */
  generation = $state(0);
  /** Bumped by `show`: the card comes into view, at the newest line. */
  revealed = $state(0);
  /** The tasks the lines came from, and the one asked for. */
  tasksSeen = $state<string[]>([]);
  /** What runs now (told by Running on AWS), offered first in the task chooser. */
  runningTasks = $state.raw<{ taskId: string; revision: number | null }[]>([]);

  readonly index = new LogIndex();
  #filter = new LogFilter();

  /** The lines the search shows. */
  view = $derived.by((): LogView => {
    void this.version;
    const rows = this.#filter.apply(this.index, this.search);
    return { rows, count: rows === null ? this.index.lines.length : rows.length };
  });
  customProblem = $derived.by(() => {
    if (this.range !== 'custom') return null;
    const since = sinceCustom(this.since, Date.now());
    return 'problem' in since ? since.problem : null;
  });

  #dir: string;
  #ticket = 0;
  #job: Job<null> | null = null;
  /** The running follow job's own token: events of a job since replaced are dropped. */
  #jobToken: object | null = null;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** The line shown at `position` of the view. */
  lineAt(view: LogView, position: number): LogLine {
    return this.index.lines[view.rows === null ? position : view.rows[position]];
  }

  /** What CloudWatch is asked for: the task, the range and any search sent to it. */
  query(text: string | null = this.searchedInAws): LogQuery | null {
    const since = rangeSeconds(this.range, this.since, Date.now());
    if (since === null) return null;
    return { taskId: this.taskId, text, sinceSeconds: since, untilMs: null, limit: LOG_LIMIT };
  }

  /** Reads the lines afresh; following goes on from the newest of them. */
  async load(): Promise<void> {
    const query = this.query();
    if (query === null) return;
    const ticket = ++this.#ticket;
    this.#stopJob();
    this.loading = true;
    this.failure = null;
    this.saved = null;
    try {
      const page = await appLogs(this.#dir, query);
      if (ticket !== this.#ticket) return;
      this.index.reset(page.lines);
      this.group = page.group;
      this.truncated = page.truncated;
      this.loaded = true;
      this.generation += 1;
      this.version += 1;
      this.#noteTasks();
      this.loading = false;
      if (this.following) this.#startJob();
    } catch (e) {
      if (ticket !== this.#ticket) return;
      this.failure = failureOf(e);
      this.loading = false;
      this.following = false;
    }
  }

  /** Opens one task's logs (or every task's) at the newest line, as a failed deploy or a task row asks. */
  show(taskId: string | null): Promise<void> {
    this.taskId = taskId;
    this.search = '';
    this.searchedInAws = null;
    if (this.customProblem !== null) this.range = DEFAULT_RANGE;
    this.revealed += 1;
    this.#noteTasks();
    return this.load();
  }

  chooseTask(taskId: string | null): Promise<void> {
    this.taskId = taskId;
    return this.load();
  }

  chooseRange(range: RangeId): Promise<void> {
    this.range = range;
    return this.load();
  }

  /** Asks CloudWatch for the search, over the whole range, rather than searching the lines read. */
  searchInAws(): Promise<void> {
    this.searchedInAws = this.search.trim() === '' ? null : this.search;
    return this.load();
  }

  /** Back to every line of the range. */
  clearAwsSearch(): Promise<void> {
    this.searchedInAws = null;
    return this.load();
  }

  /** Turns following on (new lines are added as CloudWatch gets them) or off (the job is cancelled). */
  setFollowing(on: boolean): void {
    this.following = on;
    this.followNote = null;
    if (!on) this.#stopJob();
    else if (!this.loading) this.#startJob();
  }

  /** Asks where to save, then writes the lines the task, range and search find, as text. */
  async download(app: string): Promise<void> {
    const query = this.query(this.search.trim() === '' ? this.searchedInAws : this.search);
    if (query === null || this.saving) return;
    this.saveFailure = null;
    this.saved = null;
    let path: string | null;
    try {
      path = await pickSavePath(`Save the logs of ${app}`, logFileName(app, Date.now()));
    } catch (e) {
      this.saveFailure = failureOf(e);
      return;
    }
    if (path === null) return;
    this.saving = true;
    try {
      this.saved = { count: await saveLogs(this.#dir, query, path), path };
    } catch (e) {
      this.saveFailure = failureOf(e);
    } finally {
      this.saving = false;
    }
  }

  /** The card or the project closed: no follow job outlives it. */
  dispose(): void {
    this.#ticket += 1;
    this.following = false;
    this.#stopJob();
  }

  #startJob(): void {
    this.#stopJob();
    const query = this.query();
    if (query === null) return;
    const since = followFromSeconds(this.index.newestAtMs(), Date.now(), query.sinceSeconds ?? 0);
    const token = {};
    this.#jobToken = token;
    const job = followLogs(this.#dir, { ...query, sinceSeconds: since }, (event) => {
      if (this.#jobToken === token) this.#followed(event);
    });
    this.#job = job;
    job.promise.then(
      () => {
        if (this.#jobToken === token) this.#job = null;
      },
      (e: unknown) => {
        if (this.#jobToken !== token) return;
        this.#job = null;
        this.following = false;
        this.failure = failureOf(e);
      },
    );
  }

  #stopJob(): void {
    const job = this.#job;
    this.#job = null;
    this.#jobToken = null;
    job?.cancel().catch(() => {});
  }

  #followed(event: LogEvent): void {
    if (event.type === 'PollFailed') {
      this.followNote = event.data.message;
      return;
    }
    this.followNote = null;
    const { added, dropped } = this.index.append(event.data.lines, FOLLOW_CAP, LOG_LIMIT);
    if (dropped) this.truncated = true;
    if (added > 0 || dropped) {
      this.version += 1;
      if (event.data.lines.some((l) => !this.tasksSeen.includes(l.taskId))) this.#noteTasks();
    }
  }

  #noteTasks(): void {
    const ids = this.index.taskIds();
    if (this.taskId !== null && !ids.includes(this.taskId)) ids.push(this.taskId);
    this.tasksSeen = ids;
  }
}
