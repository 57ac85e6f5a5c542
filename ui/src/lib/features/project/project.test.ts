import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { memoryAfterCpuChange, memoryChoices, placeProblems, sameConfig, commandLine, memoryLabel } from './fields';
import { ProjectSession, VALIDATE_DELAY_MS } from './project.svelte';
import SettingsForm from './SettingsForm.svelte';
import type { FieldProblem, Project, ProjectConfig, TaskSizeOption } from '../../ipc';
import fixtures from '../../../../../tests/fixtures/project.json';

afterEach(() => {
  cleanup();
  clearMocks();
  vi.useRealTimers();
});

// The same answers the Chromium flows use (tests/ui), typed by the bindings.
const sample = fixtures.sample as Project;
const sizes = fixtures.taskSizes as TaskSizeOption[];
const config = (): ProjectConfig => structuredClone(sample.config);
// What the form's effect hands over: the draft as plain data.
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value));

describe('placeProblems', () => {
  it('puts each problem by its field, its named row, or its numbered row', () => {
    const draft = config();
    draft.env = [
      { name: 'GREETING', value: 'hi' },
      { name: '', value: 'x' },
      { name: 'GREETING', value: 'again' },
    ];
    draft.secrets = [{ name: 'DB_PASSWORD', value: 'nope' }];
    const problems: FieldProblem[] = [
      { field: 'task.memory', message: 'memory' },
      { field: 'health.start_period', message: 'grace' },
      { field: 'env[2]', message: 'unnamed' },
      { field: 'env.GREETING', message: 'twice' },
      { field: 'secrets.DB_PASSWORD', message: 'arn' },
    ];
    const placed = placeProblems(problems, draft);
    expect(placed.fields['task.memory']).toEqual(['memory']);
    expect(placed.fields['health.start_period']).toEqual(['grace']);
    expect(placed.rows.env[1]).toEqual(['unnamed']);
    expect(placed.rows.env[0]).toEqual(['twice']);
    expect(placed.rows.env[2]).toEqual(['twice']);
    expect(placed.rows.secrets[0]).toEqual(['arn']);
    expect(placed.other).toEqual([]);
  });

  it('keeps a problem no field owns, so it is still shown', () => {
    const stray = { field: 'env.GONE', message: 'renamed since' };
    const unknown = { field: 'deploy.mode', message: 'new rule' };
    expect(placeProblems([stray, unknown], config()).other).toEqual([stray, unknown]);
  });
});

describe('task size', () => {
  it('keeps a memory that still fits the new CPU and otherwise takes the smallest that does', () => {
    expect(memoryAfterCpuChange(sizes, 512, 2048)).toBe(2048);
    expect(memoryAfterCpuChange(sizes, 4096, 512)).toBe(8192);
    expect(memoryAfterCpuChange(sizes, 256, 4096)).toBe(512);
    expect(memoryAfterCpuChange(sizes, 3, 512)).toBe(512);
  });

  it('offers the sizes that fit first, and always the current one', () => {
    const choices = memoryChoices(sizes, 256, 1536);
    expect(choices.fits).toEqual([512, 1024, 2048]);
    expect(choices.others).toContain(4096);
    expect(choices.others).toContain(1536);
    expect(choices.others).not.toContain(512);
    expect(memoryLabel(512)).toBe('0.5 GB');
    expect(memoryLabel(1536)).toBe('1.5 GB');
    expect(memoryLabel(1000)).toBe('1000 MiB');
  });
});

describe('settings helpers', () => {
  it('shows a command probe as the line after CMD-SHELL', () => {
    expect(commandLine({ kind: 'command', command: ['CMD-SHELL', 'wget -q -O- http://localhost:8080/ || exit 1'] })).toBe(
      'wget -q -O- http://localhost:8080/ || exit 1',
    );
    expect(commandLine({ kind: 'command', command: ['CMD', 'true'] })).toBe('true');
  });

  it('compares settings regardless of key order', () => {
    const a = config();
    const b = { ...config(), health: { ...a.health, probe: { path: '/', kind: 'http' as const } } };
    expect(sameConfig(a, b)).toBe(true);
    b.port = 9090;
    expect(sameConfig(a, b)).toBe(false);
  });
});

describe('ProjectSession', () => {
  it('validates once the typing pauses, and only the last edit counts', async () => {
    vi.useFakeTimers();
    const asked: ProjectConfig[] = [];
    mockIPC((cmd, args) => {
      if (cmd === 'validate_project') {
        const sent = (args as { config: ProjectConfig }).config;
        asked.push(sent);
        return sent.task.memory === 4096 ? [{ field: 'task.memory', message: 'not with 256' }] : [];
      }
      if (cmd === 'open_sample') return sample;
      if (cmd === 'task_sizes') return sizes;
      if (cmd === 'check_project') return fixtures.preflight;
      return null;
    });
    const session = new ProjectSession();
    await session.openSample();
    session.draft!.task.memory = 2048;
    session.edited(plain(session.draft!));
    session.draft!.task.memory = 4096;
    session.edited(plain(session.draft!));
    expect(session.validating).toBe(true);
    expect(session.canSave).toBe(false);
    await vi.advanceTimersByTimeAsync(VALIDATE_DELAY_MS + 10);
    expect(asked.map((c) => c.task.memory)).toEqual([4096]);
    expect(session.placed?.fields['task.memory']).toEqual(['not with 256']);
    expect(session.canSave).toBe(false);
  });

  it('keeps every edit when saving fails, and says why', async () => {
    mockIPC((cmd) => {
      if (cmd === 'open_sample') return sample;
      if (cmd === 'task_sizes') return sizes;
      if (cmd === 'check_project') return fixtures.preflight;
      if (cmd === 'save_project') return Promise.reject({ code: 'FileSystem', message: 'Could not write slipway.toml: read-only file system' });
      return null;
    });
    const session = new ProjectSession();
    await session.openSample();
    session.draft!.port = 9090;
    expect(session.dirty).toBe(true);
    expect(session.canSave).toBe(true);
    await session.save();
    expect(session.error?.message).toMatch(/read-only file system/);
    expect(session.draft!.port).toBe(9090);
    expect(session.dirty).toBe(true);
  });

  it('saves the AWS settings alone on top of the saved ones, leaving other edits unsaved', async () => {
    const written: ProjectConfig[] = [];
    mockIPC((cmd, args) => {
      if (cmd === 'open_sample') return sample;
      if (cmd === 'task_sizes') return sizes;
      if (cmd === 'check_project') return fixtures.preflight;
      if (cmd === 'save_project') {
        const sent = (args as { config: ProjectConfig }).config;
        written.push(sent);
        return { ...sample, config: sent };
      }
      return null;
    });
    const session = new ProjectSession();
    await session.openSample();
    await session.saveAws();
    expect(written, 'unchanged AWS settings are not written again').toEqual([]);

    session.draft!.port = 9090;
    session.draft!.aws.allowFrom = '203.0.113.7/32';
    const saved = await session.saveAws();
    expect(written).toHaveLength(1);
    expect(written[0].port).toBe(8080);
    expect(written[0].aws.allowFrom).toBe('203.0.113.7/32');
    expect(saved.config.aws.allowFrom).toBe('203.0.113.7/32');
    expect(session.project!.config.aws.allowFrom).toBe('203.0.113.7/32');
    expect(session.draft!.port, 'the port edit stays in the form').toBe(9090);
    expect(session.dirty).toBe(true);

    session.draft!.port = 8080;
    expect(session.dirty).toBe(false);
  });

  it('does not send a number field whose text is not a number', () => {
    const session = new ProjectSession();
    let port = 8080;
    session.setNumber('port', null, (n) => (port = n));
    expect(session.inputProblems.port).toBe('Enter a whole number.');
    expect(port).toBe(8080);
    session.setNumber('port', 3000, (n) => (port = n));
    expect(session.inputProblems.port).toBeUndefined();
    expect(port).toBe(3000);
  });
});

describe('SettingsForm', () => {
  it('shows a problem under its field and marks the input', async () => {
    mockIPC((cmd) => {
      if (cmd === 'open_sample') return { ...sample, problems: [{ field: 'port', message: 'The container port must be between 1 and 65535; 0 is not.' }] };
      if (cmd === 'task_sizes') return sizes;
      if (cmd === 'check_project') return fixtures.preflight;
      if (cmd === 'validate_project') return [];
      return null;
    });
    const session = new ProjectSession();
    await session.openSample();
    render(SettingsForm, { session });
    expect(screen.getByTestId('problem-port').textContent).toContain('between 1 and 65535');
    expect(screen.getByLabelText('Container port').getAttribute('aria-invalid')).toBe('true');

    await fireEvent.change(screen.getByTestId('field-cpu'), { target: { value: '4096' } });
    expect(session.draft!.task).toEqual({ cpu: 4096, memory: 8192 });
  });

  it('keeps text that is not a number in the field, says so, and sends the last number', async () => {
    mockIPC((cmd) => {
      if (cmd === 'open_sample') return sample;
      if (cmd === 'task_sizes') return sizes;
      if (cmd === 'check_project') return fixtures.preflight;
      if (cmd === 'validate_project') return [];
      return null;
    });
    const session = new ProjectSession();
    await session.openSample();
    render(SettingsForm, { session });
    const port = screen.getByLabelText('Container port') as HTMLInputElement;
    await fireEvent.input(port, { target: { value: '80a' } });
    expect(port.value).toBe('80a');
    expect(screen.getByTestId('problem-port').textContent).toBe('Enter a whole number.');
    expect(session.draft!.port).toBe(8080);
    expect(session.canSave).toBe(false);
    await fireEvent.input(port, { target: { value: '3000' } });
    expect(session.draft!.port).toBe(3000);
    expect(screen.queryByTestId('problem-port')).toBeNull();
  });
});
