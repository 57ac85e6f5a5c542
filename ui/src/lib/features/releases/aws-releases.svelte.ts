// Releases on AWS: the app's task definition revisions, each with its image, its deploys and
// whether a rollback to it can work; the rollback itself, which is a deploy of an earlier
// revision (the deploy feature's run, steps and timeline); and deregistering old revisions,
// planned before anything changes. Which revision can be rolled back to, and why not, are
// the engine's; this keeps its answers and puts them in words.
import {
  awsReleases,
  deregisterPlan,
  deregisterRevisions,
  type AwsRelease,
  type AwsReleases,
  type DeployRequest,
  type DeregisterPlan,
  type ReleaseDeploy,
} from '../../ipc';
import { failureOf, type Failure } from '../../ui/failure';
import { DeployRun } from '../deploy/deploy.svelte';
import { sizeLabel } from '../cost/cost.svelte';
import { formatMoney } from '../cost/money';
import type { AwsReady } from '../setup/setup.svelte';

/** How many of the newest revisions cleaning up keeps, unless the user says otherwise. */
export const DEFAULT_KEEP = 5;

/** A digest as people compare them: "sha256:1111aaaa2222" (its first 12 hex digits). */
export function shortDigest(digest: string | null): string {
  if (digest === null) return 'no digest';
  const [algorithm, hex] = digest.includes(':') ? digest.split(':', 2) : ['sha256', digest];
  return `${algorithm}:${hex.slice(0, 12)}`;
}

/** The release's version: its ECR tag other than `latest`, else "revision N". */
export function releaseVersion(release: AwsRelease): string {
  return release.tags.find((t) => t !== 'latest') ?? `revision ${release.revision}`;
}

/** The task size "256/512" as "0.25 vCPU · 0.5 GB"; as it is when it is not two numbers. */
export function sizeText(size: string): string {
  const [cpu, memory] = size.split('/').map(Number);
  return Number.isFinite(cpu) && Number.isFinite(memory) && cpu > 0 && memory > 0 ? sizeLabel({ cpu, memory }) : size;
}

/** The release's newest deploy by Slipway, if any. */
export function lastDeploy(release: AwsRelease): ReleaseDeploy | null {
  return release.deploys[0] ?? null;
}

/** A pushed-at time (ISO 8601) as Unix seconds, for "3 h ago"; null when not known. */
export function pushedSeconds(pushedAt: string | null): number | null {
  const ms = pushedAt === null ? Number.NaN : Date.parse(pushedAt);
  return Number.isNaN(ms) ? null : ms / 1000;
}

/** What the rollback to `release` does and costs, asked before it starts. */
export function rollbackQuestion(release: AwsRelease, list: AwsReleases, running: { size: string; costPerHour: number | null } | null): string {
  const which = `revision ${release.revision} (${releaseVersion(release)}, ${shortDigest(release.digest)})`;
  if (list.mode === 'service') {
    return `Updates service ${list.app} to ${which} and waits for the deployment to complete. Nothing is built or pushed.`;
  }
  const sameSize = running !== null && running.costPerHour !== null && running.size === release.size;
  const cost = sameSize ? `you pay for two tasks (~${formatMoney(running.costPerHour)}/h each)` : "you pay one more task's hourly cost";
  return `Runs ${which} as a new task, checks its URL, then stops the current task. While both run (about a minute) ${cost}. Nothing is built or pushed.`;
}

/** The deploy request of a rollback: the app's own mode, the revision, and whether `latest` moves back. */
export function rollbackRequest(list: AwsReleases, revision: number, retag: boolean): DeployRequest {
  return { mode: list.mode, rollback: { revision, retag } };
}

/** "revisions 3, 2 and 1", "revision 3". */
export function revisionList(revisions: number[]): string {
  if (revisions.length === 1) return `revision ${revisions[0]}`;
  return `revisions ${revisions.slice(0, -1).join(', ')} and ${revisions.at(-1)}`;
}

/** What a deregister plan removes, in one sentence. */
export function deregisterText(plan: DeregisterPlan): string {
  if (plan.deregister.length === 0) return 'Nothing to deregister: every active revision is kept.';
  return `Deregisters ${revisionList(plan.deregister)}: ECS will no longer run ${plan.deregister.length === 1 ? 'it' : 'them'}, and ${plan.deregister.length === 1 ? 'it' : 'they'} can no longer be rolled back to.`;
}

/** What deregistering did, in one sentence. */
export function deregisteredText(plan: DeregisterPlan): string {
  if (plan.deregister.length === 0) return 'Nothing was deregistered.';
  return `Deregistered ${revisionList(plan.deregister)}.`;
}

export class AwsReleaseBoard {
  list = $state<AwsReleases | null>(null);
  loading = $state(false);
  failure = $state<Failure | null>(null);
  /** When `list` was read (milliseconds), for "3 h ago". */
  readAt = $state(0);

  /**
   * The revision whose rollback waits for its confirmation, whether to re-tag `latest`, and
   * where it was asked (its row, or Roll back to previous), where the question appears.
   */
  asking = $state<{ revision: number; retag: boolean; from: 'row' | 'previous' } | null>(null);
  /** The release the last rollback went to, as it was listed then; null once its progress is put away. */
  rollingBackTo = $state<AwsRelease | null>(null);
  /** The rollback: a deploy of an earlier revision, shown with the deploy's steps and timeline. */
  readonly rollback: DeployRun;

  /** Cleaning up: how many of the newest to keep (null while the field is not a number). */
  keep = $state<number | null>(DEFAULT_KEEP);
  plan = $state<DeregisterPlan | null>(null);
  planning = $state(false);
  cleaning = $state(false);
  /** What the last clean-up deregistered. */
  cleaned = $state<DeregisterPlan | null>(null);
  cleanupFailure = $state<Failure | null>(null);

  #dir: string;
  #aws: AwsReady;
  #ticket = 0;

  /** `onChanged` runs after every rollback, whatever its end: what runs may have changed. */
  constructor(dir: string, aws: AwsReady, onChanged: () => void = () => {}) {
    this.#dir = dir;
    this.#aws = aws;
    this.rollback = new DeployRun(aws, () => {
      void this.refresh(false);
      onChanged();
    });
  }

  /** The release listed for `revision`. */
  release(revision: number): AwsRelease | null {
    return this.list?.releases.find((r) => r.revision === revision) ?? null;
  }

  /**
   * Reads the releases. `connect` saves the AWS options and connects first, as pressing
   * Refresh does; without it the account already connected is asked.
   */
  async refresh(connect = true): Promise<void> {
    const ticket = ++this.#ticket;
    this.loading = true;
    this.failure = null;
    try {
      if (connect) await this.#aws.prepare();
      const list = await awsReleases(this.#dir);
      if (ticket !== this.#ticket) return;
      this.list = list;
      this.readAt = Date.now();
      if (this.asking && !this.release(this.asking.revision)?.rollback.possible) this.asking = null;
    } catch (e) {
      if (ticket === this.#ticket) this.failure = failureOf(e);
    } finally {
      if (ticket === this.#ticket) this.loading = false;
    }
  }

  /** Opens the confirmation of a rollback to `revision`. */
  ask(revision: number, from: 'row' | 'previous' = 'row'): void {
    this.asking = { revision, retag: false, from };
  }

  /** The confirmation's re-tag checkbox. */
  setRetag(retag: boolean): void {
    if (this.asking) this.asking.retag = retag;
  }

  /** Rolls back to the revision asked about: the deploy job with `request.rollback`. */
  async confirm(): Promise<void> {
    const asking = this.asking;
    const list = this.list;
    const release = asking ? this.release(asking.revision) : null;
    if (!asking || !list || !release || this.rollback.busy) return;
    this.asking = null;
    this.rollingBackTo = $state.snapshot(release);
    await this.rollback.run(this.#dir, rollbackRequest($state.snapshot(list), asking.revision, asking.retag));
  }

  /** Puts away an ended rollback's steps and answer. */
  dismissRollback(): void {
    if (!this.rollback.busy) this.rollingBackTo = null;
  }

  /** The keep field changed: a plan made for another number no longer holds. */
  setKeep(keep: number | null): void {
    this.keep = keep !== null && keep >= 0 && Number.isInteger(keep) ? keep : null;
    this.plan = null;
    this.cleaned = null;
  }

  /** What deregistering would remove and keep, and why (nothing changes). */
  async planCleanup(): Promise<void> {
    if (this.keep === null || this.planning) return;
    this.planning = true;
    this.cleanupFailure = null;
    this.cleaned = null;
    try {
      this.plan = await deregisterPlan(this.#dir, this.keep);
    } catch (e) {
      this.cleanupFailure = failureOf(e);
    } finally {
      this.planning = false;
    }
  }

  /** Deregisters what the plan showed; the engine plans again and applies only what both allow. */
  async cleanUp(): Promise<void> {
    if (this.keep === null || this.plan === null || this.cleaning) return;
    this.cleaning = true;
    this.cleanupFailure = null;
    try {
      this.cleaned = await deregisterRevisions(this.#dir, this.keep, this.plan.deregister);
      this.plan = null;
    } catch (e) {
      this.cleanupFailure = failureOf(e);
    } finally {
      this.cleaning = false;
    }
    await this.refresh(false);
  }

  /** The project closed: a rollback still running is asked to stop. */
  dispose(): void {
    this.#ticket += 1;
    this.rollback.dispose();
  }
}
