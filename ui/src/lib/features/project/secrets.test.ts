import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { ProjectSession } from './project.svelte';
import SecretsOnAws from './SecretsOnAws.svelte';
import { awsSecretName } from './secrets.svelte';
import { account } from '../aws/aws.svelte';
import type { CallerIdentity, NewSecret, Project, SecretSummary, TaskSizeOption } from '../../ipc';
import fixtures from '../../../../../tests/fixtures/project.json';
import cloud from '../../../../../tests/fixtures/aws.json';

afterEach(() => {
  cleanup();
  clearMocks();
  account.follow(null, null);
});

const sample = fixtures.sample as Project;
const identity = cloud.identity as CallerIdentity;
const tick = () => new Promise((r) => setTimeout(r, 0));
const arn = 'arn:aws:ssm:us-west-2:123456789012:parameter/hello-site/database-url';

async function connectedSession(handler: (cmd: string, args: Record<string, unknown>) => unknown): Promise<ProjectSession> {
  mockIPC((cmd, args) => {
    if (cmd === 'open_sample') return sample;
    if (cmd === 'task_sizes') return fixtures.taskSizes as TaskSizeOption[];
    if (cmd === 'check_project') return fixtures.preflight;
    if (cmd === 'validate_project') return [];
    if (cmd === 'connect_project_aws') return identity;
    return handler(cmd, args as Record<string, unknown>);
  });
  const session = new ProjectSession();
  await session.openSample();
  account.follow(sample.dir, sample.config.aws);
  await account.connect(sample.dir, sample.config.aws);
  return session;
}

describe('awsSecretName', () => {
  it('names the secret after the app and the variable, as a path in Parameter Store', () => {
    expect(awsSecretName('hello-site', 'DATABASE_URL', 'secretsManager')).toBe('hello-site/database-url');
    expect(awsSecretName('hello-site', 'DATABASE_URL', 'parameterStore')).toBe('/hello-site/database-url');
    expect(awsSecretName('hello-site', '  ', 'secretsManager')).toBe('hello-site/secret');
  });
});

describe('SecretsOnAws', () => {
  it('creates a secret with the value sent once, then names it by ARN in the Secrets table', async () => {
    const sent: NewSecret[] = [];
    const session = await connectedSession((cmd, args) => {
      if (cmd === 'create_app_secret') {
        sent.push(args.request as NewSecret);
        return { name: '/hello-site/database-url', arn, store: 'parameterStore', description: null } satisfies SecretSummary;
      }
      return null;
    });
    render(SecretsOnAws, { session });
    await tick();
    await fireEvent.click(screen.getByTestId('secret-create-open'));
    expect(screen.getByTestId('secret-store').textContent).toContain('Secrets Manager ($0.40 a month)');
    await fireEvent.input(screen.getByTestId('secret-variable'), { target: { value: 'DATABASE_URL' } });
    await tick();
    expect((screen.getByTestId('secret-aws-name') as HTMLInputElement).value).toBe('/hello-site/database-url');
    await fireEvent.input(screen.getByTestId('secret-value'), { target: { value: 'postgres://x:pw@db/app' } });
    await fireEvent.click(screen.getByTestId('secret-create'));
    await tick();
    await tick();
    expect(sent).toEqual([{ name: '/hello-site/database-url', store: 'parameterStore', value: 'postgres://x:pw@db/app', description: 'DATABASE_URL of hello-site' }]);
    expect(session.draft!.secrets).toContainEqual({ name: 'DATABASE_URL', value: arn });
    expect(screen.getByTestId('secret-added').textContent).toContain('Save the settings');
    await fireEvent.click(screen.getByTestId('secret-create-open'));
    expect((screen.getByTestId('secret-value') as HTMLTextAreaElement).value, 'cleared once sent').toBe('');
    expect(JSON.stringify(session.draft)).not.toContain('pw@db');
  });

  it('says why AWS refused and keeps the typed value to try again; Cancel clears it', async () => {
    const session = await connectedSession((cmd) =>
      cmd === 'create_app_secret'
        ? Promise.reject({ code: 'InvalidInput', message: 'The secret "x" is not valid: Parameter Store already has one by that name; update it, or choose another name' })
        : null,
    );
    render(SecretsOnAws, { session });
    await tick();
    await fireEvent.click(screen.getByTestId('secret-create-open'));
    await fireEvent.input(screen.getByTestId('secret-variable'), { target: { value: 'API_TOKEN' } });
    await fireEvent.input(screen.getByTestId('secret-value'), { target: { value: 'tok' } });
    await fireEvent.click(screen.getByTestId('secret-create'));
    await tick();
    await tick();
    expect(screen.getByRole('alert').textContent).toContain('already has one by that name');
    expect((screen.getByTestId('secret-value') as HTMLTextAreaElement).value).toBe('tok');
    expect(session.draft!.secrets.some((r) => r.name === 'API_TOKEN')).toBe(false);
    await fireEvent.click(screen.getByTestId('secret-cancel'));
    await fireEvent.click(screen.getByTestId('secret-create-open'));
    expect((screen.getByTestId('secret-value') as HTMLTextAreaElement).value).toBe('');
  });

  it('picks an existing secret for a variable', async () => {
    const session = await connectedSession((cmd) =>
      cmd === 'app_secrets' ? [{ name: 'shared/stripe', arn: 'arn:aws:secretsmanager:us-west-2:123456789012:secret:shared/stripe-AbCdEf', store: 'secretsManager', description: null }] : null,
    );
    render(SecretsOnAws, { session });
    await tick();
    await fireEvent.click(screen.getByTestId('secret-pick-open'));
    await tick();
    await tick();
    await fireEvent.change(screen.getByTestId('secret-pick'), { target: { value: 'arn:aws:secretsmanager:us-west-2:123456789012:secret:shared/stripe-AbCdEf' } });
    await fireEvent.input(screen.getByTestId('secret-pick-variable'), { target: { value: 'STRIPE_KEY' } });
    await fireEvent.click(screen.getByTestId('secret-use'));
    expect(session.draft!.secrets).toContainEqual({ name: 'STRIPE_KEY', value: 'arn:aws:secretsmanager:us-west-2:123456789012:secret:shared/stripe-AbCdEf' });
  });

  it('imports a .env file: every variable created is added, and a stop says what was made', async () => {
    const asked: unknown[] = [];
    const session = await connectedSession((cmd, args) => {
      if (cmd === 'plugin:dialog|open') return '/home/ana/app/.env';
      if (cmd === 'import_app_secrets') {
        asked.push(args);
        return {
          imported: [{ variable: 'DATABASE_URL', secret: { name: '/hello-site/database-url', arn, store: 'parameterStore', description: null } }],
          stopped: 'API_TOKEN: The name is not valid: …',
        };
      }
      return null;
    });
    render(SecretsOnAws, { session });
    await tick();
    await fireEvent.click(screen.getByTestId('secret-import-open'));
    await tick();
    await tick();
    expect(screen.getByTestId('secret-import-form').textContent).toContain('/home/ana/app/.env');
    await fireEvent.click(screen.getByTestId('secret-import'));
    await tick();
    await tick();
    expect(asked).toEqual([{ dir: sample.dir, file: '/home/ana/app/.env', store: 'parameterStore' }]);
    expect(session.draft!.secrets).toContainEqual({ name: 'DATABASE_URL', value: arn });
    const alert = screen.getByRole('alert').textContent ?? '';
    expect(alert).toContain('stopped at API_TOKEN');
    expect(alert).toContain('created and added: DATABASE_URL');
  });
});
