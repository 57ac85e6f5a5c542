// How many tasks the app's service runs behind its load balancer, and its auto scaling,
// changed from the Running on AWS card: the engine saves the numbers in slipway.toml first
// (refusing what is not allowed, in its words) and then changes the service; what runs and
// the saved settings are read again after, so the card shows the service as it now is.
import { scaleApp, type AppStatus, type RunningTask, type ScaleOutcome, type ScaleRequest, type Scaling } from '../../ipc';
import { failureOf, type Failure } from '../../ui/failure';
import { formatMoney } from '../cost/money';
import { taskCount } from './status.svelte';

/** The service's scaling in words: "Runs 2 tasks", "Scales from 1 to 4 tasks, keeping average CPU near 60%". */
export function scalingText(scaling: Scaling | null, desired: number): string {
  if (scaling === null) return `Runs ${taskCount(desired)}.`;
  const range = `Scales from ${scaling.min} to ${taskCount(scaling.max)}`;
  if (scaling.requestsTarget !== null) {
    return `${range} on visitors' requests, keeping each task near ${scaling.requestsTarget} requests a minute; ${desired} running now.`;
  }
  const cpu = scaling.cpuTarget !== null ? `, keeping their average CPU near ${scaling.cpuTarget}%` : '';
  return `${range} on CPU load${cpu}; ${desired} running now.`;
}

/** What auto scaling follows: the tasks' average CPU, or the requests each task serves. */
export type ScaleOn = 'cpu' | 'requests';

/** The requests a minute per task the form offers first. */
export const DEFAULT_REQUESTS_TARGET = 1000;

/** What a scale did, in a sentence: the engine's changes, or that nothing needed one; and,
 * while fewer than asked run (`runningNow`, from the latest reading), that more are starting. */
export function scaleResult(outcome: ScaleOutcome, runningNow: number): string {
  if (outcome.changes.length === 0) return `Nothing changed: the service already ran as asked (${taskCount(outcome.desired)}).`;
  const changes = outcome.changes.join('; ');
  const missing = outcome.desired - runningNow;
  const starting = missing > 0 ? ` ${missing === 1 ? 'One more task starts' : `${missing} more tasks start`} in a minute or so.` : '';
  return `Saved in slipway.toml; the service now ${changes}.${starting}`;
}

/** What one of the service's tasks costs an hour, by the last reading of what runs. */
export function perTaskHour(tasks: RunningTask[]): number | null {
  return tasks.find((t) => t.fromService && t.costPerHour !== null)?.costPerHour ?? tasks.find((t) => t.costPerHour !== null)?.costPerHour ?? null;
}

/** The cost of the tasks asked for, in words, from what one costs now. */
export function scaleCost(perTask: number | null, tasks: number, most: number | null): string | null {
  if (perTask === null) return null;
  const range = most !== null && most > tasks ? ` to ${formatMoney(perTask * most)} with ${most}` : '';
  return `About ${formatMoney(perTask * tasks)} an hour for ${taskCount(tasks)}${range} (each task ${formatMoney(perTask)} an hour), besides the load balancer.`;
}

export class ScaleControl {
  /** The form is open. */
  editing = $state(false);
  /** The tasks kept running (the least, with auto scaling). */
  tasks = $state(1);
  auto = $state(false);
  maxTasks = $state(2);
  on = $state<ScaleOn>('cpu');
  /** Empty means the engine's default target. */
  cpuTarget = $state<number | null>(null);
  /** Requests a minute per task, when scaling on requests. */
  requestsTarget = $state(DEFAULT_REQUESTS_TARGET);
  /** Fields whose text is not a whole number, by field. */
  problems = $state<Record<string, string>>({});
  busy = $state(false);
  failure = $state<Failure | null>(null);
  /** What the last change did, until the form is opened again. */
  outcome = $state<ScaleOutcome | null>(null);

  #dir: string;
  #after: () => Promise<void>;

  /** `after` reads what runs and the saved settings again, whatever the scale's end. */
  constructor(dir: string, after: () => Promise<void>) {
    this.#dir = dir;
    this.#after = after;
  }

  /** Opens the form with the service as the last reading shows it. */
  open(status: AppStatus): void {
    const scaling = status.balancer?.scaling ?? null;
    this.tasks = scaling?.min ?? Math.max(1, status.service?.desired ?? 1);
    this.auto = scaling !== null;
    this.maxTasks = scaling?.max ?? this.tasks + 1;
    this.cpuTarget = scaling?.cpuTarget ?? null;
    this.on = scaling?.requestsTarget != null ? 'requests' : 'cpu';
    this.requestsTarget = scaling?.requestsTarget ?? DEFAULT_REQUESTS_TARGET;
    this.problems = {};
    this.failure = null;
    this.outcome = null;
    this.editing = true;
  }

  cancel(): void {
    this.editing = false;
    this.failure = null;
  }

  /** A field's new value, or null when its text is not a whole number (nothing can be applied then). */
  set(field: 'tasks' | 'maxTasks' | 'cpuTarget' | 'requestsTarget', value: number | null, empty = false): void {
    const next = { ...this.problems };
    if (value === null && !(empty && field === 'cpuTarget')) {
      next[field] = 'Enter a whole number.';
    } else {
      delete next[field];
      if (field === 'cpuTarget') this.cpuTarget = value;
      else if (value !== null) this[field] = value;
    }
    this.problems = next;
  }

  /** The problems of the fields in use: the count, and with auto scaling its maximum and
   * the chosen target (a CPU typo does not block scaling on requests). */
  get problemsNow(): string[] {
    const inUse = ['tasks', ...(this.auto ? ['maxTasks', this.on === 'cpu' ? 'cpuTarget' : 'requestsTarget'] : [])];
    return inUse.flatMap((field) => (field in this.problems ? [this.problems[field]] : []));
  }

  get request(): ScaleRequest {
    const auto = this.auto;
    return {
      tasks: this.tasks,
      maxTasks: auto ? this.maxTasks : null,
      cpuTarget: auto && this.on === 'cpu' ? this.cpuTarget : null,
      requestsTarget: auto && this.on === 'requests' ? this.requestsTarget : null,
    };
  }

  async apply(): Promise<void> {
    if (this.busy || this.problemsNow.length > 0) return;
    this.busy = true;
    this.failure = null;
    this.outcome = null;
    try {
      this.outcome = await scaleApp(this.#dir, this.request);
      this.editing = false;
    } catch (e) {
      // The engine's refusal (a number out of range, no service yet) says what to do.
      this.failure = failureOf(e);
    } finally {
      this.busy = false;
    }
    await this.#after();
  }
}
