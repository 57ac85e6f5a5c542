// The running-cost meter of the open project, shared by every screen: the engine's cost
// watch (every 30 s: what runs and what it costs, and the idle guard's warnings, stops and
// reminders) folded into what the app-wide banner shows. The watch runs while a saved
// project with AWS connected is open; which tasks to stop, and when, is the engine's.
import { IpcFailure, watchCosts, type CostEvent, type Job, type RunningCost } from '../../ipc';
import { failureOf, type Failure } from '../../ui/failure';
import { notifyInBackground, type Notice } from '../../ui/notify';
import { taskCount, type RunningOnAws } from '../deploy/status.svelte';
import { formatMoney } from './money';
import { hoursText, type ProjectCost } from './cost.svelte';

type EventData<T extends CostEvent['type']> = Extract<CostEvent, { type: T }>['data'];

/** Something the idle guard said about one task, until dismissed or the task is gone. */
export interface CostNotice {
  /** Increasing number, a stable key. */
  id: number;
  kind: 'warned' | 'stopped' | 'ranLong';
  taskId: string;
  text: string;
}

export interface MeterView {
  running: RunningCost | null;
  /** When `running` was metered (milliseconds), to count on from. */
  meteredAt: number;
  notices: CostNotice[];
  /** Why the last check could not be made; cleared by the next reading. */
  checkFailed: string | null;
  seen: number;
}

export function newMeterView(): MeterView {
  return { running: null, meteredAt: 0, notices: [], checkFailed: null, seen: 0 };
}

/** A task id as a sentence names it: its first 8 characters, as the ECS console lists them. */
export function shortTask(taskId: string): string {
  return taskId.slice(0, 8);
}

/** "2 tasks running, $0.0347/h". */
export function meterText(running: RunningCost): string {
  return `${taskCount(running.tasks.length)} running, ${formatMoney(running.perHour)}/h`;
}

/** What the running tasks have cost by `nowMs`: the last reading, counted on at its hourly rate. */
export function soFarAt(running: RunningCost, meteredAt: number, nowMs: number): number | null {
  if (running.soFar === null) return null;
  const hours = Math.max(0, nowMs - meteredAt) / 3_600_000;
  return running.soFar + (running.perHour ?? 0) * hours;
}

export function warnedText(data: EventData<'AutoStopWarned'>, autoStopHours: number | null): string {
  const after = autoStopHours === null ? '' : ` (auto-stop after ${hoursText(autoStopHours)})`;
  return `Task ${shortTask(data.taskId)} will be stopped in ${data.minutesLeft} min${after}.`;
}

export function stoppedText(data: EventData<'AutoStopped'>): string {
  return `Auto-stop stopped task ${shortTask(data.taskId)} after ${hoursText(data.ranHours)}, so it no longer costs money.`;
}

export function ranLongText(data: EventData<'RanLong'>): string {
  return `Task ${shortTask(data.taskId)} has run ${hoursText(data.ranHours)}, longer than your ${hoursText(data.limitHours)} reminder. It costs money until it stops.`;
}

/**
 * Folds one watch event into `view` (in place, so a $state proxy updates finely).
 * `autoStopHours` is the app's saved setting, for the warning's words.
 */
export function applyCostEvent(view: MeterView, event: CostEvent, nowMs: number, autoStopHours: number | null): void {
  const notice = (kind: CostNotice['kind'], taskId: string, text: string) => {
    view.notices = view.notices.filter((n) => !(n.taskId === taskId && (n.kind === kind || kind === 'stopped')));
    view.notices.push({ id: view.seen++, kind, taskId, text });
  };
  switch (event.type) {
    case 'Metered': {
      view.running = event.data;
      view.meteredAt = nowMs;
      view.checkFailed = null;
      // A warning or reminder about a task that no longer runs (stopped by hand) is old news.
      const running = new Set(event.data.tasks.map((t) => t.taskId));
      view.notices = view.notices.filter((n) => n.kind === 'stopped' || running.has(n.taskId));
      break;
    }
    case 'AutoStopWarned':
      notice('warned', event.data.taskId, warnedText(event.data, autoStopHours));
      break;
    case 'AutoStopped':
      notice('stopped', event.data.taskId, stoppedText(event.data));
      break;
    case 'RanLong':
      notice('ranLong', event.data.taskId, ranLongText(event.data));
      break;
    case 'CheckFailed':
      view.checkFailed = event.data.message;
      break;
  }
}

/** What the OS says about an idle-guard event while the window is in the background. */
export function costNotice(app: string, event: CostEvent, autoStopHours: number | null): Notice | null {
  switch (event.type) {
    case 'AutoStopWarned':
      return { title: `${app} will be stopped soon`, body: warnedText(event.data, autoStopHours) };
    case 'AutoStopped':
      return { title: `${app} was stopped`, body: stoppedText(event.data) };
    case 'RanLong':
      return { title: `${app} is still running on AWS`, body: ranLongText(event.data) };
    default:
      return null;
  }
}

/** What the meter works with while a project is open: its cost state and its Running on AWS board. */
export interface MeterLinks {
  dir: string;
  app: string;
  /** Which connection the watch is for (account and region): a new one restarts it. */
  connection: string;
  cost: ProjectCost;
  board: RunningOnAws;
}

export class CostMeter {
  view = $state<MeterView>(newMeterView());
  /** The clock the "so far" figure counts on with, between readings. */
  now = $state(Date.now());
  app = $state<string | null>(null);
  /** Stop was pressed on a reminder and waits for its confirmation. */
  confirming = $state(false);
  /** Turning auto-stop off or stopping, from the banner, failed. */
  failure = $state<Failure | null>(null);
  /** Why the watch ended before it was cancelled (it could not connect, say). */
  watchFailure = $state<string | null>(null);

  soFar = $derived(this.view.running ? soFarAt(this.view.running, this.view.meteredAt, this.now) : null);

  #links = $state<MeterLinks | null>(null);
  #job: Job<null> | null = null;
  #clock: ReturnType<typeof setInterval> | null = null;
  /** Which watch is current; events of an older one are dropped. */
  #following = 0;

  board = $derived(this.#links?.board ?? null);

  /** Starts the watch for the project in `links`, unless it already runs for that connection. */
  follow(links: MeterLinks): void {
    const current = this.#links;
    const same = current && current.dir === links.dir && current.connection === links.connection && current.cost === links.cost;
    if (same && this.#job !== null) return;
    this.#stop();
    this.#links = links;
    this.app = links.app;
    const ticket = ++this.#following;
    const job = watchCosts(links.dir, (event) => {
      if (ticket !== this.#following) return;
      this.now = Date.now();
      applyCostEvent(this.view, event, this.now, links.cost.settings?.autoStopHours ?? null);
      void notifyInBackground(() => costNotice(links.app, event, links.cost.settings?.autoStopHours ?? null));
    });
    this.#job = job;
    this.#clock = setInterval(() => (this.now = Date.now()), 1000);
    job.promise.then(
      () => {
        if (ticket === this.#following) this.#job = null;
      },
      (e: unknown) => {
        if (ticket !== this.#following) return;
        this.#job = null;
        // The watch could not start (credentials, say): a quiet note, not an error wall.
        if (!(e instanceof IpcFailure && e.code === 'Cancelled')) this.watchFailure = failureOf(e).message;
      },
    );
  }

  /** The project that `cost` belongs to closed or lost its connection: the watch stops. */
  release(cost: ProjectCost): void {
    if (this.#links?.cost === cost) this.#stop();
  }

  dismiss(id: number): void {
    this.view.notices = this.view.notices.filter((n) => n.id !== id);
  }

  /** "Keep it running": auto-stop off for the app; the warnings it gave are void. */
  async keepRunning(): Promise<void> {
    const cost = this.#links?.cost;
    if (!cost) return;
    this.failure = null;
    await cost.turnAutoStopOff();
    this.failure = cost.guardFailure;
    if (cost.settings?.autoStopHours === null) {
      this.view.notices = this.view.notices.filter((n) => n.kind !== 'warned');
    }
  }

  /** Stop on a reminder: what runs is read first, so the question names it. */
  async askToStop(): Promise<void> {
    const board = this.#links?.board;
    if (!board) return;
    if (!board.status) await board.refresh(false);
    this.confirming = board.status !== null;
  }

  /** Stops everything of the app, as the Running on AWS card does; the reminders go with the tasks. */
  async stopAll(): Promise<void> {
    const board = this.#links?.board;
    if (!board) return;
    this.failure = null;
    await board.stop();
    this.confirming = false;
    this.failure = board.failure;
    if (board.status && board.status.tasks.length === 0) {
      this.view.notices = this.view.notices.filter((n) => n.kind === 'stopped');
    }
  }

  #stop(): void {
    this.#following += 1;
    const job = this.#job;
    this.#job = null;
    // A cancel that fails finds the job already ended: there is nothing left to stop.
    job?.cancel().catch(() => {});
    if (this.#clock !== null) clearInterval(this.#clock);
    this.#clock = null;
    this.#links = null;
    this.app = null;
    this.confirming = false;
    this.failure = null;
    this.watchFailure = null;
    this.view = newMeterView();
  }
}

/** The one meter of the window: the open project's. */
export const costMeter = new CostMeter();
