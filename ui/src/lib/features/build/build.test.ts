import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, render, screen } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { applyBuildEvent, BuildRun, layerPercent, newProgress, OUTPUT_CAP, resultText, sentText } from './build.svelte';
import BuildCard from './BuildCard.svelte';
import type { BuildEvent, BuildOutcome, LocalRelease } from '../../ipc';
import fixtures from '../../../../../tests/fixtures/project.json';

afterEach(() => {
  cleanup();
  clearMocks();
});

// The same stream the Chromium flows use (tests/ui), typed by the bindings.
const events = fixtures.build.events as BuildEvent[];
const failing = fixtures.failingBuild.events as BuildEvent[];
const { ageSeconds: _age, ...releaseFields } = fixtures.build.release;
const release: LocalRelease = { ...releaseFields, createdAt: 1_763_735_405 };
const outcome: BuildOutcome = { release, upToDate: false, elapsedMs: 4200 };

describe('applyBuildEvent', () => {
  it('turns the stream into step N of M, layer progress and output', () => {
    const progress = newProgress();
    for (const event of events.slice(0, 6)) applyBuildEvent(progress, event);
    expect([progress.step, progress.total, progress.instruction]).toEqual([2, 4, 'COPY site/ /www/']);
    expect(progress.context).toEqual({ files: 4, bytes: 10240, skipped: [] });
    expect(progress.layers).toEqual([{ id: 'a1b2c3d4e5f6', status: 'Downloading', current: 860000, total: 2150000 }]);
    expect(layerPercent(progress.layers[0])).toBe(40);
    expect(progress.output.map((l) => l.line)).toEqual(['Step 1/4 : FROM busybox:1.36', ' ---> 3f57d9401f8d', 'Step 2/4 : COPY site/ /www/']);

    for (const event of events.slice(6)) applyBuildEvent(progress, event);
    expect(progress.layers).toHaveLength(1);
    expect(progress.layers[0].status).toBe('Pull complete');
    expect(progress.tags).toEqual(['hello-site:20261121-143005', 'hello-site:latest']);
  });

  it('reads a BuildKit build: stages, cached and timed steps, and the builder', () => {
    const progress = newProgress();
    const stream: BuildEvent[] = [
      { type: 'BuilderChosen', data: { builder: 'BuildKit', note: null } },
      { type: 'StepStarted', data: { step: 1, total: 3, instruction: 'FROM docker.io/library/python:3.12-slim', stage: 'build', elapsedMs: 200 } },
      { type: 'StepFinished', data: { step: 1, total: 3, instruction: 'FROM docker.io/library/python:3.12-slim', stage: 'build', cached: true, stepMs: 0 } },
      { type: 'StepStarted', data: { step: 2, total: 3, instruction: 'RUN --mount=type=cache,target=/root/.cache pip install -r requirements.txt', stage: 'build', elapsedMs: 300 } },
      { type: 'StepFinished', data: { step: 2, total: 3, instruction: 'RUN pip install', stage: 'build', cached: false, stepMs: 3200 } },
    ];
    for (const event of stream) applyBuildEvent(progress, event);
    expect(progress.builder).toEqual({ name: 'BuildKit', note: null });
    expect([progress.finished, progress.cached]).toEqual([2, 1]);
    expect(progress.output.map((l) => l.line)).toEqual([
      'build Step 1/3 : FROM docker.io/library/python:3.12-slim',
      'build Step 1/3 cached',
      'build Step 2/3 : RUN --mount=type=cache,target=/root/.cache pip install -r requirements.txt',
      'build Step 2/3 done in 3.2 s',
    ]);
  });

  it('shows why a build falls back to the legacy builder, and the files it did not send', () => {
    const run = new BuildRun('/p', () => {});
    applyBuildEvent(run.progress, {
      type: 'BuilderChosen',
      data: { builder: 'Legacy', note: 'Docker 17.06 has no BuildKit; building with the legacy builder.' },
    });
    applyBuildEvent(run.progress, { type: 'ContextPacked', data: { files: 3, bytes: 100, fingerprint: 'f', skipped: ['queue (a named pipe (FIFO))'] } });
    render(BuildCard, { run, blocker: null, onEnvironment: () => {} });
    expect(screen.getByTestId('build-builder-note').textContent).toContain('no BuildKit');
    expect(screen.getByTestId('build-skipped').textContent).toContain('queue (a named pipe (FIFO))');
  });

  it('keeps apart the lines of the step that is running, which a failure shows', () => {
    const progress = newProgress();
    for (const event of failing) applyBuildEvent(progress, event);
    expect(progress.stepOutput).toEqual([' ---> Running in 9f8e7d6c', '/bin/sh: ./generate-pages.sh: not found']);
  });

  it('keeps the newest lines when the output grows past its cap, with keys that stay unique', () => {
    const progress = newProgress();
    for (let i = 0; i < OUTPUT_CAP + 10; i += 1) applyBuildEvent(progress, { type: 'OutputLogged', data: { line: `line ${i}` } });
    expect(progress.output).toHaveLength(OUTPUT_CAP);
    expect(progress.output[0]).toEqual({ n: 10, line: 'line 10' });
  });

  it('says what an unchanged project built, and when a layer size is unknown', () => {
    expect(resultText(outcome)).toBe('Release 20261121-143005 built in 4.2 s');
    expect(resultText({ ...outcome, upToDate: true })).toBe('Release 20261121-143005 is up to date — nothing changed');
    expect(layerPercent({ id: 'x', status: 'Waiting', current: null, total: null })).toBeNull();
  });

  it('says what reached Docker: only what it lacked, nothing, or the whole folder', () => {
    expect(sentText({ files: 1, bytes: 412, changedOnly: true })).toBe(
      'Sent 1 file (412 B) to Docker: only what it did not have from an earlier build.',
    );
    expect(sentText({ files: 0, bytes: 0, changedOnly: true })).toBe(
      'Sent no files: Docker had everything it needed from an earlier build.',
    );
    expect(sentText({ files: 230, bytes: 12_400_000, changedOnly: false })).toBe(
      'Sent the whole folder to Docker: 230 files (12 MB).',
    );
  });
});

describe('BuildRun', () => {
  it('shows events as they stream, then the outcome, and tells the releases', async () => {
    let built = 0;
    let seenStep = 0;
    const run = new BuildRun('/p', () => (built += 1));
    mockIPC((cmd, args) => {
      if (cmd !== 'build_project') return null;
      const channel = (args as { onEvent: { onmessage: (e: unknown) => void } }).onEvent;
      for (const event of events) channel.onmessage(event);
      seenStep = run.progress.step;
      return outcome;
    });
    await run.start();
    expect(seenStep).toBe(4);
    expect(run.phase).toBe('done');
    expect(built).toBe(1);
    render(BuildCard, { run, blocker: null, onEnvironment: () => {} });
    expect(screen.getByTestId('build-sent').textContent).toBe(
      'Sent 1 file (412 B) to Docker: only what it did not have from an earlier build.',
    );
  });

  it('gives a second caller the running build instead of failing it', async () => {
    let builds = 0;
    const run = new BuildRun('/p', () => {});
    mockIPC((cmd) => {
      if (cmd !== 'build_project') return null;
      builds += 1;
      return new Promise((resolve) => setTimeout(() => resolve(outcome), 20));
    });
    const [first, second] = await Promise.all([run.start(), run.start()]);
    expect(builds).toBe(1);
    expect(first?.release.version).toBe(release.version);
    expect(second).toBe(first);
  });

  it('reports a failure with its message and a cancel as cancelled', async () => {
    const run = new BuildRun('/p', () => {});
    mockIPC((cmd, args) => {
      if (cmd !== 'build_project') return null;
      const channel = (args as { onEvent: { onmessage: (e: unknown) => void } }).onEvent;
      for (const event of failing) channel.onmessage(event);
      return Promise.reject(fixtures.failingBuild.error);
    });
    await run.start();
    expect(run.phase).toBe('failed');
    expect(run.failure).toEqual(fixtures.failingBuild.error);
    expect(run.progress.stepOutput.at(-1)).toContain('not found');

    mockIPC(() => Promise.reject({ code: 'Cancelled', message: 'Cancelled.' }));
    await run.start();
    expect(run.phase).toBe('cancelled');
  });
});

describe('BuildCard', () => {
  it('says why Build is unavailable', () => {
    render(BuildCard, { run: new BuildRun('/p', () => {}), blocker: 'Save your changes first.', onEnvironment: () => {} });
    expect(screen.getByTestId('build-blocker').textContent).toBe('Save your changes first.');
    expect((screen.getByTestId('build') as HTMLButtonElement).disabled).toBe(true);
  });
});
