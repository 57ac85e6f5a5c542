// A deploy of the open project to AWS: the engine's event stream folded into what the
// Deploy card shows (the six steps, the push, the task-definition diff, each task's states,
// the service's events, the address and the URL checks), the clock against the deadline,
// and the outcome or the diagnosis. What happens on AWS, and why a task stopped, are the
// engine's; this only keeps what it said in the order it said it.
import {
  deploy,
  IpcFailure,
  type AppStatus,
  type DeployEvent,
  type DeployMode,
  type DeployOutcome,
  type DeployRequest,
  type DeployStep,
  type ErrorCode,
  type Job,
} from '../../ipc';
import { failureOf, type Failure } from '../../ui/failure';
import { notifyInBackground, type Notice } from '../../ui/notify';
import { formatBytes, formatClock, formatDuration } from '../../ui/format';
import type { AwsReady } from '../setup/setup.svelte';

/** The steps in the order the engine takes them, with the names the card shows. */
export const STEPS: readonly { step: DeployStep; label: string }[] = [
  { step: 'push', label: 'Push' },
  { step: 'register', label: 'Task definition' },
  { step: 'start', label: 'Start' },
  { step: 'wait', label: 'Wait' },
  { step: 'verify', label: 'Verify' },
  { step: 'retire', label: 'Stop previous' },
];

/** What the deploy had when no `deadlineSeconds` is asked for (the engine's default). */
export const DEFAULT_DEADLINE_SECONDS = 600;

type EventData<T extends DeployEvent['type']> = Extract<DeployEvent, { type: T }>['data'];
export type DeployStarted = EventData<'Started'>;
export type PushProgress = EventData<'PushProgress'>;
export type TaskDefinitionChange = EventData<'TaskDefinition'>;
export type ServiceEvent = EventData<'ServiceEvent'>;
export type TargetChange = EventData<'Target'>;
export type TaskAddress = EventData<'Address'>;
export type UrlCheck = EventData<'Check'>;
export type PreviousTasks = EventData<'PreviousTasks'>;
export type DeployFailure = EventData<'Failed'>;
export type Retrying = EventData<'Retrying'>;

export type StepState = 'pending' | 'running' | 'done' | 'failed';

export interface StepView {
  step: DeployStep;
  label: string;
  state: StepState;
  detail: string | null;
  /** Milliseconds since the deploy started, as the engine measured them. */
  startedMs: number | null;
  endedMs: number | null;
}

/** One state a task was seen in. */
export interface TaskState {
  status: string;
  health: string | null;
  /** The state and how long the one before lasted: "PENDING · 4.2 s in PROVISIONING". */
  label: string;
  atMs: number | null;
}

export interface TaskTimeline {
  taskId: string;
  states: TaskState[];
}

export interface DeployView {
  started: DeployStarted | null;
  steps: StepView[];
  push: PushProgress | null;
  taskDefinition: TaskDefinitionChange | null;
  tasks: TaskTimeline[];
  serviceEvents: ServiceEvent[];
  /** A blue/green deployment's stage, in the user's words (null for rolling deploys). */
  rollout: string | null;
  /** Each new task's target at the load balancer, as it changed (stable address). */
  targets: TargetChange[];
  address: TaskAddress | null;
  checks: UrlCheck[];
  previous: PreviousTasks | null;
  failure: DeployFailure | null;
  /** The newest call AWS failed transiently and the deploy is repeating (cleared by progress). */
  retrying: Retrying | null;
  /** What did not work after the new task answered (the deploy still succeeded). */
  warnings: string[];
}

export function newView(): DeployView {
  return {
    started: null,
    steps: STEPS.map(({ step, label }) => ({ step, label, state: 'pending', detail: null, startedMs: null, endedMs: null })),
    push: null,
    taskDefinition: null,
    tasks: [],
    serviceEvents: [],
    rollout: null,
    targets: [],
    address: null,
    checks: [],
    previous: null,
    failure: null,
    retrying: null,
    warnings: [],
  };
}

/** A task's state as its chip says it. */
export function taskStateLabel(data: EventData<'TaskStatus'>): string {
  const state = data.health ? `${data.status} (${data.health})` : data.status;
  if (data.previous === null || data.previousMs === null) return state;
  // A health change keeps the status: the time is how long the status had lasted.
  if (data.previous === data.status) return `${state} · after ${formatDuration(data.previousMs)}`;
  return `${state} · ${formatDuration(data.previousMs)} in ${data.previous}`;
}

/**
 * Folds one deploy event into `view` (in place, so a $state proxy updates finely). It
 * reads nothing but its arguments: the same stream always gives the same view.
 */
export function applyDeployEvent(view: DeployView, event: DeployEvent): void {
  // Any progress means the call that was being repeated went through.
  if (event.type !== 'Retrying' && event.type !== 'Check') view.retrying = null;
  switch (event.type) {
    case 'Started':
      view.started = event.data;
      break;
    case 'StepStarted': {
      const step = stepOf(view, event.data.step);
      step.state = 'running';
      step.detail = event.data.detail;
      step.startedMs = event.data.atMs;
      step.endedMs = null;
      break;
    }
    case 'StepDone': {
      const step = stepOf(view, event.data.step);
      step.state = 'done';
      step.detail = event.data.detail;
      step.endedMs = event.data.atMs;
      break;
    }
    case 'PushProgress':
      view.push = event.data;
      break;
    case 'TaskDefinition':
      view.taskDefinition = event.data;
      break;
    case 'TaskStatus': {
      const { taskId, status, health, atMs } = event.data;
      let timeline = view.tasks.find((t) => t.taskId === taskId);
      if (!timeline) {
        view.tasks.push({ taskId, states: [] });
        timeline = view.tasks[view.tasks.length - 1];
      }
      timeline.states.push({ status, health, label: taskStateLabel(event.data), atMs });
      break;
    }
    case 'ServiceEvent':
      view.serviceEvents.push(event.data);
      break;
    case 'Rollout':
      view.rollout = event.data.said;
      break;
    case 'Target':
      view.targets.push(event.data);
      break;
    case 'Address':
      view.address = event.data;
      break;
    case 'Check':
      view.checks.push(event.data);
      break;
    case 'PreviousTasks':
      view.previous = event.data;
      break;
    case 'Retrying':
      view.retrying = event.data;
      break;
    case 'Warning':
      view.warnings.push(event.data.message);
      break;
    case 'Failed':
      view.failure = event.data;
      // The failure was seen with the task's last state: that is when the step ended.
      stopView(view, lastSeenMs(view));
      break;
  }
}

/** A target change as the timeline's row says it: "at the load balancer: healthy: the load
 * balancer sends it visitors". */
export function targetRow(change: Pick<TargetChange, 'said'>): string {
  return `at the load balancer: ${change.said}`;
}

/** The tone of a target's state: healthy is good, unhealthy bad, the rest on its way. */
export function targetTone(state: string): Tone {
  if (state === 'healthy') return 'ok';
  if (state === 'unhealthy') return 'bad';
  if (state === 'draining' || state === 'unused') return 'neutral';
  return 'pending';
}

/** A task's target changes, in the order seen. */
export function targetsOf(view: DeployView, taskId: string): TargetChange[] {
  return view.targets.filter((t) => t.taskId === taskId);
}

function lastSeenMs(view: DeployView): number | null {
  const times = [...view.tasks.flatMap((t) => t.states.map((s) => s.atMs)), ...view.targets.map((t) => t.atMs)].filter((ms) => ms !== null);
  return times.length > 0 ? Math.max(...times) : null;
}

function stepOf(view: DeployView, step: DeployStep): StepView {
  // Every step is in the list from the start (newView), so this always finds one.
  return view.steps.find((s) => s.step === step)!;
}

/**
 * The deploy stopped (failed, cancelled, timed out): the step it was in is marked failed,
 * ending at `atMs` (the first time given wins: a diagnosis's, then the end of the job's).
 */
export function stopView(view: DeployView, atMs: number | null): void {
  for (const step of view.steps) {
    if (step.state === 'running') step.state = 'failed';
    if (step.state === 'failed' && step.endedMs === null) step.endedMs = atMs;
  }
}

/** The deploy answered: a step it had no need for is done, saying why. */
export function finishView(view: DeployView, outcome: DeployOutcome): void {
  for (const step of view.steps) {
    if (step.state !== 'pending') continue;
    step.state = 'done';
    step.detail = step.step === 'retire' ? retireSkipped(outcome) : 'not needed';
  }
}

function retireSkipped(outcome: DeployOutcome): string {
  if (outcome.mode === 'service') return 'the service replaces its own tasks';
  if (outcome.keptPrevious.length > 0) return `kept ${outcome.keptPrevious.join(', ')} running, as asked`;
  return 'no previous task was running';
}

/** How long a step took, or has taken so far when it is running (`nowMs` since the deploy started). */
export function stepElapsed(step: StepView, nowMs: number): string | null {
  if (step.startedMs === null) return null;
  const end = step.state === 'running' ? nowMs : step.endedMs;
  return end === null ? null : formatDuration(Math.max(0, end - step.startedMs));
}

/** The push in words: "layer 3 of 5 · 1.2 MB of 4.0 MB". */
export function pushLabel(push: PushProgress): string {
  const layer = push.layers > 0 ? `layer ${Math.min(push.layersDone + 1, push.layers)} of ${push.layers}` : push.status;
  const bytes = push.totalBytes ? ` · ${formatBytes(push.currentBytes)} of ${formatBytes(push.totalBytes)}` : '';
  return `${layer}${bytes}`;
}

/** The push's completion in percent, counting the layer in flight by its bytes. */
export function pushPercent(push: PushProgress): number {
  if (push.layers === 0) return 0;
  const current = push.totalBytes && push.currentBytes !== null ? Math.min(1, push.currentBytes / push.totalBytes) : 0;
  const done = push.layersDone >= push.layers ? push.layers : push.layersDone + current;
  return Math.min(100, Math.round((done / push.layers) * 100));
}

/** The time left before the engine gives up: "deadline in 9:41". */
export function deadlineText(deadlineSeconds: number, elapsedMs: number): string {
  const left = deadlineSeconds * 1000 - elapsedMs;
  return left > 0 ? `deadline in ${formatClock(left)}` : 'deadline passed';
}

/** What became of the app's earlier tasks, in one sentence. */
export function previousText(outcome: DeployOutcome): string {
  const tasks = (ids: string[]) => `${ids.length === 1 ? 'task' : 'tasks'} ${ids.join(', ')}`;
  if (outcome.stoppedPrevious.length > 0) {
    return `Stopped the previous ${tasks(outcome.stoppedPrevious)} once this one answered, so you don't pay twice.`;
  }
  if (outcome.keptPrevious.length > 0) {
    return `The previous ${tasks(outcome.keptPrevious)} still ${outcome.keptPrevious.length === 1 ? 'runs' : 'run'}, as asked: you pay for ${outcome.keptPrevious.length === 1 ? 'it' : 'them'} until you stop ${outcome.keptPrevious.length === 1 ? 'it' : 'them'} below.`;
  }
  if (outcome.mode === 'service') return 'The service keeps this task running and replaces it on the next deploy.';
  return 'No previous task was running.';
}

/** Whether a finished deploy's (or rollback's) tasks still run, by the last reading of what
 * runs on AWS: `live` while one of them runs, `unknown` before any reading, otherwise `gone`
 * with what runs instead (a later rollback, Stop everything, a teardown, a task that died). */
export type Liveness = { state: 'live' | 'unknown' } | { state: 'gone'; now: string };

export function liveness(outcome: DeployOutcome, status: AppStatus | null): Liveness {
  if (status === null) return { state: 'unknown' };
  if (status.tasks.some((t) => outcome.taskIds.includes(t.taskId) && t.status === 'RUNNING')) return { state: 'live' };
  const answering = status.tasks.find((t) => t.url !== null && t.status === 'RUNNING');
  if (answering) {
    const revision = answering.revision !== null ? `revision ${answering.revision}` : `task ${answering.taskId}`;
    return { state: 'gone', now: `The app now runs ${revision}, at ${answering.url}.` };
  }
  if (status.tasks.length > 0 || (status.service?.desired ?? 0) > 0) return { state: 'gone', now: 'Another deploy of the app is starting.' };
  return { state: 'gone', now: 'Nothing of the app runs on AWS now, and nothing is billed for it.' };
}

export type Tone = 'ok' | 'bad' | 'warn' | 'pending' | 'neutral';

/** The tone of a task state's chip: stopping is bad, running (and healthy, when checked) is good. */
export function stateTone(state: { status: string; health: string | null }): Tone {
  if (['STOPPED', 'STOPPING', 'DEPROVISIONING'].includes(state.status) || state.health === 'UNHEALTHY') return 'bad';
  if (state.status === 'RUNNING' && (state.health === null || state.health === 'HEALTHY')) return 'ok';
  return 'pending';
}

/** The first `count` lines of the URL's answer, as the card shows them. */
export function firstLines(answer: string, count = 8): string {
  const lines = answer.split('\n');
  const shown = lines.slice(0, count).join('\n').trimEnd();
  return lines.length > count && lines.slice(count).some((l) => l.trim() !== '') ? `${shown}\n…` : shown;
}

/** A service event's time as a clock time; AWS's own text when it does not parse. */
export function eventTime(at: string): string {
  const when = new Date(at);
  return Number.isNaN(when.getTime()) ? at : when.toLocaleTimeString();
}

/** What to do about a deploy error the message alone does not point to; null when it does. */
export function deployHint(code: ErrorCode | null): string | null {
  switch (code) {
    case 'SetupNeeded':
      return 'Set up the AWS resources first (under AWS resources), then deploy again.';
    case 'NoReleases':
      return 'Build first: a deploy sends a release built on this computer.';
    case 'AccessDenied':
      return 'These credentials lack a permission the deploy needs: ask whoever runs the account for it, or connect with another profile.';
    case 'DeployTimedOut':
      return 'Running on AWS below shows what still runs.';
    case 'DeployInProgress':
      return 'Another deploy, or a change of the number of tasks, is running for this app. When it has finished, press Deploy again.';
    default:
      return null;
  }
}

export type DeployPhase = 'idle' | 'preparing' | 'running' | 'done' | 'failed' | 'cancelled';

/**
 * What the OS says when a deploy or a rollback ends while the window is in the background;
 * null when the user cancelled it (they know).
 */
export function deployNotice(app: string, rollback: boolean, outcome: DeployOutcome | null, failure: Failure | null, cancelled: boolean): Notice | null {
  if (cancelled) return null;
  const what = rollback ? 'Rollback' : 'Deploy';
  if (outcome) {
    return { title: `${outcome.app} is live`, body: `${what} of ${outcome.version} answered at ${outcome.url}.` };
  }
  return { title: `${what} of ${app} failed`, body: failure?.message ?? 'Open Slipway to see why.' };
}

export class DeployRun {
  /** The choices for the next deploy. */
  mode = $state<DeployMode>('task');
  keepPrevious = $state(false);

  phase = $state<DeployPhase>('idle');
  view = $state<DeployView>(newView());
  outcome = $state<DeployOutcome | null>(null);
  failure = $state<Failure | null>(null);
  startedAt = $state(0);
  /** When the last deploy answered (ms): readings of what runs asked for since know its fate. */
  endedAt = $state(0);
  /** The folder is being built first (while preparing). */
  building = $state(false);
  now = $state(0);
  /** Milliseconds since the job started; frozen once it ends. */
  elapsedMs = $derived(this.startedAt > 0 ? this.now - this.startedAt : 0);
  deadlineSeconds = $derived(this.view.started?.deadlineSeconds ?? DEFAULT_DEADLINE_SECONDS);
  busy = $derived(this.phase === 'preparing' || this.phase === 'running');

  #aws: AwsReady;
  #onFinished: () => void;
  #ensureBuilt: (() => Promise<string | null>) | null;
  #disposed = false;
  #job: Job<DeployOutcome> | null = null;
  #clock: ReturnType<typeof setInterval> | null = null;

  /**
   * `onFinished` runs after every deploy job, whatever its end: even a failed one may have
   * started tasks. `ensureBuilt`, when given, builds the folder as it is now and names the
   * release with exactly that content, which a deploy without a chosen version sends.
   */
  constructor(aws: AwsReady, onFinished: () => void = () => {}, ensureBuilt: (() => Promise<string | null>) | null = null) {
    this.#aws = aws;
    this.#onFinished = onFinished;
    this.#ensureBuilt = ensureBuilt;
  }

  /** What the choices ask of the engine. */
  get request(): DeployRequest {
    return { mode: this.mode, keepPrevious: this.mode === 'task' && this.keepPrevious };
  }

  /** Saves the AWS options and connects (so the banner names the account), then deploys. */
  async run(dir: string, request: DeployRequest): Promise<void> {
    if (this.busy) return;
    this.phase = 'preparing';
    this.view = newView();
    this.outcome = null;
    this.failure = null;
    this.startedAt = 0;
    try {
      await this.#aws.prepare();
    } catch (e) {
      this.failure = failureOf(e);
      this.phase = 'failed';
      return;
    }
    if (!request.version && !request.rollback && this.#ensureBuilt) {
      this.building = true;
      const version = await this.#ensureBuilt().finally(() => (this.building = false));
      // The project closed while it built: nothing is deployed.
      if (this.#disposed) return;
      if (version === null) {
        this.failure = { code: null, message: 'The build did not finish, so nothing was deployed. The Build card below shows why.' };
        this.phase = 'failed';
        return;
      }
      request = { ...request, version };
    }
    this.phase = 'running';
    this.startedAt = Date.now();
    this.now = this.startedAt;
    this.#clock = setInterval(() => (this.now = Date.now()), 1000);
    const job = deploy(dir, request, (event) => applyDeployEvent(this.view, event));
    this.#job = job;
    try {
      this.outcome = await job.promise;
      this.endedAt = Date.now();
      finishView(this.view, this.outcome);
      this.phase = 'done';
    } catch (e) {
      this.failure = failureOf(e);
      stopView(this.view, Date.now() - this.startedAt);
      this.phase = e instanceof IpcFailure && e.code === 'Cancelled' ? 'cancelled' : 'failed';
    } finally {
      this.#job = null;
      this.now = Date.now();
      this.#stopClock();
      this.#onFinished();
      void notifyInBackground(() => deployNotice(this.view.started?.app ?? 'the app', (request.rollback ?? null) !== null, this.outcome, this.failure, this.phase === 'cancelled'));
    }
  }

  cancel(): void {
    this.#job?.cancel().catch((e: unknown) => (this.failure = failureOf(e)));
  }

  /** The project closed: a deploy still running is asked to stop (the engine undoes what it started). */
  dispose(): void {
    this.#disposed = true;
    this.cancel();
    this.#stopClock();
  }

  #stopClock(): void {
    if (this.#clock !== null) clearInterval(this.#clock);
    this.#clock = null;
  }
}
