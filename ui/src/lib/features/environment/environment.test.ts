import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import DockerCard from './DockerCard.svelte';
import AwsCard from './AwsCard.svelte';
import { EnvironmentCheck } from './environment.svelte';
import { EndpointSetting, endpointStatus } from './endpoint.svelte';
import EndpointCard from './EndpointCard.svelte';
import { account } from '../aws/aws.svelte';
import type { AppSettings, AwsProfiles, CallerIdentity, CheckRequest, DockerStatus, EnvironmentReport } from '../../ipc';
import fixtures from '../../../../../tests/fixtures/environment.json';

afterEach(() => {
  cleanup();
  clearMocks();
});

// The same answers the Chromium flows use (tests/ui), typed by the bindings.
const running = fixtures.dockerRunning as DockerStatus;
const profiles: AwsProfiles = {
  ...(fixtures.aws as AwsProfiles),
  problems: [{ path: '/home/ana/.aws/config', line: 7, problem: 'expected "key = value", found "oops"' }],
};

describe('DockerCard', () => {
  it('shows the engine version and where it was found', () => {
    render(DockerCard, { status: running });
    expect(screen.getByTestId('docker-version').textContent).toBe('27.3.1');
    expect(screen.getByText('Running')).toBeTruthy();
    expect(screen.getByText('(System socket)')).toBeTruthy();
  });

  it('says what to do when Docker is not running', () => {
    render(DockerCard, {
      status: {
        state: 'unavailable',
        endpoint: { uri: 'unix:///var/run/docker.sock', source: 'System' },
        reason: 'the connection was refused',
        advice: 'Start Docker Desktop, Colima (`colima start`), OrbStack or Rancher Desktop, then press Check again.',
      },
    });
    expect(screen.getByText('Not running')).toBeTruthy();
    expect(screen.getByTestId('docker-problem').textContent).toContain('the connection was refused');
    expect(screen.getByText(/colima start/)).toBeTruthy();
  });
});

describe('AwsCard', () => {
  const base = { source: { kind: 'default' as const }, checking: false, onSourceChange: () => {}, onCheck: () => {} };

  it('lists profiles with kind and region, and names the malformed line', () => {
    render(AwsCard, { ...base, aws: profiles, identity: { state: 'notChecked' } });
    expect(screen.getAllByTestId('aws-profile')).toHaveLength(2);
    expect(screen.getByText('SSO')).toBeTruthy();
    expect(screen.getByText('eu-west-1')).toBeTruthy();
    expect(screen.getByTestId('aws-file-problem').textContent).toContain('line 7');
  });

  it('shows the verified account and the endpoint override', () => {
    render(AwsCard, {
      ...base,
      aws: profiles,
      identity: {
        state: 'verified',
        identity: {
          account: '123456789012',
          arn: 'arn:aws:iam::123456789012:user/ana',
          userId: 'AIDA',
          source: 'profile "default"',
          region: 'us-west-2',
          endpointUrl: 'http://127.0.0.1:5055',
        },
      },
    });
    expect(screen.getByTestId('aws-account').textContent).toBe('123456789012');
    expect(screen.getByText('(override, not AWS)')).toBeTruthy();
  });

  it('picks a profile and asks for a check', async () => {
    const picked: unknown[] = [];
    let checks = 0;
    render(AwsCard, {
      ...base,
      aws: profiles,
      identity: { state: 'notChecked' },
      onSourceChange: (s: unknown) => picked.push(s),
      onCheck: () => (checks += 1),
    });
    await fireEvent.click(screen.getByLabelText('work'));
    await fireEvent.click(screen.getByTestId('aws-check'));
    expect(picked).toEqual([{ kind: 'profile', name: 'work' }]);
    expect(checks).toBe(1);
  });
});

describe('EnvironmentCheck', () => {
  it('applies streamed events before the job ends and reports a cancel in words', async () => {
    const report: EnvironmentReport = {
      app: fixtures.app as EnvironmentReport['app'],
      docker: running,
      aws: profiles,
      identity: { state: 'notChecked' },
    };
    let seen: DockerStatus | null = null;
    const check = new EnvironmentCheck();
    mockIPC((cmd, args) => {
      if (cmd !== 'check_environment') return null;
      const channel = (args as { onEvent: { onmessage: (e: unknown) => void } }).onEvent;
      channel.onmessage({ type: 'DockerProbed', data: running });
      seen = check.docker;
      return report;
    });
    await check.run(false);
    expect(seen).toEqual(running);
    expect(check.app?.version).toBe('0.1.0');

    mockIPC(() => Promise.reject({ code: 'Cancelled', message: 'Cancelled.' }));
    await check.run(true);
    expect(check.error).toBe('Check cancelled.');
  });
});

describe('the AWS endpoint override', () => {
  const tick = () => new Promise((r) => setTimeout(r, 0));

  it('says where AWS calls go, naming an emulator as one', () => {
    expect(endpointStatus('http://127.0.0.1:5055')).toBe('AWS calls go to http://127.0.0.1:5055 (an emulator), not AWS');
    expect(endpointStatus(null)).toBe('AWS calls go to AWS');
  });

  it('shows a refused address next to the field, and a saved one in the status, forgetting the connected account', async () => {
    let stored: AppSettings = { awsEndpointUrl: null };
    mockIPC((cmd, args) => {
      if (cmd === 'app_settings') return stored;
      if (cmd === 'connect_project_aws') return fixtures.verified.identity as CallerIdentity;
      if (cmd !== 'save_app_settings') return null;
      const url = (args as { settings: AppSettings }).settings.awsEndpointUrl;
      if (url && !url.startsWith('http')) {
        return Promise.reject({ code: 'InvalidInput', message: `The AWS endpoint override is not valid: "${url}" is not an http:// or https:// address` });
      }
      stored = { awsEndpointUrl: url };
      return stored;
    });
    const aws = { profile: null, region: null, vpc: null, allowFrom: null, logRetentionDays: null };
    account.follow('/p', aws);
    await account.connect('/p', aws);
    const setting = new EndpointSetting();
    await setting.load();
    render(EndpointCard, { setting });
    expect(screen.getByTestId('endpoint-status').textContent).toBe('AWS calls go to AWS');

    await fireEvent.input(screen.getByTestId('endpoint-input'), { target: { value: 'localhost:5055' } });
    await fireEvent.click(screen.getByTestId('save-endpoint'));
    await tick();
    expect(screen.getByTestId('problem-endpoint').textContent).toContain('not an http://');
    expect(account.identity, 'a refused address changes nothing').not.toBeNull();

    await fireEvent.input(screen.getByTestId('endpoint-input'), { target: { value: ' http://127.0.0.1:5055 ' } });
    await fireEvent.click(screen.getByTestId('save-endpoint'));
    await tick();
    expect(stored.awsEndpointUrl).toBe('http://127.0.0.1:5055');
    expect(screen.getByTestId('endpoint-status').textContent).toContain('emulator');
    expect(screen.queryByTestId('problem-endpoint')).toBeNull();
    expect(account.identity, 'identities are checked again against the new endpoint').toBeNull();
    account.follow(null, null);
  });

  it('sends the identity check to the saved endpoint too', async () => {
    const asked: CheckRequest[] = [];
    mockIPC((cmd, args) => {
      if (cmd !== 'check_environment') return null;
      asked.push((args as { request: CheckRequest }).request);
      return Promise.reject({ code: 'Cancelled', message: 'Cancelled.' });
    });
    await new EnvironmentCheck(() => 'http://127.0.0.1:5055').run(true);
    expect(asked[0].identity?.endpointUrl).toBe('http://127.0.0.1:5055');
  });
});
