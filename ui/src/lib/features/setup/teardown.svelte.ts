// Removing the app from AWS: the engine's teardown plan (what Slipway created and will
// remove, what it will leave because someone else made it), a confirmation, and the removal
// as a cancellable job whose events mark each step; afterwards, what is left.
import {
  applyTeardown,
  IpcFailure,
  planTeardown,
  type Job,
  type TeardownEvent,
  type TeardownItem,
  type TeardownPlan,
  type TeardownStep,
} from '../../ipc';
import { failureOf, type Failure } from '../../ui/failure';
import { forOtherAccount, type AwsReady, type Tone } from './setup.svelte';

export type StepProgress = 'working' | 'done' | 'failed';

export interface TeardownView {
  plan: TeardownPlan;
  progress: Partial<Record<TeardownStep, StepProgress>>;
  /** What a step is waiting on AWS for ("tasks to stop"), while it waits. */
  waiting: Partial<Record<TeardownStep, string>>;
  working: TeardownStep | null;
  stopped: { step: TeardownStep; message: string } | null;
  /** What a fresh look would remove but the confirmed plan did not list: left, and why. */
  skipped: string[];
}

export function newTeardownView(plan: TeardownPlan): TeardownView {
  return { plan, progress: {}, waiting: {}, working: null, stopped: null, skipped: [] };
}

/** Folds one teardown event into `view` (in place). */
export function applyTeardownEvent(view: TeardownView, event: TeardownEvent): void {
  switch (event.type) {
    case 'Planned':
      view.plan = event.data;
      view.progress = {};
      view.waiting = {};
      view.working = null;
      view.stopped = null;
      view.skipped = [];
      break;
    case 'Skipped':
      view.skipped.push(event.data.reason);
      break;
    case 'StepStarted':
      view.progress[event.data.step] = 'working';
      view.working = event.data.step;
      break;
    case 'Waiting':
      view.waiting[event.data.step] = event.data.what;
      break;
    case 'StepDone':
      view.progress[event.data.step] = 'done';
      delete view.waiting[event.data.step];
      if (view.working === event.data.step) view.working = null;
      break;
  }
}

/** The items that will be removed. */
export const removals = (plan: TeardownPlan): TeardownItem[] => plan.items.filter((i) => i.action.action === 'remove');
/** The items left as they are, because Slipway did not create them for this app. */
export const kept = (plan: TeardownPlan): TeardownItem[] => plan.items.filter((i) => i.action.action === 'keep');

/** An item's state in words: progress first (for items being removed), else the plan's verdict. */
export function itemState(item: TeardownItem, progress: StepProgress | undefined): { tone: Tone; label: string } {
  if (item.action.action === 'keep') return { tone: 'neutral', label: 'Kept' };
  if (progress === 'working') return { tone: 'pending', label: 'Removing…' };
  if (progress === 'done') return { tone: 'ok', label: 'Removed' };
  if (progress === 'failed') return { tone: 'bad', label: 'Stopped here' };
  return { tone: 'bad', label: 'Will be removed' };
}

export type TeardownPhase = 'idle' | 'planning' | 'removing' | 'removed' | 'failed' | 'cancelled';

export class TeardownRun {
  view = $state<TeardownView | null>(null);
  /** What is left after a teardown finished. */
  left = $state<TeardownPlan | null>(null);
  phase = $state<TeardownPhase>('idle');
  failure = $state<Failure | null>(null);
  /** The user asked to remove and is being asked to confirm. */
  confirming = $state(false);
  busy = $derived(this.phase === 'planning' || this.phase === 'removing');

  #dir: string;
  #aws: AwsReady;
  #job: Job<TeardownPlan> | null = null;
  #onChanged: () => void;

  /** `onChanged` runs after an apply that may have changed the account (finished or not). */
  constructor(dir: string, aws: AwsReady, onChanged: () => void = () => {}) {
    this.#dir = dir;
    this.#aws = aws;
    this.#onChanged = onChanged;
  }

  /** The account changed under this plan (the other card applied): it is no longer shown. */
  forget(): void {
    if (this.busy) return;
    this.view = null;
    this.left = null;
    this.confirming = false;
    this.phase = 'idle';
    this.failure = null;
  }

  /** Asks the engine what teardown would remove and keep. Changes nothing on AWS. */
  async review(): Promise<void> {
    if (this.busy) return;
    this.phase = 'planning';
    this.failure = null;
    this.confirming = false;
    this.left = null;
    try {
      const { identity } = await this.#aws.prepare();
      const plan = await planTeardown(this.#dir);
      if (forOtherAccount(plan, identity)) await this.#aws.prepare(true);
      this.view = newTeardownView(plan);
    } catch (e) {
      this.failure = failureOf(e);
    } finally {
      this.phase = 'idle';
    }
  }

  /** Removes what the plan lists as Slipway's, step by step. */
  async apply(): Promise<void> {
    if (this.busy || this.view === null) return;
    this.phase = 'removing';
    this.confirming = false;
    this.failure = null;
    try {
      await this.#aws.prepare();
    } catch (e) {
      this.failure = failureOf(e);
      this.phase = 'failed';
      return;
    }
    // The plan the user confirmed: teardown removes nothing it does not list.
    const confirmed = $state.snapshot(this.view.plan);
    const job = applyTeardown(this.#dir, confirmed, (event) => {
      if (this.view) applyTeardownEvent(this.view, event);
    });
    this.#job = job;
    try {
      this.left = await job.promise;
      this.phase = 'removed';
    } catch (e) {
      const failure = failureOf(e);
      const cancelled = e instanceof IpcFailure && e.code === 'Cancelled';
      this.failure = cancelled ? null : failure;
      const view = this.view;
      if (view?.working) {
        view.progress[view.working] = 'failed';
        view.stopped = { step: view.working, message: cancelled ? 'Cancelled before this finished.' : failure.message };
        delete view.waiting[view.working];
        view.working = null;
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

  dispose(): void {
    this.cancel();
  }
}
