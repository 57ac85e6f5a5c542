import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { AccountStore, account } from './aws.svelte';
import { AwsAccess, awsBlocker, connectHint, profileChoices, profileRegion } from './access.svelte';
import AccountBanner from './AccountBanner.svelte';
import AccessKeyForm from './AccessKeyForm.svelte';
import AwsConnectCard from './AwsConnectCard.svelte';
import { ProjectSession } from '../project/project.svelte';
import type { AwsProfiles, AwsSettings, CallerIdentity, NewAccessKeyProfile, Project, ProjectConfig, TaskSizeOption } from '../../ipc';
import environment from '../../../../../tests/fixtures/environment.json';
import fixtures from '../../../../../tests/fixtures/project.json';
import cloud from '../../../../../tests/fixtures/aws.json';

afterEach(() => {
  cleanup();
  clearMocks();
  account.follow(null, null);
});

// The same answers the Chromium flows use (tests/ui), typed by the bindings.
const identity = cloud.identity as CallerIdentity;
const profiles = environment.aws as AwsProfiles;
const sample = fixtures.sample as Project;
const settings = (aws: Partial<AwsSettings> = {}): AwsSettings => ({ ...sample.config.aws, ...aws });
const tick = () => new Promise((r) => setTimeout(r, 0));

describe('AccountStore', () => {
  it('connects a project again on opening only as the engine says, and one project\'s attempt never holds up another', async () => {
    let answer: (value: CallerIdentity | null) => void = () => {};
    mockIPC((cmd) => {
      if (cmd === 'project_connects_again') return true;
      if (cmd === 'reconnect_project_aws') return new Promise((resolve) => (answer = resolve));
      if (cmd === 'connect_project_aws') return identity;
      return null;
    });
    const store = new AccountStore();
    store.follow('/a', settings());
    const first = store.reconnect('/a', settings());
    await tick();
    expect([store.reconnecting, store.connecting]).toEqual([true, true]);

    // Another project opened meanwhile: not "connecting", and its own Connect works.
    store.follow('/b', settings());
    expect([store.reconnecting, store.connecting]).toEqual([false, false]);
    await store.connect('/b', settings());
    expect(store.identity?.account).toBe('123456789012');

    answer({ ...identity, account: '999999999999' });
    await first;
    expect(store.identity?.account, "/a answering late leaves /b's connection as it is").toBe('123456789012');
  });

  it('never says it connects again for a project that never connected: it reads that first', async () => {
    let answer: (value: boolean) => void = () => {};
    const asked: string[] = [];
    mockIPC((cmd) => {
      asked.push(cmd);
      if (cmd === 'project_connects_again') return new Promise((resolve) => (answer = resolve));
      return null;
    });
    const store = new AccountStore();
    store.follow('/a', settings());
    const opening = store.reconnect('/a', settings());
    await tick();
    expect([store.checking, store.reconnecting]).toEqual([true, false]);
    answer(false);
    await opening;
    expect([store.checking, store.reconnecting, store.identity]).toEqual([false, false, null]);
    expect(asked, 'AWS is not asked').toEqual(['project_connects_again']);
  });

  it('says why connecting again failed, for that project only, until a Connect succeeds', async () => {
    let fail = true;
    mockIPC((cmd) => {
      if (cmd === 'project_connects_again') return true;
      if (cmd === 'reconnect_project_aws') throw { code: 'SsoExpired', message: 'The SSO session expired.' };
      if (cmd === 'connect_project_aws') {
        if (fail) throw { code: 'SsoExpired', message: 'The SSO session expired.' };
        return identity;
      }
      return null;
    });
    const store = new AccountStore();
    store.follow('/a', settings());
    await store.reconnect('/a', settings());
    expect(store.reconnectFailure?.message).toBe('The SSO session expired.');
    store.follow('/b', settings());
    expect(store.reconnectFailure).toBeNull();
    store.follow('/a', settings());
    await expect(store.connect('/a', settings())).rejects.toBeTruthy();
    fail = false;
    await store.connect('/a', settings());
    expect(store.reconnectFailure).toBeNull();
  });

  it('shows an identity only for the project folder, profile and region it was found for', async () => {
    mockIPC((cmd) => (cmd === 'connect_project_aws' ? identity : null));
    const store = new AccountStore();
    store.follow('/a', settings());
    await store.connect('/a', settings());
    expect(store.identity?.account).toBe('123456789012');

    store.follow('/a', settings({ allowFrom: '203.0.113.7/32' }));
    expect(store.identity, 'options that do not change who we are keep it').not.toBeNull();
    store.follow('/a', settings({ region: 'eu-west-1' }));
    expect(store.identity, 'another region is another connection').toBeNull();
    store.follow('/a', settings());
    expect(store.identity, 'and the old one is forgotten, not revived').toBeNull();

    await store.connect('/a', settings());
    store.follow('/b', settings());
    expect(store.identity, 'another project').toBeNull();
    await store.connect('/b', settings());
    store.follow(null, null);
    expect(store.identity, 'no project open').toBeNull();
  });

  it('connects once for ensure, again when asked, and forgets when the endpoint changes', async () => {
    let asked = 0;
    mockIPC((cmd) => {
      if (cmd === 'connect_project_aws') asked += 1;
      return identity;
    });
    const store = new AccountStore();
    store.follow('/a', settings());
    await store.ensure('/a', settings());
    await store.ensure('/a', settings());
    expect(asked).toBe(1);
    store.forget();
    expect(store.identity).toBeNull();
    await store.ensure('/a', settings());
    expect(asked).toBe(2);
  });

  it('drops the identity when connecting again fails', async () => {
    const store = new AccountStore();
    store.follow('/a', settings());
    mockIPC(() => identity);
    await store.connect('/a', settings());
    mockIPC(() => Promise.reject({ code: 'CredentialsRejected', message: 'AWS rejected the credentials.' }));
    await expect(store.connect('/a', settings())).rejects.toMatchObject({ code: 'CredentialsRejected' });
    expect(store.identity).toBeNull();
    expect(store.connecting).toBe(false);
  });
});

describe('profile choices', () => {
  it('offers the default, each profile with kind and region, and a saved profile that is gone', () => {
    expect(profileChoices(profiles, null).map((c) => c.label)).toEqual([
      'Default (profile “default”)',
      'default — Access keys, us-west-2',
      'work — SSO, eu-west-1',
    ]);
    expect(profileChoices(profiles, 'old').at(-1)).toEqual({ value: 'old', label: 'old — not found on this computer' });
    expect(profileChoices(null, null)).toHaveLength(1);
  });

  it('knows the region a profile brings, for the placeholder', () => {
    expect(profileRegion(profiles, 'work')).toBe('eu-west-1');
    expect(profileRegion(profiles, null)).toBe('us-west-2');
    expect(profileRegion({ ...profiles, environment: { accessKeyId: 'AKIA…7890', hasSessionToken: false }, environmentRegion: 'ap-south-1' }, null)).toBe('ap-south-1');
  });

  it('points at adding a key when there are no credentials, and at signing in again when an SSO session ended', () => {
    expect(connectHint('NoCredentials')).toMatch(/Add an access key/);
    expect(connectHint('ProfileNotFound')).toMatch(/Add an access key/);
    expect(connectHint('SsoSessionExpired')).toMatch(/Sign in again/);
    expect(connectHint('ConsoleSignInMissing')).toMatch(/Sign in with AWS SSO/);
  });
});

describe('AccountBanner', () => {
  it('names the account, region and source on one line, an emulator when one is used, and the ARN behind Show details', async () => {
    mockIPC(() => ({ ...identity, endpointUrl: 'http://127.0.0.1:5055' }));
    account.follow('/a', settings());
    render(AccountBanner);
    expect(screen.queryByTestId('account-banner')).toBeNull();
    await account.connect('/a', settings());
    await tick();
    const banner = screen.getByTestId('account-banner').textContent ?? '';
    expect(banner).toContain('123456789012');
    expect(banner).toContain('us-west-2');
    expect(banner).not.toContain('arn:aws:iam::123456789012:user/ana');
    expect(banner).toContain('profile "default"');
    expect(screen.getByTestId('emulator-badge').textContent).toBe('Emulator');
    expect(banner).toContain('http://127.0.0.1:5055');
    screen.getByRole('button', { name: 'Show details' }).click();
    await tick();
    expect(screen.getByTestId('account-banner').textContent).toContain('arn:aws:iam::123456789012:user/ana');
  });
});

async function openedSession(handler: (cmd: string, args: unknown) => unknown = () => null): Promise<ProjectSession> {
  mockIPC((cmd, args) => {
    if (cmd === 'open_sample') return sample;
    if (cmd === 'task_sizes') return fixtures.taskSizes as TaskSizeOption[];
    if (cmd === 'check_project') return fixtures.preflight;
    if (cmd === 'validate_project') return [];
    if (cmd === 'aws_profiles') return profiles;
    return handler(cmd, args);
  });
  const session = new ProjectSession();
  await session.openSample();
  return session;
}

describe('AccessKeyForm', () => {
  const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

  async function fill(name: string) {
    await fireEvent.input(screen.getByTestId('key-name'), { target: { value: name } });
    await fireEvent.input(screen.getByTestId('key-id'), { target: { value: 'AKIAIOSFODNN7EXAMPLE' } });
    await fireEvent.input(screen.getByTestId('key-secret'), { target: { value: secret } });
  }

  it('sends the key once, clears the secret whatever the answer, and picks the new profile', async () => {
    const sent: NewAccessKeyProfile[] = [];
    const session = await openedSession((cmd, args) => {
      if (cmd !== 'add_access_key_profile') return null;
      const request = (args as { request: NewAccessKeyProfile }).request;
      sent.push(request);
      if (request.name === 'default') {
        return Promise.reject({ code: 'ProfileExists', message: 'A profile named "default" already exists in ~/.aws/credentials.' });
      }
      return { name: request.name, kind: 'AccessKeys', region: null, definedIn: [], ssoSession: null, endpointUrl: null };
    });
    const access = new AwsAccess(session);
    access.openKeyForm();
    render(AccessKeyForm, { access });
    const secretInput = screen.getByTestId('key-secret') as HTMLInputElement;
    expect(secretInput.type).toBe('password');
    expect(secretInput.autocomplete).toBe('off');

    await fill('default');
    await fireEvent.submit(screen.getByTestId('access-key-form'));
    await tick();
    expect(screen.getByTestId('problem-key-name').textContent).toContain('already exists');
    expect(secretInput.value).toBe('');

    await fill('demo');
    await fireEvent.submit(screen.getByTestId('access-key-form'));
    await tick();
    expect(sent.map((r) => [r.name, r.secretAccessKey, r.region])).toEqual([
      ['default', secret, null],
      ['demo', secret, null],
    ]);
    expect(session.draft!.aws.profile).toBe('demo');
    expect(access.adding).toBe(false);
    expect(document.body.innerHTML).not.toContain(secret);
    expect(secretInput.value).toBe('');
  });
});

describe('AwsConnectCard', () => {
  it('saves a changed profile and region to slipway.toml, then connects with them', async () => {
    const saved: ProjectConfig[] = [];
    const order: string[] = [];
    const session = await openedSession((cmd, args) => {
      order.push(cmd);
      if (cmd === 'save_project') {
        const config = (args as { config: ProjectConfig }).config;
        saved.push(config);
        return { ...sample, config };
      }
      if (cmd === 'connect_project_aws') return { ...identity, region: 'eu-west-1', source: 'profile "work"' };
      return null;
    });
    account.follow(sample.dir, sample.config.aws);
    session.draft!.port = 9090;
    render(AwsConnectCard, { session, access: new AwsAccess(session), onEnvironment: () => {} });
    await tick();
    await fireEvent.change(screen.getByTestId('aws-profile-select'), { target: { value: 'work' } });
    await fireEvent.input(screen.getByTestId('aws-region'), { target: { value: 'eu-west-1' } });
    await fireEvent.click(screen.getByTestId('aws-connect'));
    await tick();
    await tick();
    expect(order).toEqual(['save_project', 'connect_project_aws']);
    expect(saved[0].aws).toEqual({ ...sample.config.aws, profile: 'work', region: 'eu-west-1' });
    expect(saved[0].port, 'an unrelated edit is not saved with them').toBe(8080);
    expect(session.dirty, 'the port edit is still there, unsaved').toBe(true);
    account.follow(sample.dir, session.project!.config.aws);
    expect(account.identity?.region).toBe('eu-west-1');
    await tick();
    expect(screen.getByTestId('aws-connected').textContent).toContain('eu-west-1');
  });

  it('says what to do when there are no credentials', async () => {
    const session = await openedSession((cmd) =>
      cmd === 'connect_project_aws'
        ? Promise.reject({ code: 'NoCredentials', message: 'No AWS credentials were found.' })
        : null,
    );
    render(AwsConnectCard, { session, access: new AwsAccess(session), onEnvironment: () => {} });
    await fireEvent.click(screen.getByTestId('aws-connect'));
    await tick();
    expect(screen.getByRole('alert').textContent).toContain('No AWS credentials were found.');
    expect(screen.getByTestId('aws-connect-hint').textContent).toContain('Add an access key');
  });

  it('asks for the settings to be saved first when they never were', async () => {
    const session = await openedSession();
    session.project = { ...session.project!, saved: false };
    expect(awsBlocker(session)).toMatch(/Save the settings first/);
    render(AwsConnectCard, { session, access: new AwsAccess(session), onEnvironment: () => {} });
    expect((screen.getByTestId('aws-connect') as HTMLButtonElement).disabled).toBe(true);
  });
});
