// What the open app runs on AWS now (its tasks, its service, its recent deploys), read on
// demand, and stopping all of it so it stops costing money. Which tasks belong to the app
// and how to stop them are the engine's; this keeps its last answer and says it in words.
import { appStatus, settleDeploy, stopApp, stopTask, type AppStatus, type JournalEntry, type RunningTask, type StopReport } from '../../ipc';
import { notifyInBackground } from '../../ui/notify';
import { failureOf, type Failure } from '../../ui/failure';
import { formatMoney } from '../cost/money';
import type { AwsReady } from '../setup/setup.svelte';

/** How often the card reads what runs again while the connected project is open. */
export const RUNNING_REFRESH_MS = 15_000;

/** How many of the newest deploys the card lists. */
export const HISTORY_SHOWN = 5;

/** "1 task", "3 tasks". */
export function taskCount(n: number): string {
  return `${n} ${n === 1 ? 'task' : 'tasks'}`;
}

/** True when stopping would change something: a task runs or the service wants one. */
export function somethingRuns(status: AppStatus): boolean {
  return status.tasks.length > 0 || (status.service?.desired ?? 0) > 0;
}

/** The question before Stop everything: what stops, and why it matters. */
export function stopQuestion(status: AppStatus): string {
  const service = status.service && status.service.desired > 0 ? `, and scales service ${status.service.name} to zero` : '';
  // The load balancer is not stopped: it keeps the address for the next deploy, and bills.
  const balancer = status.balancer ? ' The load balancer stays, with its address, and bills while it exists; Remove from AWS removes it.' : '';
  return `This stops ${taskCount(status.tasks.length)} of ${status.app}${service}. The app stops answering, and you stop paying for ${status.tasks.length === 1 && !service ? 'it' : 'them'}. The next deploy starts it again.${balancer}`;
}

/** The question before stopping one task: what stops, and what it saves. */
export function stopTaskQuestion(task: RunningTask, history: JournalEntry[] = []): string {
  const where = task.url ? ` It stops answering at ${task.url}` : ' It stops';
  const saves = task.costPerHour !== null ? `, and you stop paying ${formatMoney(task.costPerHour)} an hour for it.` : ', and you stop paying for it.';
  return `Stop the task running ${taskRelease(task, history).toLowerCase()}?${where}${saves}`;
}

/** A task's state in words: "Running, healthy", "Starting", "Running, failing its health check". */
export function taskState(task: Pick<RunningTask, 'status' | 'health'>): string {
  const { status, health } = task;
  if (['PROVISIONING', 'PENDING', 'ACTIVATING'].includes(status)) return 'Starting';
  if (['DEACTIVATING', 'STOPPING', 'DEPROVISIONING'].includes(status)) return 'Stopping';
  if (status === 'STOPPED') return 'Stopped';
  if (status !== 'RUNNING') return status.charAt(0) + status.slice(1).toLowerCase();
  if (health === 'HEALTHY') return 'Running, healthy';
  if (health === 'UNHEALTHY') return 'Running, failing its health check';
  if (health === 'UNKNOWN') return 'Running, health not checked yet';
  return 'Running';
}

/** Which release a task runs, in words: the version of the deploy that registered its
 * revision ("Version 2026-12-03.2"), else "Revision 7". */
export function taskRelease(task: Pick<RunningTask, 'revision'>, history: JournalEntry[]): string {
  if (task.revision === null) return 'A revision not known';
  const suffix = `:${task.revision}`;
  const entry = history.find((e) => e.taskDefinition?.endsWith(suffix) && e.outcome === 'succeeded');
  return entry ? `Version ${entry.version}` : `Revision ${task.revision}`;
}

/** What a deploy in the history was, in words: a rollback says where it went. */
export function historyKind(entry: Pick<JournalEntry, 'mode' | 'rolledBackTo'>): string {
  const how = entry.mode === 'service' ? 'service' : 'standalone task';
  return entry.rolledBackTo !== null ? `Rollback to revision ${entry.rolledBackTo} (${how})` : `Deploy (${how})`;
}

/** What Stop everything did, in a sentence or two: what stopped, what could not, and the
 * unfinished deploys it closed. */
export function stopResult(report: StopReport): string {
  const outcome = report.stopped;
  const parts: string[] = [];
  if (outcome.stoppedTasks.length > 0) parts.push(`stopped ${taskCount(outcome.stoppedTasks.length)}`);
  if (outcome.serviceScaledDown) parts.push(`scaled service ${outcome.serviceScaledDown} to zero`);
  const failed = outcome.failed.map((f) => `${f.what} could not be stopped and still runs (${f.reason})`);
  const closed = report.settled.length === 0 ? '' : ` Closed ${report.settled.length === 1 ? 'an unfinished deploy' : `${report.settled.length} unfinished deploys`}.`;
  const unsettled = report.unsettled.map((u) => ` ${u}`).join('');
  if (parts.length === 0 && failed.length === 0) return `Nothing was running.${closed}${unsettled}`;
  const text = [parts.join(' and '), ...failed].filter((p) => p !== '').join('; ');
  const more = failed.length > 0 ? ' Press Stop everything again to retry.' : '';
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}.${more}${closed}${unsettled}`;
}

/** The tone of a deploy's outcome, in the history and the releases on AWS. */
export function outcomeTone(entry: Pick<JournalEntry, 'outcome'>): 'ok' | 'bad' | 'warn' | 'pending' | 'neutral' {
  switch (entry.outcome) {
    case 'succeeded':
      return 'ok';
    case null:
      return 'pending';
    case 'cancelled':
    case 'abandoned':
      return 'neutral';
    case 'timed out':
      return 'warn';
    default:
      return 'bad';
  }
}

export class RunningOnAws {
  status = $state<AppStatus | null>(null);
  loading = $state(false);
  failure = $state<Failure | null>(null);
  /** Stop everything was pressed and waits for its confirmation. */
  confirming = $state(false);
  /** The task whose Stop was pressed, waiting for its confirmation. */
  confirmingTask = $state<string | null>(null);
  stopping = $state(false);
  /** What the last Stop everything did, until the next reading. */
  stopped = $state<StopReport | null>(null);
  /** When `status` was read (milliseconds), for the history's "5 min ago". */
  readAt = $state(0);
  /** When the reading in `status` was asked for: what happened after it is not in it. */
  askedAt = $state(0);

  #dir: string;
  #aws: AwsReady;

  constructor(dir: string, aws: AwsReady) {
    this.#dir = dir;
    this.#aws = aws;
  }

  /**
   * Asks AWS what the app runs. `connect` saves the AWS options and connects first, as
   * pressing Refresh does; without it the account already connected is asked. A `periodic`
   * reading (the 15 s one) keeps what the last stop said on screen; any other clears it.
   */
  async refresh(connect = true, periodic = false): Promise<void> {
    if (this.loading) return;
    this.loading = true;
    this.failure = null;
    if (!periodic) {
      this.stopped = null;
      this.settled = null;
    }
    try {
      if (connect) await this.#aws.prepare();
      const asked = Date.now();
      this.status = await appStatus(this.#dir);
      this.askedAt = asked;
      this.readAt = Date.now();
    } catch (e) {
      this.failure = failureOf(e);
    } finally {
      this.loading = false;
    }
  }

  /** What stopping a deploy's leftovers did, in the engine's words, until the next reading. */
  settled = $state<string | null>(null);

  /** Stops exactly what an unfinished deploy left running (and closes it), then reads again. */
  async stopLeftover(deployId: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.failure = null;
    let said: string | null = null;
    let failure: Failure | null = null;
    try {
      const entry = await settleDeploy(deployId, true);
      const summary = entry.summary ?? 'its tasks were stopped';
      said = entry.finishedAt === null ? `Not everything could be stopped yet: ${summary} Press Stop it again to retry.` : `Done: ${summary}`;
    } catch (e) {
      failure = failureOf(e);
    } finally {
      this.stopping = false;
    }
    await this.refresh(false);
    this.settled = said;
    this.failure = failure ?? this.failure;
  }

  /** Stops one standalone task, then reads what is left. */
  stopOne(taskId: string): Promise<void> {
    return this.#stopWith(() => stopTask(this.#dir, taskId));
  }

  /** Stops every task of the app and scales its service to zero, then reads what is left. */
  stop(): Promise<void> {
    return this.#stopWith(() => stopApp(this.#dir));
  }

  async #stopWith(stopping: () => Promise<StopReport>): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.failure = null;
    let stopped: StopReport | null = null;
    let failure: Failure | null = null;
    try {
      stopped = await stopping();
    } catch (e) {
      failure = failureOf(e);
    } finally {
      this.stopping = false;
      this.confirming = false;
      this.confirmingTask = null;
    }
    // Read afresh even when stopping failed half-way: some tasks may have stopped.
    await this.refresh(false);
    this.stopped = stopped;
    this.failure = failure ?? this.failure;
    void notifyInBackground(() =>
      stopped
        ? { title: 'Stopped on AWS', body: stopResult(stopped) }
        : failure
          ? { title: 'Stopping on AWS failed', body: failure.message }
          : null,
    );
  }
}
