// Setting up the app's AWS infrastructure from the Project screen: the plan the engine
// proposes (one row per resource), its application as a cancellable job whose events mark
// each row as it is worked on, and the options that shape the plan (who may connect, how
// long logs are kept, which VPC). What to create and how is the engine's; this folds its
// answers into what the Setup card shows.
import {
  applySetup,
  IpcFailure,
  planSetup,
  type CallerIdentity,
  type Job,
  type PlannedResource,
  type ProjectConfig,
  type ResourceKind,
  type SetupEvent,
  type SetupPlan,
  type VpcChoice,
} from '../../ipc';
import { failureOf, type Failure } from '../../ui/failure';
import { sameConfig } from '../project/fields';

/** What `allowFrom` means when slipway.toml does not say: everyone. */
export const EVERYONE = '0.0.0.0/0';
/** What `logRetentionDays` means when slipway.toml does not say. */
export const DEFAULT_RETENTION_DAYS = 30;
/** The periods CloudWatch Logs accepts (PutRetentionPolicy), in days. */
export const RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** True when the container port would be open to the whole internet (unset means everyone). */
export function opensToEveryone(allowFrom: string | null): boolean {
  const cidr = allowFrom?.trim() ?? '';
  return cidr === '' || cidr === EVERYONE;
}

/** A retention period as the select lists it: "30 days (default)", "1 year", "5 years". */
export function retentionLabel(days: number): string {
  const years = days / 365.25;
  const whole = Math.round(years);
  let label: string;
  if (days === 1) label = '1 day';
  else if (days >= 365 && Math.abs(years - whole) < 0.01) label = whole === 1 ? '1 year' : `${whole} years`;
  else label = `${days} days`;
  return days === DEFAULT_RETENTION_DAYS ? `${label} (default)` : label;
}

/** A VPC as the select lists it. */
export function vpcLabel(vpc: VpcChoice): string {
  const name = vpc.name ? `${vpc.name} · ` : '';
  return `${name}${vpc.id} · ${vpc.cidr}${vpc.isDefault ? ' (default VPC)' : ''}`;
}

/** How far apply got with one resource in this run. */
export type RowProgress = 'working' | 'done' | 'failed';

export interface SetupView {
  plan: SetupPlan;
  progress: Partial<Record<ResourceKind, RowProgress>>;
  /** The changes made so far, by resource, in the engine's words. */
  applied: Partial<Record<ResourceKind, string[]>>;
  /** The resource apply is working on: where a failure is shown. */
  working: ResourceKind | null;
  /** Why apply stopped at a resource, shown at its row. */
  stopped: { kind: ResourceKind; message: string } | null;
  /** Resources apply left alone because the account changed since the review, and why. */
  skipped: Partial<Record<ResourceKind, string>>;
}

export function newView(plan: SetupPlan): SetupView {
  return { plan, progress: {}, applied: {}, working: null, stopped: null, skipped: {} };
}

/** Folds one apply event into `view` (in place, so a $state proxy updates finely). */
export function applySetupEvent(view: SetupView, event: SetupEvent): void {
  switch (event.type) {
    case 'Planned':
      // Observed afresh by apply, holding only the changes the plan shown listed too.
      view.plan = event.data;
      view.progress = {};
      view.applied = {};
      view.working = null;
      view.stopped = null;
      view.skipped = {};
      break;
    case 'Skipped':
      view.skipped[event.data.kind] = event.data.reason;
      break;
    case 'ResourceStarted':
      view.progress[event.data.kind] = 'working';
      view.working = event.data.kind;
      break;
    case 'ChangeApplied': {
      // Read back through `view`, so the list pushed to is the one a $state proxy tracks.
      const kind = event.data.kind;
      if (!view.applied[kind]) view.applied[kind] = [];
      view.applied[kind].push(event.data.change);
      break;
    }
    case 'ResourceReady':
      view.progress[event.data.kind] = 'done';
      if (view.working === event.data.kind) view.working = null;
      break;
  }
}

/** Apply stopped: the row it was working on says why. */
export function stopView(view: SetupView, message: string): void {
  const kind = view.working;
  if (kind === null) return;
  view.progress[kind] = 'failed';
  view.stopped = { kind, message };
  view.working = null;
}

export type Tone = 'ok' | 'bad' | 'warn' | 'pending' | 'neutral';

/** The words and tone of a row's state: apply's progress first, else the plan's verdict. */
export function rowState(resource: PlannedResource, progress: RowProgress | undefined): { tone: Tone; label: string } {
  if (progress === 'working') return { tone: 'pending', label: 'Working…' };
  if (progress === 'done') return { tone: 'ok', label: 'Ready' };
  if (progress === 'failed') return { tone: 'bad', label: 'Stopped here' };
  switch (resource.state.state) {
    case 'ready':
      return { tone: 'ok', label: 'Ready' };
    case 'willCreate':
      return { tone: 'pending', label: 'Will be created' };
    case 'willChange':
      return { tone: 'warn', label: 'Will change' };
    case 'blocked':
      return { tone: 'bad', label: 'Blocked' };
    case 'waiting':
      return { tone: 'pending', label: WAITING_LABELS[resource.kind] ?? 'Waiting' };
  }
}

/** What a waiting row waits for, by kind (AWS validating the certificate, the user's DNS records). */
const WAITING_LABELS: Partial<Record<ResourceKind, string>> = {
  certificate: 'Waiting for DNS validation',
  dnsRecords: 'Waiting for your DNS records',
  httpsListener: 'Waiting for the certificate',
};

/** How many of the plan's resources it creates, changes, finds ready, cannot make, and
 * leaves waiting on something outside apply (a certificate's DNS validation). */
export function planCounts(plan: SetupPlan): { create: number; change: number; ready: number; blocked: number; waiting: number } {
  const count = (state: PlannedResource['state']['state']) => plan.resources.filter((r) => r.state.state === state).length;
  return { create: count('willCreate'), change: count('willChange'), ready: count('ready'), blocked: count('blocked'), waiting: count('waiting') };
}

/** True when nothing in the plan stops a deploy: each resource is ready, or waits on DNS
 * while the app answers over HTTP (a waiting certificate never stops a deploy). */
export function deployable(plan: SetupPlan): boolean {
  return plan.resources.every((r) => r.state.state === 'ready' || r.state.state === 'waiting');
}

const things = (n: number) => (n === 1 ? '1 thing' : `${n} things`);

/** The plan in words for someone who does not know AWS: what happens to their account. */
export function planInWords(plan: SetupPlan): string {
  const { create, change, ready, blocked, waiting } = planCounts(plan);
  if (blocked > 0) return `${things(blocked)} cannot be set up as things are: see why below.`;
  const waits = waiting > 0 ? ` HTTPS on your domain waits for DNS validation (see below); the app answers over HTTP meanwhile.` : '';
  if (create === 0 && change === 0) return `Everything the app needs is in place in your AWS account.${waits}`;
  const work = [create > 0 ? `${things(create)} will be created` : null, change > 0 ? `${create > 0 ? change : things(change)} changed` : null]
    .filter((p) => p !== null)
    .join(' and ');
  const there = ready > 0 ? ` ${ready === 1 ? '1 is' : `${ready} are`} there already.` : '';
  return `${work.charAt(0).toUpperCase()}${work.slice(1)} in your AWS account.${there}${waits}`;
}

/** The Setup card's pill: what applying the plan does, counted as the plan's rows are. */
export function planPill(plan: SetupPlan): string {
  const { create, change } = planCounts(plan);
  const parts = [create > 0 ? `${create} to create` : null, change > 0 ? `${change} to change` : null].filter((p) => p !== null);
  // A change outside any row (none today) is still counted rather than hidden.
  return parts.length > 0 ? parts.join(', ') : `${plan.changes.length} to change`;
}

export function planSummary(plan: SetupPlan): string {
  const count = (state: PlannedResource['state']['state']) => plan.resources.filter((r) => r.state.state === state).length;
  const parts = [
    count('willCreate') > 0 ? `creates ${count('willCreate')}` : null,
    count('willChange') > 0 ? `changes ${count('willChange')}` : null,
    count('ready') > 0 ? `${count('ready')} ready` : null,
    count('waiting') > 0 ? `${count('waiting')} waiting for DNS` : null,
  ].filter((p) => p !== null);
  const blocked = count('blocked');
  const text = parts.join(', ');
  const sentence = text.charAt(0).toUpperCase() + text.slice(1);
  return blocked > 0 ? `${sentence}${text ? '; ' : ''}${blocked} blocked` : sentence;
}

/**
 * What the setup and teardown runs need from the project before they ask AWS: its AWS
 * settings saved (so slipway.toml is the one source) and the account connected (so the
 * banner names it before any plan is shown).
 */
export interface AwsReady {
  /** Saves the form's [aws] settings and connects; `again` asks AWS afresh even when connected. */
  prepare(again?: boolean): Promise<{ config: ProjectConfig; identity: CallerIdentity }>;
}

/** True when a plan was made for another account or region than the banner shows. */
export function forOtherAccount(plan: { account: string; region: string }, identity: CallerIdentity): boolean {
  return plan.account !== identity.account || plan.region !== identity.region;
}

export type SetupPhase = 'idle' | 'planning' | 'applying' | 'applied' | 'failed' | 'cancelled';

export class SetupRun {
  view = $state<SetupView | null>(null);
  /** The saved settings the plan shown was made from, to tell when it no longer fits. */
  plannedFor = $state<ProjectConfig | null>(null);
  phase = $state<SetupPhase>('idle');
  failure = $state<Failure | null>(null);
  busy = $derived(this.phase === 'planning' || this.phase === 'applying');

  #dir: string;
  #aws: AwsReady;
  #job: Job<SetupPlan> | null = null;
  #onChanged: () => void;

  /** `onChanged` runs after an apply that may have changed the account (finished or not). */
  constructor(dir: string, aws: AwsReady, onChanged: () => void = () => {}) {
    this.#dir = dir;
    this.#aws = aws;
    this.#onChanged = onChanged;
  }

  /** The plan is shown only beside the account it is for (the banner names it), or while it applies. */
  shownFor(identity: CallerIdentity | null): boolean {
    const view = this.view;
    return view !== null && (this.phase === 'applying' || (identity !== null && !forOtherAccount(view.plan, identity)));
  }

  /** The saved settings changed since the plan was made: it must be reviewed again. */
  madeBefore(saved: ProjectConfig): boolean {
    return this.plannedFor !== null && !sameConfig(this.plannedFor, saved);
  }

  /** The account changed under this plan (the other card applied): it is no longer shown. */
  forget(): void {
    if (this.busy) return;
    this.view = null;
    this.plannedFor = null;
    this.phase = 'idle';
    this.failure = null;
  }

  /** Saves the options, connects, and asks the engine what setup would do. Changes nothing on AWS. */
  async review(): Promise<void> {
    if (this.busy) return;
    this.phase = 'planning';
    this.failure = null;
    try {
      const { config, identity } = await this.#aws.prepare();
      const plan = await planSetup(this.#dir);
      if (forOtherAccount(plan, identity)) await this.#aws.prepare(true);
      this.view = newView(plan);
      this.plannedFor = config;
      this.phase = 'idle';
    } catch (e) {
      this.failure = failureOf(e);
      this.phase = 'idle';
    }
  }

  /** Makes the plan's changes, marking each row as apply reaches it. */
  async apply(): Promise<void> {
    if (this.busy || this.view === null) return;
    this.phase = 'applying';
    this.failure = null;
    let config: ProjectConfig;
    try {
      config = (await this.#aws.prepare()).config;
    } catch (e) {
      this.failure = failureOf(e);
      this.phase = 'failed';
      return;
    }
    const view = this.view;
    // The plan the user reviewed: apply makes no change it does not list.
    const confirmed = $state.snapshot(view.plan);
    view.progress = {};
    view.applied = {};
    view.working = null;
    view.stopped = null;
    const job = applySetup(this.#dir, confirmed, (event) => {
      if (this.view) applySetupEvent(this.view, event);
    });
    this.#job = job;
    try {
      const after = await job.promise;
      // The plan observed afterwards decides each row's state; what was done stays listed.
      this.view = {
        ...newView(after),
        applied: $state.snapshot(this.view?.applied ?? {}),
        skipped: $state.snapshot(this.view?.skipped ?? {}),
      };
      this.plannedFor = config;
      this.phase = 'applied';
    } catch (e) {
      const failure = failureOf(e);
      const cancelled = e instanceof IpcFailure && e.code === 'Cancelled';
      this.failure = cancelled ? null : failure;
      if (this.view && !cancelled) stopView(this.view, failure.message);
      if (this.view && cancelled && this.view.working) {
        this.view.progress[this.view.working] = 'failed';
        this.view.stopped = { kind: this.view.working, message: 'Cancelled before this finished.' };
        this.view.working = null;
      }
      this.phase = cancelled ? 'cancelled' : 'failed';
    } finally {
      this.#job = null;
      this.#onChanged();
    }
  }

  cancel(): void {
    this.#job?.cancel().catch((e: unknown) => (this.failure = failureOf(e)));
  }

  /** The project closed: an apply still running is asked to stop. */
  dispose(): void {
    this.cancel();
  }
}
