import { describe, expect, it } from 'vitest';
import { currentStep, headline, isFirstDeploy, standingKnown, steps, type HeadlineInput } from './headline';
import type { AppStatus, JournalEntry, Preview } from '../../ipc';
import fixtures from '../../../../../tests/fixtures/deploy.json';
import project from '../../../../../tests/fixtures/project.json';

const NOW = 1_763_780_000_000;
const dated = ({ ageSeconds, ...entry }: { ageSeconds: number; finishedAt: number | null }) =>
  ({ ...entry, startedAt: NOW / 1000 - ageSeconds, finishedAt: entry.finishedAt === null ? null : NOW / 1000 - ageSeconds }) as JournalEntry;
const statusAfter = (): AppStatus => ({ ...structuredClone(fixtures.statusAfter), history: fixtures.statusAfter.history.map(dated) }) as AppStatus;
const preview = project.preview as unknown as Preview;

const input = (over: Partial<HeadlineInput>): HeadlineInput => ({ status: null, connected: false, preview: null, releases: 1, setupReady: null, statusFailed: false, localBusy: false, checkingConnection: false, reconnecting: false, nowMs: NOW, ...over });

describe('the app page header', () => {
  it('shows the live address, tasks, cost per hour, revision and last deploy while a task answers', () => {
    const head = headline(input({ connected: true, status: statusAfter() }));
    expect(head).toMatchObject({ tone: 'ok', title: 'Live on AWS', url: 'http://54.201.33.17:8080', next: null });
    expect(head.facts).toEqual(['1 task', '$0.0173 an hour', 'revision 4', 'last deploy 20261121-143005, just now']);
  });

  it('leads a newcomer to build first, then to connect, then to deploy', () => {
    expect(headline(input({ releases: 0 })).next).toMatchObject({ label: 'Try it here', target: 'build' });
    expect(headline(input({ releases: 2 })).next).toMatchObject({ label: 'Connect to AWS', target: 'aws' });
    const stopped = { ...statusAfter(), tasks: [] };
    const head = headline(input({ connected: true, status: stopped }));
    expect(head).toMatchObject({ title: 'Not running on AWS', url: null, next: { label: 'Deploy', target: 'deploy' } });
    expect(head.next?.why).toMatch(/nothing is billed/);
  });

  it('never guesses before what runs on AWS has been read, and says when it could not be', () => {
    expect(headline(input({ connected: true, status: null }))).toMatchObject({ title: 'Reading what runs on AWS…', next: null, url: null });
    expect(headline(input({ connected: true, status: null, statusFailed: true })).title).toBe('Could not read what runs on AWS (see Running on AWS)');
  });

  it('does not call an app failing its health check plainly live', () => {
    const sick = statusAfter();
    sick.tasks[0].health = 'UNHEALTHY';
    expect(headline(input({ connected: true, status: sick }))).toMatchObject({ tone: 'warn', title: 'Live on AWS, failing its health check' });
  });

  it('after a teardown, Set up is the next step again even though a deploy succeeded before', () => {
    const torn = { ...statusAfter(), tasks: [] };
    expect(steps(input({ connected: true, status: torn, setupReady: false })).find((s) => s.state === 'current')?.label).toBe('Set up');
  });

  it('shows the local preview address when nothing runs on AWS', () => {
    const head = headline(input({ preview, releases: 1 }));
    expect(head).toMatchObject({ title: 'Running on this computer', url: preview.url });
  });

  it('says a task is starting, not live, before it answers', () => {
    const starting = statusAfter();
    starting.tasks[0].status = 'PENDING';
    starting.tasks[0].url = null;
    expect(headline(input({ connected: true, status: starting }))).toMatchObject({ title: 'Starting on AWS', url: null, tone: 'pending' });
  });

  it('walks a first deploy in six steps, each locked with its reason until it can be done', () => {
    const first = steps(input({ releases: 0 }));
    expect(first.map((s) => [s.label, s.state, s.why])).toEqual([
      ['Open', 'done', null],
      ['Try it here', 'current', null],
      ['Connect to AWS', 'open', null],
      ['Set up', 'locked', 'Connect to AWS first'],
      ['Deploy', 'locked', 'Connect to AWS first'],
      ['Live', 'open', null],
    ]);
    const planned = steps(input({ connected: true, status: { ...statusAfter(), tasks: [], history: [] }, setupReady: false }));
    expect(planned.find((s) => s.state === 'current')?.label).toBe('Set up');
    expect(planned.find((s) => s.label === 'Deploy')?.why).toBe('Set up first');
    const live = steps(input({ connected: true, status: statusAfter() }));
    expect(live.every((s) => s.state === 'done')).toBe(true);
    const stopped = steps(input({ connected: true, status: { ...statusAfter(), tasks: [] } }));
    expect(stopped.find((s) => s.state === 'current')?.label, 'deployed before: set up, and Deploy is next again').toBe('Deploy');
  });

  it('keeps trying it here current while a build or a preview start runs, and counts it over once connected', () => {
    expect(currentStep(input({ releases: 1, localBusy: true }))).toBe('build');
    expect(currentStep(input({ releases: 1 }))).toBe('aws');
    expect(currentStep(input({ releases: 0, connected: true, status: { ...statusAfter(), tasks: [], history: [] }, setupReady: false }))).toBe('setup');
  });

  it('guides until the app was live once, then the page is the app\'s', () => {
    expect(isFirstDeploy(input({ releases: 0 }))).toBe(true);
    expect(isFirstDeploy(input({ connected: true, status: statusAfter() }))).toBe(false);
    const stopped = { ...statusAfter(), tasks: [] };
    expect(isFirstDeploy(input({ connected: true, status: stopped })), 'deployed once before').toBe(false);
  });

  it('does not guide while what runs on AWS or the releases are still being read', () => {
    expect(standingKnown(input({ connected: true, status: null }))).toBe(false);
    expect(isFirstDeploy(input({ connected: true, status: null }))).toBe(false);
    expect(standingKnown(input({ releases: null }))).toBe(false);
    expect(standingKnown(input({ releases: null, connected: true, status: statusAfter() })), 'connected, AWS decides').toBe(true);
    expect(standingKnown(input({ connected: true, status: null, statusFailed: true })), 'a failed reading is shown, not awaited').toBe(true);
    expect(isFirstDeploy(input({ connected: true, status: null, statusFailed: true })), 'it may be live: no guide').toBe(false);
    expect(standingKnown(input({ reconnecting: true }))).toBe(false);
    expect(headline(input({ reconnecting: true }))).toMatchObject({ title: 'Connecting to AWS…', next: null });
    // Whether it connects again is read first: nothing is said of connecting until it does.
    expect(standingKnown(input({ checkingConnection: true }))).toBe(false);
    expect(headline(input({ checkingConnection: true }))).toMatchObject({ title: 'Reading where it stands…', next: null });
  });

  it('counts an app live on AWS as deployed even with no deploy of its own in the history', () => {
    expect(isFirstDeploy(input({ connected: true, status: { ...statusAfter(), history: [] } }))).toBe(false);
  });
});

describe('the header behind the load balancer', () => {
  const balanced = (): AppStatus => ({ ...structuredClone(fixtures.balanced.status), history: fixtures.balanced.status.history.map(dated) }) as AppStatus;

  it('shows the address that never changes and how many tasks the load balancer finds healthy', () => {
    const head = headline(input({ connected: true, status: balanced() }));
    expect(head).toMatchObject({ tone: 'ok', title: 'Live on AWS', url: fixtures.balanced.outcome.url, next: null });
    expect(head.facts).toEqual(['address never changes', '1 of 1 task healthy', '$0.0173 an hour', 'revision 4', 'last deploy 20261121-143005, just now']);
  });

  it('counts a new task still being checked, and not one leaving', () => {
    const status = balanced();
    const [healthy] = status.balancer!.targets;
    status.service!.desired = 2;
    status.balancer!.targets.push({ ...healthy, ip: '10.0.2.60', taskId: null, state: 'initial', reason: 'Elb.InitialHealthChecking', said: 'registered; the load balancer is checking its health' });
    status.balancer!.targets.push({ ...healthy, ip: '10.0.2.61', taskId: null, state: 'draining', reason: 'Target.DeregistrationInProgress', said: 'leaving the load balancer (finishing open requests)' });
    expect(headline(input({ connected: true, status })).facts[1]).toBe('1 of 2 tasks healthy');
  });

  it('is not live while no task is healthy there, and says when one fails its health check', () => {
    const starting = balanced();
    starting.balancer!.targets[0] = { ...starting.balancer!.targets[0], state: 'initial', reason: 'Elb.InitialHealthChecking', said: 'registered; the load balancer is checking its health' };
    expect(headline(input({ connected: true, status: starting }))).toMatchObject({ tone: 'pending', title: 'Starting on AWS', url: null });
    expect(steps(input({ connected: true, status: starting })).find((s) => s.label === 'Live')?.state).toBe('open');

    const failing = balanced();
    failing.balancer!.targets[0] = { ...failing.balancer!.targets[0], state: 'unhealthy', reason: 'Target.ResponseCodeMismatch', said: 'failing the health check: the app answered with the wrong status' };
    const head = headline(input({ connected: true, status: failing }));
    expect(head).toMatchObject({ tone: 'warn', title: 'Not answering: no task passes the health check', url: null });
    expect(head.facts[0]).toBe('0 of 1 task healthy');
  });

  it('says the load balancer still bills once nothing runs', () => {
    const stopped = { ...balanced(), tasks: [], service: { ...balanced().service!, desired: 0, running: 0 } };
    stopped.balancer = { ...stopped.balancer!, targets: [] };
    const head = headline(input({ connected: true, status: stopped }));
    expect(head).toMatchObject({ title: 'Not running on AWS', url: null });
    expect(head.facts).toContain('the load balancer keeps its address and bills while it exists');
  });
});
