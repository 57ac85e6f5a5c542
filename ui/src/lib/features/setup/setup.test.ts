import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import {
  applySetupEvent,
  forOtherAccount,
  newView,
  opensToEveryone,
  planSummary,
  retentionLabel,
  rowState,
  SetupRun,
  stopView,
  vpcLabel,
  type AwsReady,
} from './setup.svelte';
import { applyTeardownEvent, itemState, kept, newTeardownView, removals, TeardownRun } from './teardown.svelte';
import SetupCard from './SetupCard.svelte';
import TeardownCard from './TeardownCard.svelte';
import { ProjectSession } from '../project/project.svelte';
import { account } from '../aws/aws.svelte';
import type { CallerIdentity, PlannedResource, Project, SetupEvent, SetupPlan, TaskSizeOption, TeardownEvent, TeardownPlan } from '../../ipc';
import fixtures from '../../../../../tests/fixtures/project.json';
import cloud from '../../../../../tests/fixtures/aws.json';

afterEach(() => {
  cleanup();
  clearMocks();
  account.follow(null, null);
});

// The same account the Chromium flows use (tests/ui), typed by the bindings.
const identity = cloud.identity as CallerIdentity;
const fresh = () => structuredClone(cloud.setupPlan) as SetupPlan;
const ready = () => structuredClone(cloud.readyPlan) as SetupPlan;
const events = cloud.setupEvents as SetupEvent[];
const teardownPlan = () => structuredClone(cloud.teardownPlan) as TeardownPlan;
const sample = fixtures.sample as Project;
const kinds = ['repository', 'cluster', 'logGroup', 'executionRole', 'securityGroup', 'subnets'] as const;

/** Stands in for the Workbench's prepare: nothing to save, already connected. */
const connected: AwsReady = { prepare: async () => ({ config: structuredClone(sample.config), identity }) };

type Channel = { onmessage: (e: unknown) => void };
const channelOf = (args: unknown) => (args as { onEvent: Channel }).onEvent;

function resource(state: PlannedResource['state'], owner: PlannedResource['owner'] = 'slipway'): PlannedResource {
  return { ...fresh().resources[0], state, owner };
}

describe('applySetupEvent', () => {
  it('marks a resource as worked on, lists each change under it, then marks it done', () => {
    const view = newView(fresh());
    applySetupEvent(view, { type: 'Planned', data: fresh() });
    const [started, created] = events;
    applySetupEvent(view, started);
    expect(view.progress.repository).toBe('working');
    expect(rowState(view.plan.resources[0], view.progress.repository).label).toBe('Working…');
    applySetupEvent(view, created);
    expect(view.applied.repository).toEqual(['create the ECR repository hello-site']);
    expect(view.progress.cluster).toBeUndefined();

    for (const event of events.slice(2)) applySetupEvent(view, event);
    expect(kinds.slice(0, 5).map((k) => view.progress[k])).toEqual(['done', 'done', 'done', 'done', 'done']);
    expect(view.applied.executionRole).toHaveLength(2);
    expect(view.working).toBeNull();
  });

  it('starts afresh on the plan apply observed, which may differ from the one shown', () => {
    const view = newView(fresh());
    applySetupEvent(view, events[0]);
    applySetupEvent(view, events[1]);
    const observed = { ...ready(), app: 'observed' };
    applySetupEvent(view, { type: 'Planned', data: observed });
    expect(view.plan.app).toBe('observed');
    expect(view.progress).toEqual({});
    expect(view.applied).toEqual({});
  });

  it('puts a failure at the resource apply was working on', () => {
    const view = newView(fresh());
    for (const event of events.slice(0, 3)) applySetupEvent(view, event);
    applySetupEvent(view, { type: 'ResourceStarted', data: { kind: 'cluster' } });
    stopView(view, 'AWS said no');
    expect(view.stopped).toEqual({ kind: 'cluster', message: 'AWS said no' });
    expect(view.progress.cluster).toBe('failed');
    expect(view.progress.repository).toBe('done');
    expect(rowState(view.plan.resources[1], 'failed').tone).toBe('bad');
  });
});

describe('setup words', () => {
  it('names each plan state, and never calls a resource being worked on ready', () => {
    expect(rowState(resource({ state: 'ready' }), undefined).label).toBe('Ready');
    expect(rowState(resource({ state: 'willCreate' }), undefined).label).toBe('Will be created');
    expect(rowState(resource({ state: 'willChange', changes: ['x'] }), undefined).label).toBe('Will change');
    expect(rowState(resource({ state: 'blocked', reason: 'r', fix: 'f' }), undefined).label).toBe('Blocked');
    expect(rowState(resource({ state: 'ready' }), 'working').label).toBe('Working…');
    expect(rowState(resource({ state: 'willCreate' }), 'done').label).toBe('Ready');
  });

  it('warns about an open port when the range is everyone, or unset (which means everyone)', () => {
    expect(opensToEveryone(null)).toBe(true);
    expect(opensToEveryone('')).toBe(true);
    expect(opensToEveryone(' 0.0.0.0/0 ')).toBe(true);
    expect(opensToEveryone('203.0.113.7/32')).toBe(false);
    expect(opensToEveryone('10.0.0.0/8')).toBe(false);
  });

  it('says retention periods, VPCs and the plan as people read them', () => {
    expect(retentionLabel(30)).toBe('30 days (default)');
    expect(retentionLabel(1)).toBe('1 day');
    expect(retentionLabel(365)).toBe('1 year');
    expect(retentionLabel(400)).toBe('400 days');
    expect(retentionLabel(3653)).toBe('10 years');
    expect(vpcLabel(fresh().vpcs[0])).toBe('vpc-0d1e2f3a4b5c6d7e8 · 172.31.0.0/16 (default VPC)');
    expect(vpcLabel(fresh().vpcs[1])).toBe('staging · vpc-05a6b7c8d9e0f1a2b · 10.20.0.0/16');
    expect(planSummary(fresh())).toBe('Creates 5, 1 ready');
    const blocked = fresh();
    blocked.resources[5].state = { state: 'blocked', reason: 'r', fix: 'f' };
    expect(planSummary(blocked)).toBe('Creates 5; 1 blocked');
  });

  it('tells a plan made for another account or region', () => {
    expect(forOtherAccount(fresh(), identity)).toBe(false);
    expect(forOtherAccount({ account: '999999999999', region: 'us-west-2' }, identity)).toBe(true);
    expect(forOtherAccount({ account: identity.account, region: 'eu-west-1' }, identity)).toBe(true);
  });
});

describe('SetupRun', () => {
  it('connects before it plans, applies with events as they stream, and ends on the plan observed after', async () => {
    const order: string[] = [];
    let seenWhileWorking: string | undefined;
    const aws: AwsReady = {
      prepare: async () => {
        order.push('prepare');
        return connected.prepare();
      },
    };
    const run = new SetupRun('/p', aws);
    mockIPC((cmd, args) => {
      order.push(cmd);
      if (cmd === 'plan_setup') return fresh();
      if (cmd === 'apply_setup') {
        const channel = channelOf(args);
        channel.onmessage({ type: 'Planned', data: fresh() });
        channel.onmessage(events[0]);
        seenWhileWorking = run.view?.progress.repository;
        for (const event of events.slice(1)) channel.onmessage(event);
        return ready();
      }
      return null;
    });
    await run.review();
    expect(order).toEqual(['prepare', 'plan_setup']);
    expect(run.view?.plan.changes).toHaveLength(7);

    await run.apply();
    expect(seenWhileWorking).toBe('working');
    expect(run.phase).toBe('applied');
    expect(run.view?.plan.resources.map((r) => rowState(r, run.view?.progress[r.kind]).label)).toEqual(Array(6).fill('Ready'));
    expect(run.view?.applied.securityGroup).toEqual(['create the security group slipway-hello-site in vpc-0d1e2f3a4b5c6d7e8', 'allow TCP 8080 from 0.0.0.0/0']);
  });

  it('shows a failure at the row and keeps what was done; a cancel is not a failure', async () => {
    const run = new SetupRun('/p', connected);
    mockIPC((cmd, args) => {
      if (cmd === 'plan_setup') return fresh();
      if (cmd === 'apply_setup') {
        const channel = channelOf(args);
        for (const event of events.slice(0, 3)) channel.onmessage(event);
        channel.onmessage({ type: 'ResourceStarted', data: { kind: 'cluster' } });
        return Promise.reject(cloud.setupFailure);
      }
      return null;
    });
    await run.review();
    await run.apply();
    expect(run.phase).toBe('failed');
    expect(run.failure?.code).toBe('AccessDenied');
    expect(run.view?.stopped?.kind).toBe('cluster');
    expect(run.view?.progress.repository).toBe('done');

    mockIPC((cmd, args) => {
      if (cmd !== 'apply_setup') return null;
      channelOf(args).onmessage(events[0]);
      return Promise.reject({ code: 'Cancelled', message: 'Cancelled.' });
    });
    await run.apply();
    expect(run.phase).toBe('cancelled');
    expect(run.failure).toBeNull();
    expect(run.view?.stopped?.message).toMatch(/Cancelled/);
  });

  it('applies the plan it showed, and marks a resource that changed since the review', async () => {
    const run = new SetupRun('/p', connected);
    let sent: unknown = null;
    mockIPC((cmd, args) => {
      if (cmd === 'plan_setup') return fresh();
      if (cmd === 'apply_setup') {
        sent = (args as { plan: unknown }).plan;
        const channel = channelOf(args);
        channel.onmessage({ type: 'Planned', data: fresh() });
        channel.onmessage({
          type: 'Skipped',
          data: { kind: 'logGroup', reason: 'CloudWatch log group /ecs/hello-site changed since you reviewed it; review the plan again.' },
        });
        return fresh();
      }
      return null;
    });
    await run.review();
    await run.apply();
    expect(sent).toEqual(fresh());
    expect(run.view?.skipped.logGroup).toMatch(/changed since you reviewed it/);
  });

  it('says why when it cannot connect, and asks nothing of AWS', async () => {
    const asked: string[] = [];
    mockIPC((cmd) => {
      asked.push(cmd);
      return null;
    });
    const run = new SetupRun('/p', {
      prepare: () => Promise.reject({ code: 'SsoSessionExpired', message: 'The SSO sign-in of profile "work" expired. Sign in again for that profile and check again.' }),
    });
    await run.review();
    expect(run.failure?.message).toMatch(/Sign in again/);
    expect(run.view).toBeNull();
    expect(asked).toEqual([]);
  });
});

async function openedSession(): Promise<ProjectSession> {
  mockIPC((cmd) => {
    if (cmd === 'open_sample') return sample;
    if (cmd === 'task_sizes') return fixtures.taskSizes as TaskSizeOption[];
    if (cmd === 'check_project') return fixtures.preflight;
    if (cmd === 'validate_project') return [];
    if (cmd === 'connect_project_aws') return identity;
    return null;
  });
  const session = new ProjectSession();
  await session.openSample();
  account.follow(sample.dir, sample.config.aws);
  await account.connect(sample.dir, sample.config.aws);
  return session;
}

describe('SetupCard', () => {
  it('shows one row per resource with its state, why a blocked one is blocked, and who made it', async () => {
    const session = await openedSession();
    const plan = fresh();
    plan.resources[1].state = { state: 'willChange', changes: ['set /ecs/hello-site to keep logs 90 days'] };
    plan.resources[1].owner = 'someone';
    plan.resources[5].state = { state: 'blocked', reason: 'subnet-a: its route table has no 0.0.0.0/0 route', fix: 'Attach an internet gateway.' };
    plan.subnets[0] = { ...plan.subnets[0], public: false, reason: 'its route table has no 0.0.0.0/0 route' };
    const run = new SetupRun(sample.dir, connected);
    run.view = newView(plan);
    render(SetupCard, { session, run, onEnvironment: () => {} });

    const rows = screen.getAllByTestId('setup-resource');
    expect(rows.map((r) => r.dataset.kind)).toEqual([...kinds]);
    const state = (i: number) => rows[i].querySelector('[data-testid=resource-state]')?.textContent ?? '';
    expect(state(0)).toContain('Will be created');
    expect(state(1)).toContain('Will change');
    expect(state(1)).toContain('keep logs 90 days');
    expect(state(5)).toContain('Blocked');
    expect(state(5)).toContain('Attach an internet gateway.');
    expect(rows[1].textContent).toContain('Not created by Slipway — used as is, kept on teardown');
    expect(rows[5].textContent).toContain('not public: its route table has no 0.0.0.0/0 route');
    expect(screen.getByTestId('setup-warning').textContent).toContain('0.0.0.0/0');
    expect((screen.getByTestId('apply-setup') as HTMLButtonElement).disabled).toBe(false);
  });

  it('says there is nothing to do, and will not apply nothing', async () => {
    const session = await openedSession();
    const run = new SetupRun(sample.dir, connected);
    run.view = newView(ready());
    render(SetupCard, { session, run, onEnvironment: () => {} });
    expect(screen.getByTestId('setup-nothing-to-do').textContent).toBe('Nothing to do — everything is in place');
    expect((screen.getByTestId('apply-setup') as HTMLButtonElement).disabled).toBe(true);
  });

  it('shows no plan while no account is connected, and says edits elsewhere are not used', async () => {
    const session = await openedSession();
    const run = new SetupRun(sample.dir, connected);
    run.view = newView(fresh());
    account.forget();
    session.draft!.port = 9090;
    render(SetupCard, { session, run, onEnvironment: () => {} });
    expect(screen.queryAllByTestId('setup-resource')).toHaveLength(0);
    expect(screen.getByTestId('setup-unsaved').textContent).toContain('Setup uses the saved ones');
  });

  it('fills "Only my IP", or says why it could not', async () => {
    const session = await openedSession();
    mockIPC((cmd) => (cmd === 'find_my_ip' ? '203.0.113.7/32' : cmd === 'validate_project' ? [] : null));
    render(SetupCard, { session, run: new SetupRun(sample.dir, connected), onEnvironment: () => {} });
    expect(screen.getByTestId('open-to-everyone')).toBeTruthy();
    await fireEvent.click(screen.getByTestId('only-my-ip'));
    await new Promise((r) => setTimeout(r, 0));
    expect(session.draft!.aws.allowFrom).toBe('203.0.113.7/32');
    expect(screen.queryByTestId('open-to-everyone')).toBeNull();

    mockIPC((cmd) =>
      cmd === 'find_my_ip' ? Promise.reject({ code: 'InvalidInput', message: 'Your public IP is not valid: no answer from checkip.amazonaws.com' }) : null,
    );
    await fireEvent.click(screen.getByTestId('only-my-ip'));
    await new Promise((r) => setTimeout(r, 0));
    expect(screen.getByTestId('my-ip-problem').textContent).toContain('checkip');
  });
});

describe('teardown', () => {
  it('splits the plan into what goes and what stays, and marks each step as it runs', () => {
    const plan = teardownPlan();
    expect(removals(plan).map((i) => i.step)).toEqual(['cluster', 'securityGroup', 'executionRole', 'logGroup']);
    expect(kept(plan).map((i) => i.step)).toEqual(['repository']);
    const view = newTeardownView(plan);
    const stream: TeardownEvent[] = [
      { type: 'StepStarted', data: { step: 'securityGroup' } },
      { type: 'Waiting', data: { step: 'securityGroup', what: 'network interfaces to be released' } },
    ];
    for (const event of stream) applyTeardownEvent(view, event);
    expect(view.waiting.securityGroup).toBe('network interfaces to be released');
    expect(itemState(plan.items[1], view.progress.securityGroup).label).toBe('Removing…');
    applyTeardownEvent(view, { type: 'StepDone', data: { step: 'securityGroup' } });
    expect(view.waiting.securityGroup).toBeUndefined();
    expect(itemState(plan.items[1], view.progress.securityGroup).label).toBe('Removed');
    expect(itemState(plan.items[0], undefined).label).toBe('Will be removed');
    expect(itemState(plan.items[4], 'done').label).toBe('Kept');
  });

  it('removes only after the app name is typed, then says what is left', async () => {
    const session = await openedSession();
    const run = new TeardownRun(sample.dir, connected);
    mockIPC((cmd, args) => {
      if (cmd === 'plan_teardown') return teardownPlan();
      if (cmd === 'apply_teardown') {
        const channel = channelOf(args);
        channel.onmessage({ type: 'Planned', data: teardownPlan() });
        for (const item of removals(teardownPlan())) {
          channel.onmessage({ type: 'StepStarted', data: { step: item.step } });
          channel.onmessage({ type: 'StepDone', data: { step: item.step } });
        }
        return cloud.teardownLeft;
      }
      return null;
    });
    render(TeardownCard, { session, run, app: 'hello-site', onEnvironment: () => {} });
    await fireEvent.click(screen.getByTestId('plan-teardown'));
    await screen.findAllByTestId('teardown-item');
    expect(screen.getAllByTestId('teardown-item').map((i) => i.dataset.action)).toEqual(['remove', 'remove', 'remove', 'remove', 'keep']);
    await fireEvent.click(screen.getByTestId('confirm-teardown'));
    const remove = screen.getByTestId('apply-teardown') as HTMLButtonElement;
    expect(remove.disabled).toBe(true);
    await fireEvent.input(screen.getByTestId('teardown-confirm-input'), { target: { value: 'hello' } });
    expect(remove.disabled).toBe(true);
    await fireEvent.input(screen.getByTestId('teardown-confirm-input'), { target: { value: 'hello-site' } });
    expect(remove.disabled).toBe(false);
    await fireEvent.click(remove);
    const result = await screen.findByTestId('teardown-result');
    expect(result.textContent).toContain('ECR repository');
    expect(run.phase).toBe('removed');
  });

  it('says nothing is left when nothing is', async () => {
    const session = await openedSession();
    const run = new TeardownRun(sample.dir, connected);
    run.view = newTeardownView(teardownPlan());
    run.left = { ...teardownPlan(), items: [] };
    run.phase = 'removed';
    render(TeardownCard, { session, run, app: 'hello-site', onEnvironment: () => {} });
    expect(screen.getByTestId('teardown-result').textContent).toBe('Nothing of hello-site is left in this account.');
  });
});
