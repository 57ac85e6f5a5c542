import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import {
  AwsReleaseBoard,
  deregisteredText,
  deregisterText,
  releaseVersion,
  rollbackQuestion,
  rollbackRequest,
  shortDigest,
  sizeText,
} from './aws-releases.svelte';
import AwsReleasesCard from './AwsReleasesCard.svelte';
import { RunningOnAws } from '../deploy/status.svelte';
import { listedChanges, NextDeployChanges, pendingHeadline } from '../deploy/changes.svelte';
import type { AwsReady } from '../setup/setup.svelte';
import type { AppStatus, AwsReleases, CallerIdentity, DeployEvent, DeployOutcome, DeployRequest, ProjectConfig } from '../../ipc';
import operate from '../../../../../tests/fixtures/operate.json';
import deploys from '../../../../../tests/fixtures/deploy.json';
import project from '../../../../../tests/fixtures/project.json';
import cloud from '../../../../../tests/fixtures/aws.json';

afterEach(() => {
  cleanup();
  clearMocks();
});

// The releases the Chromium flows use (tests/ui): revision 3 runs, 2 is the rollback target,
// 1's image is gone; ages dated from now, as the mock does from the page's.
const NOW_S = Math.floor(Date.now() / 1000);
type Fixture = typeof operate.releases;
function dated(list: Fixture): AwsReleases {
  return {
    ...structuredClone(list),
    releases: list.releases.map(({ pushedAgeSeconds, deploys, ...release }) => ({
      ...structuredClone(release),
      pushedAt: pushedAgeSeconds === null ? null : new Date((NOW_S - pushedAgeSeconds) * 1000).toISOString(),
      deploys: deploys.map(({ ageSeconds, ...d }) => ({ ...d, startedAt: NOW_S - ageSeconds })),
    })),
  } as AwsReleases;
}
const before = () => dated(operate.releases);
const rollbackEvents = operate.rollback.events as DeployEvent[];
const rollbackOutcome = operate.rollback.outcome as DeployOutcome;
const connected: AwsReady = {
  prepare: async () => ({ config: structuredClone(project.sample.config) as ProjectConfig, identity: cloud.identity as CallerIdentity }),
};
type Channel = { onmessage: (e: unknown) => void };
const statusBefore = () =>
  ({ ...structuredClone(deploys.statusBefore), history: deploys.statusBefore.history.map(({ ageSeconds, ...e }) => ({ ...e, startedAt: NOW_S - ageSeconds })) }) as unknown as AppStatus;

/** The releases commands and the deploy job over the fixture; what was asked is kept. */
function releaseWorld({ refuse = false } = {}) {
  const world = { list: before(), requests: [] as DeployRequest[], plans: [] as number[], applied: [] as number[] };
  mockIPC((cmd, args) => {
    const a = args as Record<string, unknown>;
    switch (cmd) {
      case 'aws_releases':
        return world.list;
      case 'app_status':
        return statusBefore();
      case 'deploy': {
        const request = a.request as DeployRequest;
        world.requests.push(request);
        if (refuse) return Promise.reject(operate.rollback.refused);
        for (const event of rollbackEvents) (a.onEvent as Channel).onmessage(event);
        world.list = dated(operate.afterRollback);
        return rollbackOutcome;
      }
      case 'deregister_plan':
        world.plans.push(a.keep as number);
        return { deregister: [1], kept: [[3, 'it is running'], [2, 'it is the rollback target']] };
      case 'deregister_revisions':
        world.applied.push(a.keep as number);
        return { deregister: [1], kept: [[3, 'it is running'], [2, 'it is the rollback target']] };
      default:
        return null;
    }
  });
  return world;
}

describe('release words', () => {
  it('names a release by its version tag, its digest by 12 hex digits and its size as Fargate does', () => {
    const [running, previous, gone] = before().releases;
    expect(releaseVersion(running)).toBe('20261121-101500');
    expect(releaseVersion(gone), 'no tag left: its revision').toBe('revision 1');
    expect(shortDigest(previous.digest)).toBe('sha256:2f7e0c1d9b8a');
    expect(shortDigest(null)).toBe('no digest');
    expect(sizeText('256/512')).toBe('0.25 vCPU · 0.5 GB');
    expect(sizeText('?/?')).toBe('?/?');
  });

  it('says what a rollback does and costs, by the mode the app runs in', () => {
    const list = before();
    const target = list.releases[1];
    expect(rollbackQuestion(target, list, { size: '256/512', costPerHour: 0.0173425 })).toBe(
      'Runs revision 2 (20261120-091500, sha256:2f7e0c1d9b8a) as a new task, checks its URL, then stops the current task. While both run (about a minute) you pay for two tasks (~$0.0173/h each). Nothing is built or pushed.',
    );
    expect(rollbackQuestion(target, list, { size: '1024/2048', costPerHour: 0.05 }), 'another size costs another rate').toMatch(
      /you pay one more task's hourly cost\./,
    );
    expect(rollbackQuestion(target, list, null)).toMatch(/you pay one more task's hourly cost\./);
    expect(rollbackQuestion(target, { ...list, mode: 'service' }, null)).toBe(
      'Updates service hello-site to revision 2 (20261120-091500, sha256:2f7e0c1d9b8a) and waits for the deployment to complete. Nothing is built or pushed.',
    );
    expect(rollbackRequest({ ...list, mode: 'service' }, 2, true)).toEqual({ mode: 'service', rollback: { revision: 2, retag: true } });
  });

  it('says what cleaning up removes and did', () => {
    expect(deregisterText({ deregister: [3, 2, 1], kept: [] })).toBe(
      'Deregisters revisions 3, 2 and 1: ECS will no longer run them, and they can no longer be rolled back to.',
    );
    expect(deregisterText({ deregister: [], kept: [[4, 'it is running']] })).toBe('Nothing to deregister: every active revision is kept.');
    expect(deregisteredText({ deregister: [1], kept: [] })).toBe('Deregistered revision 1.');
  });

  it('says what the next deploy changes in the task definition', () => {
    expect(pendingHeadline({ family: 'hello-site', revision: null, changes: ['first revision'] })).toBe('The first deploy registers hello-site revision 1.');
    expect(listedChanges({ family: 'hello-site', revision: null, changes: ['first revision'] })).toEqual([]);
    expect(pendingHeadline({ family: 'hello-site', revision: 4, changes: [] })).toMatch(/^Only the image can change: .* of hello-site revision 4 match the saved settings\.$/);
    expect(pendingHeadline({ family: 'hello-site', revision: 4, changes: ['CPU units: 256 → 512', 'memory (MiB): 512 → 1024'] })).toBe(
      'The next deploy registers a new revision of hello-site, with these 2 changes from revision 4:',
    );
  });
});

describe('AwsReleaseBoard', () => {
  it('rolls back with the deploy job, folds its events into the deploy view, and reads the releases again', async () => {
    const world = releaseWorld();
    let changed = 0;
    const board = new AwsReleaseBoard('/p', connected, () => (changed += 1));
    await board.refresh(false);
    expect(board.list?.rollbackTarget).toBe(2);
    board.ask(2, 'previous');
    board.setRetag(true);
    await board.confirm();
    expect(world.requests).toEqual([{ mode: 'task', rollback: { revision: 2, retag: true } }]);
    const run = board.rollback;
    expect(run.phase).toBe('done');
    expect(run.view.steps.find((s) => s.step === 'register')?.detail).toBe('revision 2 reused (rollback); nothing registered');
    expect(run.view.taskDefinition).toMatchObject({ revision: 2, previousRevision: 3, registered: false });
    expect(run.outcome?.url).toBe('http://44.230.18.92:8080');
    expect([board.asking, board.rollingBackTo?.revision, changed]).toEqual([null, 2, 1]);
    await waitFor(() => expect(board.list?.releases.find((r) => r.running)?.revision).toBe(2));
  });

  it('keeps a refused rollback\'s reason, with nothing shown as having run', async () => {
    releaseWorld({ refuse: true });
    const board = new AwsReleaseBoard('/p', connected);
    await board.refresh(false);
    board.ask(2);
    await board.confirm();
    expect(board.rollback.phase).toBe('failed');
    expect(board.rollback.failure).toEqual(operate.rollback.refused);
    expect(board.rollback.view.started, 'refused before anything started').toBeNull();
  });

  it('plans a clean-up for the number kept, and a new number forgets the plan', async () => {
    const world = releaseWorld();
    const board = new AwsReleaseBoard('/p', connected);
    await board.refresh(false);
    board.setKeep(1);
    await board.planCleanup();
    expect(board.plan?.deregister).toEqual([1]);
    board.setKeep(null);
    expect([board.keep, board.plan]).toEqual([null, null]);
    board.setKeep(1);
    await board.planCleanup();
    await board.cleanUp();
    expect([world.plans, world.applied, board.plan, board.cleaned?.deregister]).toEqual([[1, 1], [1], null, [1]]);
  });
});

describe('AwsReleasesCard', () => {
  async function showCard() {
    const board = new AwsReleaseBoard('/p', connected);
    const running = new RunningOnAws('/p', connected);
    await running.refresh(false);
    render(AwsReleasesCard, { board, running, deployBusy: false, onEnvironment: () => {} });
    await waitFor(() => expect(screen.getAllByTestId('aws-release')).toHaveLength(3));
    const row = (revision: number) => screen.getAllByTestId('aws-release').find((r) => r.dataset.revision === String(revision))!;
    return { board, row };
  }

  it('lists each revision with its version, digest, size and last deploy, and says why one cannot be rolled back to', async () => {
    releaseWorld();
    const { row } = await showCard();
    expect(row(3).querySelector('[data-testid=aws-release-running]')?.textContent).toBe('running');
    expect(row(3).querySelector('[data-testid=aws-rollback]'), 'the running revision has nothing to roll back to').toBeNull();
    const words = (el: HTMLElement) => el.textContent?.replace(/\s+/g, ' ');
    expect(words(row(2))).toMatch(/20261120-091500 revision 2/);
    expect(words(row(2))).toMatch(/sha256:2f7e0c1d9b8a · pushed yesterday · 0\.25 vCPU · 0\.5 GB/);
    const blocked = row(1).querySelector<HTMLButtonElement>('[data-testid=aws-rollback]')!;
    expect(blocked.disabled).toBe(true);
    const problems = document.getElementById(blocked.getAttribute('aria-describedby')!)!;
    expect(problems.textContent, 'the reason is tied to the button').toMatch(/is no longer in the repository hello-site/);
    expect(screen.getByTestId('aws-releases-lifecycle').textContent).toMatch(/keeps only the newest 2 images/);
  });

  it('asks before rolling back, with the cost of the minute both tasks run', async () => {
    releaseWorld();
    const { row } = await showCard();
    await fireEvent.click(row(2).querySelector('[data-testid=aws-rollback]')!);
    expect(screen.getByTestId('aws-rollback-question').textContent).toMatch(/you pay for two tasks \(~\$0\.0173\/h each\)/);
    expect(document.activeElement, 'Enter confirms').toBe(screen.getByTestId('aws-rollback-confirm'));
    expect((screen.getByTestId('aws-rollback-retag') as HTMLInputElement).checked).toBe(false);
    await fireEvent.click(screen.getByTestId('aws-rollback-cancel'));
    expect(screen.queryByTestId('aws-rollback-question')).toBeNull();
  });

  it('says a refused rollback changed nothing', async () => {
    releaseWorld({ refuse: true });
    await showCard();
    await fireEvent.click(screen.getByTestId('aws-rollback-previous'));
    await fireEvent.click(screen.getByTestId('aws-rollback-confirm'));
    const refused = await screen.findByTestId('aws-rollback-refused');
    expect(refused.textContent).toMatch(/Cannot roll back to revision 2: Its image sha256:2f7e.* is no longer in the repository/);
    expect(refused.textContent).toMatch(/Nothing was changed/);
    expect(screen.queryAllByTestId('deploy-step')).toHaveLength(0);
  });
});

describe('NextDeployChanges', () => {
  it('keeps the newest answer and says why it could not compare', async () => {
    let fail = false;
    mockIPC((cmd) => {
      if (cmd !== 'task_definition_changes') return null;
      if (fail) return Promise.reject({ code: 'AccessDenied', message: 'Not allowed: ecs:DescribeTaskDefinition.' });
      return { family: 'hello-site', revision: 3, changes: ['port: 8080 → 9090'] };
    });
    const changes = new NextDeployChanges('/p');
    await changes.refresh();
    expect(changes.pending?.changes).toEqual(['port: 8080 → 9090']);
    fail = true;
    await changes.refresh();
    expect([changes.failure?.code, changes.pending?.revision]).toEqual(['AccessDenied', 3]);
  });

  it('reads once per saved settings: showing the card again asks nothing, a save or a failure asks again', async () => {
    let asked = 0;
    let fail = false;
    mockIPC((cmd) => {
      if (cmd !== 'task_definition_changes') return null;
      asked += 1;
      if (fail) return Promise.reject({ code: 'AwsThrottled', message: 'AWS kept throttling.' });
      return { family: 'hello-site', revision: 3, changes: [] };
    });
    const changes = new NextDeployChanges('/p');
    await changes.ensure('a');
    await changes.ensure('a');
    expect(asked).toBe(1);
    fail = true;
    await changes.ensure('b');
    expect(asked).toBe(2);
    fail = false;
    await changes.ensure('b');
    expect([asked, changes.failure]).toEqual([3, null]);
  });
});
