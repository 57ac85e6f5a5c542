import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import {
  applyDeployEvent,
  deadlineText,
  deployHint,
  deployNotice,
  DeployRun,
  finishView,
  firstLines,
  liveness,
  newView,
  previousText,
  pushLabel,
  pushPercent,
  stepElapsed,
  targetRow,
  targetTone,
  targetsOf,
  type DeployView,
} from './deploy.svelte';
import { perTaskHour, ScaleControl, scaleCost, scaleResult, scalingText } from './scale.svelte';
import DeployTimeline from './DeployTimeline.svelte';
import BalancerStatus from './BalancerStatus.svelte';
import { historyKind, outcomeTone, RunningOnAws, stopQuestion, stopResult, stopTaskQuestion, taskRelease, taskState } from './status.svelte';
import { UnfinishedDeploys, unfinishedText } from './unfinished.svelte';
import DeployResult from './DeployResult.svelte';
import type { AwsReady } from '../setup/setup.svelte';
import type { AppStatus, CallerIdentity, DeployEvent, DeployOutcome, JournalEntry, ProjectConfig, StopOutcome, StopReport } from '../../ipc';
import fixtures from '../../../../../tests/fixtures/deploy.json';
import project from '../../../../../tests/fixtures/project.json';
import cloud from '../../../../../tests/fixtures/aws.json';

afterEach(() => {
  cleanup();
  clearMocks();
});

/** A Stop's report that closed no unfinished deploy. */
function report(stopped: StopOutcome): StopReport {
  return { stopped, settled: [], unsettled: [] };
}

// The same streams the Chromium flows use (tests/ui), typed by the bindings.
const success = fixtures.success.events as DeployEvent[];
const outcome = fixtures.success.outcome as DeployOutcome;
const failing = fixtures.failure.events as DeployEvent[];
const service = fixtures.service.events as DeployEvent[];
const serviceOutcome = fixtures.service.outcome as DeployOutcome;
const NOW = 1_763_780_000_000;
const dated = ({ ageSeconds, ...entry }: { ageSeconds: number; finishedAt: number | null }) =>
  ({ ...entry, startedAt: NOW / 1000 - ageSeconds, finishedAt: entry.finishedAt === null ? null : NOW / 1000 }) as JournalEntry;
const statusAfter = (): AppStatus => ({ ...structuredClone(fixtures.statusAfter), history: fixtures.statusAfter.history.map(dated) }) as AppStatus;
const statusBefore = (): AppStatus => ({ ...structuredClone(fixtures.statusBefore), history: fixtures.statusBefore.history.map(dated) }) as AppStatus;
const unfinished = fixtures.unfinished.map(dated);

const connected: AwsReady = {
  prepare: async () => ({ config: structuredClone(project.sample.config) as ProjectConfig, identity: cloud.identity as CallerIdentity }),
};
type Channel = { onmessage: (e: unknown) => void };
const channelOf = (args: unknown) => (args as { onEvent: Channel }).onEvent;

function fold(events: DeployEvent[]): DeployView {
  const view = newView();
  for (const event of events) applyDeployEvent(view, event);
  return view;
}
const states = (view: DeployView) => Object.fromEntries(view.steps.map((s) => [s.step, s.state]));

describe('applyDeployEvent', () => {
  it('follows a task-mode deploy from the push to the previous task stopped', () => {
    const view = newView();
    for (const event of success.slice(0, 5)) applyDeployEvent(view, event);
    expect(states(view).push).toBe('running');
    expect(states(view).register).toBe('pending');
    expect(pushLabel(view.push!)).toBe('layer 3 of 3');
    expect(pushPercent(view.push!)).toBe(67);

    for (const event of success.slice(5)) applyDeployEvent(view, event);
    expect(view.steps.every((s) => s.state === 'done')).toBe(true);
    expect(view.started).toMatchObject({ app: 'hello-site', mode: 'task', deadlineSeconds: 600 });
    expect(pushPercent(view.push!)).toBe(100);
    expect(view.taskDefinition).toMatchObject({ revision: 4, previousRevision: 3, registered: true });
    expect(view.taskDefinition?.changes).toHaveLength(2);
    expect(view.tasks).toHaveLength(1);
    // Each chip says how long the state before it lasted, so slow provisioning shows.
    expect(view.tasks[0].states.map((s) => s.label)).toEqual([
      'PROVISIONING',
      'PENDING · 4.2 s in PROVISIONING',
      'RUNNING (UNKNOWN) · 21.3 s in PENDING',
      'RUNNING (HEALTHY) · after 10.4 s',
    ]);
    expect(view.address?.url).toBe('http://54.201.33.17:8080');
    expect(view.checks.map((c) => c.outcome)).toEqual(['connection refused or unreachable', 'HTTP 200']);
    expect(view.previous).toEqual({ taskIds: [outcome.stoppedPrevious[0]], stopped: true });
    expect(view.failure).toBeNull();
    const wait = view.steps.find((s) => s.step === 'wait')!;
    expect(stepElapsed(wait, 0)).toBe('37.0 s');
  });

  it('marks the step a task stopped in as failed and keeps the diagnosis and the last log lines', () => {
    const view = fold(failing);
    expect(states(view)).toEqual({ push: 'done', register: 'done', start: 'done', wait: 'failed', verify: 'pending', retire: 'pending' });
    expect(stepElapsed(view.steps[3], 0)).toBe('26.1 s');
    expect(view.taskDefinition).toMatchObject({ registered: false, revision: 4, changes: [] });
    expect(view.tasks[0].states.at(-1)).toMatchObject({ status: 'STOPPED', label: 'STOPPED (UNKNOWN) · 2.1 s in RUNNING' });
    expect(view.failure?.diagnosis.known).toBe(true);
    expect(view.failure?.diagnosis.cause).toMatch(/exited with code 1/);
    expect(view.failure?.lastLogLines.at(-2)).toMatch(/GREETING_FILE/);
    expect(view.address).toBeNull();
  });

  it('leads a blue/green rollout with its newest stage in plain words', () => {
    const stages: DeployEvent[] = [
      { type: 'Rollout', data: { stage: 'SCALE_UP', said: 'Starting the new release beside the current one; visitors still get the current one' } },
      { type: 'Rollout', data: { stage: 'BAKE_TIME', said: 'The new release has all visitors; the previous one stays ready for 5 min, and Roll back now moves them back at once' } },
    ];
    const view = fold([...service, ...stages]);
    expect(view.rollout).toMatch(/stays ready for 5 min/);
    expect(fold(service).rollout).toBeNull();
  });

  it('lists a service rollout\'s events in the order AWS told them, and needs no previous task stopped', () => {
    const view = fold(service);
    expect(view.started?.mode).toBe('service');
    expect(view.serviceEvents.map((e) => e.message)).toEqual([
      '(service hello-site) has started 1 tasks: (task 5c3e1a9b7d2f4c6e8a0b2d4f6a8c0e1f).',
      '(service hello-site) has reached a steady state.',
      '(service hello-site) (deployment ecs-svc/4728591) deployment completed.',
    ]);
    expect(view.steps.find((s) => s.step === 'start')?.detail).toBe('service created with 1 task');
    expect(states(view).retire).toBe('pending');
    finishView(view, serviceOutcome);
    expect(view.steps.find((s) => s.step === 'retire')).toMatchObject({ state: 'done', detail: 'the service replaces its own tasks' });
    expect(previousText(serviceOutcome)).toMatch(/service keeps this task running/);
  });

  it('says why Stop previous had nothing to do on a first deploy, or when the old task was kept', () => {
    const first = fold(success.filter((e) => !(('step' in e.data && e.data.step === 'retire') || e.type === 'PreviousTasks')));
    finishView(first, { ...outcome, stoppedPrevious: [] });
    expect(first.steps.at(-1)).toMatchObject({ state: 'done', detail: 'no previous task was running' });
    expect(previousText({ ...outcome, stoppedPrevious: [] })).toBe('No previous task was running.');
    const kept = { ...outcome, stoppedPrevious: [], keptPrevious: ['8a7b'] };
    expect(previousText(kept)).toBe('The previous task 8a7b still runs, as asked: you pay for it until you stop it below.');
    expect(previousText(outcome)).toMatch(/^Stopped the previous task 8a7b6c5d.* so you don't pay twice\.$/);
  });
});

describe('deploy words', () => {
  it('counts the deadline down, and names what to do for the errors that need it', () => {
    expect(deadlineText(600, 19_000)).toBe('deadline in 9:41');
    expect(deadlineText(600, 600_000)).toBe('deadline passed');
    expect(deployHint('SetupNeeded')).toBe('Set up the AWS resources first (under AWS resources), then deploy again.');
    expect(deployHint('NoReleases')).toMatch(/^Build first/);
    expect(deployHint('DeployFailed')).toBeNull();
    expect(firstLines('a\nb\nc', 2)).toBe('a\nb\n…');
    expect(firstLines('a\nb\n', 2)).toBe('a\nb');
  });

  it('asks before stopping everything, and says what was stopped', () => {
    const status = statusBefore();
    expect(stopQuestion(status)).toBe('This stops 1 task of hello-site. The app stops answering, and you stop paying for it. The next deploy starts it again.');
    status.service = { name: 'hello-site', desired: 1, running: 1, revision: 4, rollout: 'COMPLETED' };
    expect(stopQuestion(status)).toMatch(/1 task of hello-site, and scales service hello-site to zero\. .* paying for them/);
    expect(stopResult(report({ stoppedTasks: ['a', 'b'], serviceScaledDown: 'hello-site', failed: [] }))).toBe('Stopped 2 tasks and scaled service hello-site to zero.');
    expect(stopResult(report({ stoppedTasks: [], serviceScaledDown: null, failed: [] }))).toBe('Nothing was running.');
    // Stop also closes the deploys a killed app left unfinished, and says so.
    expect(stopResult({ ...report({ stoppedTasks: ['a'], serviceScaledDown: null, failed: [] }), settled: ['20261121-220140-3fa1'] })).toBe(
      'Stopped 1 task. Closed an unfinished deploy.',
    );
    // A task that could not be stopped is said, with what to do, never hidden.
    expect(
      stopResult(report({ stoppedTasks: ['a'], serviceScaledDown: null, failed: [{ what: 'b', reason: 'AccessDenied on ecs:StopTask' }] })),
    ).toBe('Stopped 1 task; b could not be stopped and still runs (AccessDenied on ecs:StopTask). Press Stop everything again to retry.');
    expect(outcomeTone(status.history[0])).toBe('ok');
  });

  it('says what an unfinished deploy may have left running', () => {
    expect(unfinishedText(unfinished[0], NOW)).toBe(
      'A deploy of shop (20261121-220140, eu-central-1) started 3 h ago did not finish. It started 1 task that may still run and cost money.',
    );
  });
});

describe('DeployRun', () => {
  it('connects, shows events as they stream, ends done, and has what runs read again', async () => {
    let finished = 0;
    let seen = '';
    const run = new DeployRun(connected, () => (finished += 1));
    mockIPC((cmd, args) => {
      if (cmd !== 'deploy') return null;
      expect((args as { request: unknown }).request).toEqual({ mode: 'task', keepPrevious: false });
      for (const event of success.slice(0, 12)) channelOf(args).onmessage(event);
      seen = run.view.steps.map((s) => s.state).join(' ');
      for (const event of success.slice(12)) channelOf(args).onmessage(event);
      return outcome;
    });
    await run.run('/p', run.request);
    expect(seen).toBe('done done running pending pending pending');
    expect(run.phase).toBe('done');
    expect(run.outcome?.url).toBe(outcome.url);
    expect(finished).toBe(1);
  });

  it('deploys the release the folder holds now, building it first, and nothing when the build fails', async () => {
    let sent: unknown = null;
    let built: string | null = '20261203-101500';
    const run = new DeployRun(connected, () => {}, async () => built);
    mockIPC((cmd, args) => {
      if (cmd !== 'deploy') return null;
      sent = (args as { request: unknown }).request;
      return outcome;
    });
    await run.run('/p', run.request);
    expect(sent).toEqual({ mode: 'task', keepPrevious: false, version: '20261203-101500' });

    sent = null;
    built = null;
    await run.run('/p', run.request);
    expect(sent).toBeNull();
    expect(run.phase).toBe('failed');
    expect(run.failure?.message).toMatch(/build did not finish/);
  });

  it('keeps the diagnosis of a failure, and tells a cancel and a missing setup apart', async () => {
    const run = new DeployRun(connected);
    run.mode = 'service';
    run.keepPrevious = true;
    expect(run.request).toEqual({ mode: 'service', keepPrevious: false });
    mockIPC((cmd, args) => {
      if (cmd !== 'deploy') return null;
      for (const event of failing) channelOf(args).onmessage(event);
      return Promise.reject(fixtures.failure.error);
    });
    await run.run('/p', run.request);
    expect(run.phase).toBe('failed');
    expect(run.failure?.code).toBe('DeployFailed');
    expect(run.view.failure?.diagnosis.fix).toMatch(/read its last log lines/);

    mockIPC(() => Promise.reject({ code: 'Cancelled', message: 'The deploy was cancelled. Stopped task 4d1e that it had started.' }));
    await run.run('/p', run.request);
    expect(run.phase).toBe('cancelled');
    expect(run.view.failure).toBeNull();

    mockIPC(() => Promise.reject({ code: 'SetupNeeded', message: 'hello-site is not set up in us-west-2 yet.' }));
    await run.run('/p', run.request);
    expect([run.phase, deployHint(run.failure!.code)]).toEqual(['failed', 'Set up the AWS resources first (under AWS resources), then deploy again.']);
  });
});

describe('RunningOnAws and UnfinishedDeploys', () => {
  it('reads what runs, and after stopping reads again what is left', async () => {
    let status = statusBefore();
    mockIPC((cmd) => {
      if (cmd === 'app_status') return status;
      if (cmd === 'stop_app') {
        status = { ...status, tasks: [] };
        return report({ stoppedTasks: ['8a7b'], serviceScaledDown: null, failed: [] });
      }
      return null;
    });
    const board = new RunningOnAws('/p', connected);
    await board.refresh();
    expect(board.status?.tasks).toHaveLength(1);
    board.confirming = true;
    await board.stop();
    expect([board.confirming, board.status?.tasks.length, board.stopped?.stopped.stoppedTasks]).toEqual([false, 0, ['8a7b']]);
  });

  it('stops one task after its own question, which says what stops and what it saves', async () => {
    let status = statusBefore();
    const task = status.tasks[0];
    mockIPC((cmd, args) => {
      if (cmd === 'app_status') return status;
      if (cmd === 'stop_task') {
        expect(args).toEqual({ dir: '/p', taskId: task.taskId });
        status = { ...status, tasks: [] };
        return report({ stoppedTasks: [task.taskId], serviceScaledDown: null, failed: [] });
      }
      return null;
    });
    const board = new RunningOnAws('/p', connected);
    await board.refresh();
    const question = stopTaskQuestion(task, status.history);
    expect(question).toMatch(/^Stop the task running (version|revision) \S+\?/);
    expect(question, 'an identifier stays behind Show details').not.toContain(task.taskId);
    if (task.url) expect(question).toContain(task.url);
    board.confirmingTask = task.taskId;
    await board.stopOne(task.taskId);
    expect([board.confirmingTask, board.status?.tasks.length, board.stopped?.stopped.stoppedTasks]).toEqual([null, 0, [task.taskId]]);
  });

  it('says a task in words: its state, the version it runs, and a rollback in the history', () => {
    expect(taskState({ status: 'RUNNING', health: 'HEALTHY' })).toBe('Running, healthy');
    expect(taskState({ status: 'RUNNING', health: 'UNHEALTHY' })).toBe('Running, failing its health check');
    expect(taskState({ status: 'PROVISIONING', health: null })).toBe('Starting');
    expect(taskState({ status: 'DEPROVISIONING', health: null })).toBe('Stopping');
    const history = statusBefore().history;
    const deployed = history.find((e) => e.outcome === 'succeeded' && e.taskDefinition !== null)!;
    const revision = Number(deployed.taskDefinition!.split(':').pop());
    expect(taskRelease({ revision }, history)).toBe(`Version ${deployed.version}`);
    expect(taskRelease({ revision: 999 }, history)).toBe('Revision 999');
    expect(historyKind({ mode: 'task', rolledBackTo: null })).toBe('Deploy (standalone task)');
    expect(historyKind({ mode: 'service', rolledBackTo: 3 })).toBe('Rollback to revision 3 (service)');
  });

  it('removes an unfinished deploy once it is settled, and keeps it when settling fails', async () => {
    let fail = true;
    mockIPC((cmd, args) => {
      if (cmd === 'unfinished_deploys') return unfinished;
      if (cmd === 'settle_deploy') {
        if (fail) return Promise.reject({ code: 'AccessDenied', message: 'Not allowed: ecs:StopTask.' });
        expect(args).toEqual({ deployId: unfinished[0].id, stop: true });
        return { ...unfinished[0], outcome: 'abandoned', finishedAt: NOW / 1000, summary: 'closed after a restart; stopped 1 task(s) it had started' };
      }
      return null;
    });
    const banner = new UnfinishedDeploys();
    await banner.load();
    await banner.settle(unfinished[0].id, true);
    expect([banner.entries.length, banner.failure?.code]).toEqual([1, 'AccessDenied']);
    fail = false;
    await banner.settle(unfinished[0].id, true);
    expect([banner.entries.length, banner.failure, banner.settled?.app]).toEqual([0, null, 'shop']);
  });
});

describe('DeployResult', () => {
  it('labels a reason no catalog entry matched as AWS reported it', () => {
    const failure = { ...(failing.at(-1)!.data as Extract<DeployEvent, { type: 'Failed' }>['data']) };
    failure.diagnosis = { cause: 'CannotPullContainerError: pull access denied', fix: 'Read AWS\'s words.', evidence: 'CannotPullContainerError', known: false };
    render(DeployResult, { outcome: null, failure });
    expect(screen.getByTestId('diagnosis-unknown').textContent).toBe('Unrecognised reason — shown as AWS reported it');
    expect(screen.getByTestId('diagnosis-evidence').textContent).toBe('AWS said: CannotPullContainerError');
    expect(screen.getByTestId('deploy-logs').textContent).toMatch(/GREETING_FILE/);
  });
});

describe('a finished deploy checked against what runs now', () => {
  it('answers while its task runs, and until what runs has been read', () => {
    expect(liveness(outcome, statusAfter())).toEqual({ state: 'live' });
    expect(liveness(outcome, null)).toEqual({ state: 'unknown' });
  });

  it('is gone after a rollback, naming what answers instead', () => {
    // What runs now is the earlier revision's task, as after a rollback.
    expect(liveness(outcome, statusBefore())).toEqual({ state: 'gone', now: 'The app now runs revision 3, at http://35.89.10.4:8080.' });
  });

  it('is gone after Stop everything or a teardown, and says nothing is billed', () => {
    const stopped = { ...statusAfter(), tasks: [] };
    expect(liveness(outcome, stopped)).toEqual({ state: 'gone', now: 'Nothing of the app runs on AWS now, and nothing is billed for it.' });
    const stopping = statusAfter();
    stopping.tasks[0].status = 'DEPROVISIONING';
    expect(liveness(outcome, stopping).state).toBe('gone');
  });

  it('is not judged by a reading asked for before the deploy answered', () => {
    render(DeployResult, { outcome, failure: null, status: { ...statusAfter(), tasks: [] }, statusAskedAt: 1_000, endedAt: 2_000 });
    expect(screen.getByTestId('deploy-live').textContent).toMatch(/answers on AWS/);
    expect(screen.queryByTestId('deploy-gone')).toBeNull();
  });

  it('shows a gone address struck through, with no Open button and no claim that it answers', () => {
    render(DeployResult, { outcome, failure: null, status: { ...statusAfter(), tasks: [] }, statusAskedAt: 2_000, endedAt: 1_000 });
    expect(screen.getByTestId('deploy-gone').textContent).toMatch(/^\s*Release 20261121-143005 answered at this address when it was deployed; it no longer runs there\. Nothing of the app runs/);
    expect(screen.getByTestId('deploy-url-gone').textContent).toBe('http://54.201.33.17:8080');
    expect(screen.queryByTestId('deploy-open')).toBeNull();
    expect(screen.queryByTestId('deploy-live')).toBeNull();
  });
});

describe('faults on the timeline', () => {
  it('says what is being retried until progress resumes, and keeps the warnings', () => {
    const view = fold([
      { type: 'Retrying', data: { what: 'ecs:DescribeTasks', reason: 'AWS answered HTTP 503 (ServiceUnavailable)', attempt: 2 } },
    ]);
    expect(view.retrying?.attempt).toBe(2);
    applyDeployEvent(view, { type: 'StepDone', data: { step: 'wait', detail: 'public IP 1.2.3.4', atMs: 900 } });
    expect(view.retrying).toBeNull();
    applyDeployEvent(view, { type: 'Warning', data: { message: 'The previous task 8a7b could not be stopped; it still runs and is billed.' } });
    expect(view.warnings).toEqual(['The previous task 8a7b could not be stopped; it still runs and is billed.']);
  });

  it('tells what to do when another deploy of the app is running', () => {
    expect(deployHint('DeployInProgress')).toMatch(/When it has finished, press Deploy again/);
  });

  it('keeps a deploy whose stop could not finish in the banner, with what still runs', async () => {
    const open = { ...unfinished[0], outcome: 'needs attention', summary: 'Still running and billed: task 9f.' } as JournalEntry;
    expect(unfinishedText(open, NOW)).toMatch(/could not stop everything it started\. Still running and billed: task 9f\./);
    mockIPC((cmd) => {
      if (cmd === 'unfinished_deploys') return [open];
      if (cmd === 'settle_deploy') return { ...open, summary: 'Still running and billed: task 9f (AccessDenied).' };
    });
    const banner = new UnfinishedDeploys();
    await banner.load();
    await banner.settle(open.id, true);
    expect(banner.entries.map((e) => e.summary)).toEqual(['Still running and billed: task 9f (AccessDenied).']);
    expect(banner.settled).toBeNull();
  });
});

describe('the OS notification at a deploy\'s end', () => {
  it('says the app is live at its address, or that the deploy or rollback failed and why; nothing on cancel', () => {
    expect(deployNotice('hello-site', false, outcome, null, false)).toEqual({
      title: `${outcome.app} is live`,
      body: `Deploy of ${outcome.version} answered at ${outcome.url}.`,
    });
    expect(deployNotice('hello-site', true, null, { code: 'DeployFailed', message: 'The task stopped: exit code 3.' }, false)).toEqual({
      title: 'Rollback of hello-site failed',
      body: 'The task stopped: exit code 3.',
    });
    expect(deployNotice('hello-site', false, null, { code: 'Cancelled', message: 'Cancelled.' }, true)).toBeNull();
  });
});

describe('a deploy behind the load balancer', () => {
  const balanced = fixtures.balanced.events as DeployEvent[];
  const task = fixtures.balanced.outcome.taskIds[0];

  it('keeps each new task\'s target changes in order, said as the load balancer sees them', () => {
    const view = fold(balanced);
    expect(targetsOf(view, task).map((t) => [t.state, t.reason])).toEqual([
      ['initial', 'Elb.RegistrationInProgress'],
      ['initial', 'Elb.InitialHealthChecking'],
      ['healthy', null],
    ]);
    expect(targetRow(view.targets[2])).toBe('at the load balancer: healthy: the load balancer sends it visitors');
    expect(['healthy', 'unhealthy', 'initial', 'draining'].map(targetTone)).toEqual(['ok', 'bad', 'pending', 'neutral']);
    expect(view.steps.every((s) => s.state === 'done' || s.step === 'retire')).toBe(true);
  });

  it('shows the target rows under their task, with AWS\'s identifiers behind Show details', () => {
    render(DeployTimeline, { view: fold(balanced) });
    const rows = screen.getAllByTestId('target-row');
    expect(rows.map((r) => r.textContent?.replace(/\s+/g, ' ').trim())).toEqual([
      'at the load balancer: being registered with the load balancer at 0:33',
      'at the load balancer: registered; the load balancer is checking its health at 0:35',
      'at the load balancer: healthy: the load balancer sends it visitors at 0:56',
    ]);
    expect(rows[0].closest('[data-testid=task-timeline]')?.getAttribute('data-task')).toBe(task);
    expect(screen.getByTestId('target-details').closest('details')?.open).toBe(false);
    expect(screen.getByTestId('target-details').textContent).toContain('10.0.2.57:8080');
  });

  it('ends a failure at the last target change seen, when that is the newest', () => {
    const view = fold(balanced.slice(0, balanced.findIndex((e) => e.type === 'Target' && e.data.state === 'healthy')));
    applyDeployEvent(view, { type: 'Failed', data: { ...(fixtures.failure.events.at(-1) as Extract<DeployEvent, { type: 'Failed' }>).data } });
    expect(view.steps.find((s) => s.step === 'wait')).toMatchObject({ state: 'failed', endedMs: 35800 });
  });
});

describe('scaling behind the load balancer', () => {
  const balancedStatus = (): AppStatus =>
    ({ ...structuredClone(fixtures.balanced.status), history: fixtures.balanced.status.history.map(dated) }) as AppStatus;

  it('says the scaling, what a change did and what the tasks cost', () => {
    expect(scalingText(null, 1)).toBe('Runs 1 task.');
    expect(scalingText({ min: 1, max: 4, cpuTarget: 60, requestsTarget: null }, 2)).toBe('Scales from 1 to 4 tasks on CPU load, keeping their average CPU near 60%; 2 running now.');
    expect(scalingText({ min: 1, max: 3, cpuTarget: null, requestsTarget: 500 }, 1)).toBe(
      "Scales from 1 to 3 tasks on visitors' requests, keeping each task near 500 requests a minute; 1 running now.",
    );
    const scaled = { service: 'hello-site', desired: 3, running: 1, scaling: null, changes: ['runs 3 tasks (was 1)'] };
    expect(scaleResult(scaled, 1)).toBe('Saved in slipway.toml; the service now runs 3 tasks (was 1). 2 more tasks start in a minute or so.');
    expect(scaleResult(scaled, 2)).toBe('Saved in slipway.toml; the service now runs 3 tasks (was 1). One more task starts in a minute or so.');
    expect(scaleResult(scaled, 3), 'once they run, nothing is said to be starting').toBe('Saved in slipway.toml; the service now runs 3 tasks (was 1).');
    expect(scaleResult({ service: 'hello-site', desired: 1, running: 1, scaling: null, changes: [] }, 1)).toBe(
      'Nothing changed: the service already ran as asked (1 task).',
    );
    const perTask = perTaskHour(balancedStatus().tasks);
    expect(perTask).toBe(0.0173425);
    expect(scaleCost(perTask, 2, null)).toBe('About $0.0347 an hour for 2 tasks (each task $0.0173 an hour), besides the load balancer.');
    expect(scaleCost(perTask, 1, 3)).toBe('About $0.0173 an hour for 1 task to $0.052 with 3 (each task $0.0173 an hour), besides the load balancer.');
    expect(scaleCost(null, 2, null)).toBeNull();
    expect(stopQuestion(balancedStatus())).toMatch(/The load balancer stays, with its address, and bills while it exists; Remove from AWS removes it\.$/);
  });

  it('asks the engine for the numbers typed, shows its refusal, and reads what runs again either way', async () => {
    const asked: unknown[] = [];
    let refuse = false;
    mockIPC((cmd, args) => {
      if (cmd !== 'scale_app') return null;
      asked.push((args as { request: unknown }).request);
      if (refuse) return Promise.reject({ code: 'InvalidProjectConfig', message: 'aws.max_tasks: Scaling goes up to 2 to 20 tasks (at least the 2 it keeps running); 1 is not in that range.' });
      return { service: 'hello-site', desired: 2, running: 1, scaling: { min: 2, max: 5, cpuTarget: 70, requestsTarget: null }, changes: ['runs 2 tasks (was 1)'] };
    });
    let after = 0;
    const scale = new ScaleControl('/home/ana/hello-site', async () => {
      after += 1;
    });
    scale.open(balancedStatus());
    expect([scale.tasks, scale.auto, scale.maxTasks, scale.cpuTarget]).toEqual([1, false, 2, null]);
    scale.set('tasks', 2);
    scale.auto = true;
    scale.set('maxTasks', 5);
    scale.set('cpuTarget', 70);
    await scale.apply();
    expect(asked).toEqual([{ tasks: 2, maxTasks: 5, cpuTarget: 70, requestsTarget: null }]);
    expect(scale.outcome?.changes).toEqual(['runs 2 tasks (was 1)']);
    expect(scale.editing).toBe(false);
    expect(after).toBe(1);

    // On requests instead: only the requests target is sent, and a CPU typo left behind
    // does not stop it.
    scale.open(balancedStatus());
    scale.auto = true;
    scale.set('maxTasks', 3);
    scale.set('cpuTarget', null);
    scale.on = 'requests';
    scale.set('requestsTarget', 500);
    expect(scale.problemsNow).toEqual([]);
    await scale.apply();
    expect(asked[1]).toEqual({ tasks: 1, maxTasks: 3, cpuTarget: null, requestsTarget: 500 });
    scale.open(balancedStatus());
    scale.auto = true;
    scale.on = 'requests';
    scale.set('requestsTarget', null);
    expect(scale.problemsNow).toEqual(['Enter a whole number.']);
    await scale.apply();
    expect(asked, 'a requests target that is not a number asks nothing').toHaveLength(2);

    refuse = true;
    scale.open(balancedStatus());
    scale.auto = true;
    scale.set('maxTasks', null);
    expect(scale.problems).toEqual({ maxTasks: 'Enter a whole number.' });
    await scale.apply();
    expect(asked, 'nothing is asked while a number is not one').toHaveLength(2);
    scale.set('maxTasks', 1);
    scale.auto = true;
    scale.set('tasks', 2);
    await scale.apply();
    expect(scale.failure?.message).toContain('Scaling goes up to 2 to 20 tasks');
    expect(scale.editing, 'the form stays to be corrected').toBe(true);
    expect(after).toBe(3);
  });

  it('shows each target in the load balancer\'s words, its scaling, and the control once the service exists', async () => {
    const status = balancedStatus();
    const scale = new ScaleControl('/home/ana/hello-site', async () => {});
    render(BalancerStatus, { status, balancer: status.balancer!, scale, onOpenFailure: () => {} });
    expect(screen.getByTestId('status-balancer-url').textContent).toBe(fixtures.balanced.outcome.url);
    expect(screen.getByTestId('status-balancer-health').textContent).toContain('1 of 1 task healthy at the load balancer');
    expect(screen.getByTestId('status-target').textContent).toContain('Version 20261121-143005');
    expect(screen.getByTestId('status-target-said').textContent).toBe('healthy: the load balancer sends it visitors');
    expect(screen.getByTestId('status-balancer-details').closest('details')?.open).toBe(false);
    expect(screen.getByTestId('status-scaling').textContent).toBe('Runs 1 task.');
    screen.getByTestId('scale-open').click();
    await new Promise((r) => setTimeout(r, 0));
    expect(screen.getByTestId('scale-hint').textContent).toContain('About $0.0173 an hour for 1 task');
  });
});
