// The app page's header: where the app runs now and at which address, what that costs, the
// last deploy, and the one thing to do next. Everything comes from the last readings the
// cards already make (what runs on AWS, the local preview, the releases); nothing here
// guesses: before the first reading of AWS the header says it does not know yet.
import type { AppStatus, BalancerStatus, Preview, RunningTask } from '../../ipc';
import { formatMoney } from '../cost/money';
import { formatAgo } from '../../ui/format';
import { taskCount } from '../deploy/status.svelte';

/** The step a next action leads to (each has its view in the app page's Overview). */
export type NextTarget = 'build' | 'aws' | 'setup' | 'deploy';

/** One step of the first deploy, as the header's stepper shows it. */
export type Step = {
  n: number;
  label: string;
  state: 'done' | 'current' | 'locked' | 'open';
  /** Why it cannot be done yet ("Build first"), when locked. */
  why: string | null;
  /** The view it happens in; none for "Open" and "Live". */
  target: NextTarget | null;
};

export type Headline = {
  tone: 'ok' | 'warn' | 'pending' | 'neutral';
  /** "Live on AWS", "Running on this computer", "Not running". */
  title: string;
  /** The address that answers now, when one does. */
  url: string | null;
  /** Short facts after the title: tasks, cost per hour, revision, last deploy. */
  facts: string[];
  /** The one next action, when the app is not live on AWS. */
  next: { label: string; why: string; target: NextTarget } | null;
};

/** The readings the header is made from (the workbench keeps them current). */
export type LiveReadings = Omit<HeadlineInput, 'nowMs'>;

export type HeadlineInput = {
  /** The last reading of what runs on AWS; null before the first (or when not connected). */
  status: AppStatus | null;
  /** True while the project is connected to an AWS account. */
  connected: boolean;
  /** The local preview, when one runs. */
  preview: Preview | null;
  /** How many local releases exist; null while not read. */
  releases: number | null;
  /** Whether the account has what a deploy needs: true once set up, false when a plan
   * shows something to create or a teardown removed it, null while not known (then a
   * deploy that succeeded before counts as set up). */
  setupReady: boolean | null;
  /** The last reading of what runs on AWS failed (the Running on AWS card says why). */
  statusFailed: boolean;
  /** A build or a preview start runs on this computer now (trying it here is not over). */
  localBusy: boolean;
  /** Opening the project, whether it connected before is being read (a moment): whether it
   * connects again, and so where it stands, is not known yet. */
  checkingConnection: boolean;
  /** The project connects again on opening (it connected before): what runs is not known yet. */
  reconnecting: boolean;
  nowMs: number;
};

/** The task that answers at a public address now, if any. Behind the load balancer, only
 * once the load balancer finds a task healthy (it sends visitors to no other). */
function answeringTask(status: AppStatus | null): RunningTask | null {
  if (!status) return null;
  const balancer = status.balancer ?? null;
  if (balancer) {
    const healthy = balancer.targets.filter((t) => t.state === 'healthy');
    if (healthy.length === 0) return null;
    const running = status.tasks.filter((t) => t.status === 'RUNNING');
    return running.find((t) => healthy.some((h) => h.taskId === t.taskId)) ?? running[0] ?? null;
  }
  return status.tasks.find((t) => t.status === 'RUNNING' && t.url !== null) ?? null;
}

/** The load balancer's targets counted as the header says them: healthy ones of those the
 * service has or is bringing in (a target leaving it is not counted), never fewer than the
 * tasks the service keeps running. */
export function targetCounts(balancer: BalancerStatus, desired: number): { healthy: number; unhealthy: number; of: number } {
  const serving = balancer.targets.filter((t) => t.state !== 'draining' && t.state !== 'unused');
  const healthy = serving.filter((t) => t.state === 'healthy').length;
  const unhealthy = serving.filter((t) => t.state === 'unhealthy').length;
  return { healthy, unhealthy, of: Math.max(serving.length, desired) };
}

/** "1 of 2 tasks healthy". */
const healthyFact = ({ healthy, of }: { healthy: number; of: number }) => `${healthy} of ${of} ${of === 1 ? 'task' : 'tasks'} healthy`;

/** The first deploy as six steps (open, try it here, connect, set up, deploy, live): each
 * done, the current one, or locked with the reason; any may be revisited. Trying it here is
 * over once a build ends with a release, or once the user went on and connected to AWS (a
 * deploy builds the folder itself). Deploy counts as done only while the app is live: after
 * a stop it is the next step again. */
export function steps(input: Omit<HeadlineInput, 'nowMs'>): Step[] {
  const { status, connected, releases, setupReady, localBusy } = input;
  const live = answeringTask(status) !== null;
  const deployed = status?.history.some((e) => e.outcome === 'succeeded') ?? false;
  const tried = ((releases ?? 0) > 0 && !localBusy) || connected;
  const setUp = setupReady ?? deployed;
  const facts: [string, boolean, string | null, NextTarget | null][] = [
    ['Open', true, null, null],
    ['Try it here', tried, null, 'build'],
    ['Connect to AWS', connected, null, 'aws'],
    ['Set up', setUp, connected ? null : 'Connect to AWS first', 'setup'],
    // Deploy builds the folder itself, so an unbuilt folder does not lock it.
    ['Deploy', live, !connected ? 'Connect to AWS first' : !setUp ? 'Set up first' : null, 'deploy'],
    ['Live', live, null, null],
  ];
  let current = false;
  return facts.map(([label, done, lock, target], i) => {
    let state: Step['state'] = done ? 'done' : lock ? 'locked' : 'open';
    if (!done && !lock && !current && target !== null) {
      state = 'current';
      current = true;
    }
    return { n: i + 1, label, state, why: done ? null : lock, target };
  });
}

/** Whether the readings tell where the app stands: not while the releases or (connected)
 * what runs on AWS are still being read. A failed reading of AWS counts as known (the
 * Running on AWS card says why). */
export function standingKnown(input: Omit<HeadlineInput, 'nowMs'>): boolean {
  if (input.checkingConnection || input.reconnecting) return false;
  // Connected, what runs on AWS decides (the local releases matter only before).
  if (input.connected) return input.status !== null || input.statusFailed;
  return input.releases !== null;
}

/** While the app has never been live (no deploy succeeded, not every step done), the page
 * guides the first deploy step by step; after that it is the app's page. Not while the
 * readings cannot tell (a deployed app would flash through the steps). */
export function isFirstDeploy(input: Omit<HeadlineInput, 'nowMs'>): boolean {
  if (!standingKnown(input)) return false;
  // Connected but what runs could not be read: the app may well be live; the Overview shows
  // the reading's failure and Refresh rather than a first deploy.
  if (input.connected && input.status === null) return false;
  const live = answeringTask(input.status) !== null;
  const deployed = live || (input.status?.history.some((e) => e.outcome === 'succeeded') ?? false);
  return !deployed && !steps(input).every((s) => s.state === 'done');
}

/** The steps' order, for telling whether the guide moved on past a step. */
export const STEP_ORDER: readonly NextTarget[] = ['build', 'aws', 'setup', 'deploy'];

/** The step the guide is at: the first one neither done nor locked. */
export function currentStep(input: Omit<HeadlineInput, 'nowMs'>): NextTarget | null {
  return steps(input).find((s) => s.state === 'current')?.target ?? null;
}

/** The button each step's view is reached by, and why that step is next. */
const ACTIONS: Record<NextTarget, string> = { build: 'Try it here', aws: 'Connect to AWS', setup: 'Review the setup', deploy: 'Deploy' };
const WHY: Record<NextTarget, string> = {
  build: 'First try it on this computer: nothing goes to AWS and nothing is billed.',
  aws: 'Next, connect an AWS account to put it online.',
  setup: 'Next, review what will be created in your account (it costs nothing until you deploy).',
  deploy: 'Nothing of the app runs on AWS, and nothing is billed for it. Deploy to get a public address.',
};

export function headline(input: HeadlineInput): Headline {
  const { status, connected, preview, statusFailed, nowMs } = input;
  const last = status?.history.find((entry) => entry.outcome === 'succeeded') ?? null;
  const lastFact = last ? [`last deploy ${last.version}, ${formatAgo(last.finishedAt ?? last.startedAt, nowMs)}`] : [];
  const answering = answeringTask(status);
  const balancer = status?.balancer ?? null;
  if (status && balancer && (status.tasks.length > 0 || (status.service?.desired ?? 0) > 0)) {
    // Behind the load balancer: its address, which never changes, answers once a task is healthy.
    const counts = targetCounts(balancer, status.service?.desired ?? 0);
    const perHour = status.cost.perHour !== null ? [`${formatMoney(status.cost.perHour)} an hour`] : [];
    const revision = answering && answering.revision !== null ? [`revision ${answering.revision}`] : [];
    if (answering) {
      return {
        tone: counts.unhealthy > 0 ? 'warn' : 'ok',
        title: counts.unhealthy > 0 ? 'Live on AWS, a task failing its health check' : 'Live on AWS',
        url: balancer.url,
        facts: ['address never changes', healthyFact(counts), ...perHour, ...revision, ...lastFact],
        next: null,
      };
    }
    return {
      tone: counts.unhealthy > 0 ? 'warn' : 'pending',
      title: counts.unhealthy > 0 ? 'Not answering: no task passes the health check' : 'Starting on AWS',
      url: null,
      facts: [healthyFact(counts), ...perHour, ...lastFact],
      next: null,
    };
  }
  if (status && answering) {
    const revision = answering.revision !== null ? [`revision ${answering.revision}`] : [];
    const perHour = status.cost.perHour !== null ? [`${formatMoney(status.cost.perHour)} an hour`] : [];
    const unhealthy = answering.health === 'UNHEALTHY';
    return {
      tone: unhealthy ? 'warn' : 'ok',
      title: unhealthy ? 'Live on AWS, failing its health check' : 'Live on AWS',
      url: answering.url,
      facts: [taskCount(status.tasks.length), ...perHour, ...revision, ...lastFact],
      next: null,
    };
  }
  if (status && (status.tasks.length > 0 || (status.service?.desired ?? 0) > 0)) {
    return {
      tone: 'pending',
      title: 'Starting on AWS',
      url: null,
      facts: [taskCount(status.tasks.length), ...lastFact],
      next: null,
    };
  }
  const running = preview !== null && preview.state.state === 'running';
  const local = running ? { title: 'Running on this computer', url: preview.url, tone: 'pending' as const } : null;
  const step = (connected && status === null) || input.checkingConnection || input.reconnecting ? undefined : steps(input).find((s) => s.state === 'current');
  const next = step?.target ? { label: ACTIONS[step.target], why: WHY[step.target], target: step.target } : null;
  return {
    tone: local ? local.tone : 'neutral',
    title: local
      ? local.title
      : input.reconnecting
        ? 'Connecting to AWS…'
        : input.checkingConnection
        ? 'Reading where it stands…'
        : connected && status === null
        ? statusFailed
          ? 'Could not read what runs on AWS (see Running on AWS)'
          : 'Reading what runs on AWS…'
        : 'Not running on AWS',
    url: local?.url ?? null,
    // Stopped, the load balancer stays (and bills) so the address comes back with the next deploy.
    facts: balancer ? [...lastFact, 'the load balancer keeps its address and bills while it exists'] : lastFact,
    next,
  };
}
