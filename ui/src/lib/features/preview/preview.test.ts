import { afterEach, describe, expect, it } from 'vitest';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { applyPreviewEvent, describeHealth, LOG_CAP, newWatch, PreviewSession } from './preview.svelte';
import { RunningPreviews } from './running.svelte';
import type { Preview, PreviewEvent, RunningPreview } from '../../ipc';
import fixtures from '../../../../../tests/fixtures/project.json';

afterEach(() => clearMocks());

// The same answers the Chromium flows use (tests/ui), typed by the bindings.
const events = fixtures.previewEvents as PreviewEvent[];
const preview = { ...fixtures.preview, version: '20261120-091500', imageId: 'sha256:4be1' } as Preview;
type Channel = { onmessage: (e: unknown) => void };

describe('applyPreviewEvent', () => {
  it('follows health and logs, with the lines the engine read as errors marked', () => {
    const watch = newWatch();
    for (const event of events) applyPreviewEvent(watch, event);
    expect(describeHealth(watch.health)).toEqual({ tone: 'ok', label: 'Healthy', detail: 'GET / answered 200 in 3 ms' });
    expect(watch.logs.map((l) => [l.stream, l.error])).toEqual([
      ['stdout', false],
      ['stderr', false],
      ['stdout', false],
      ['stderr', true],
    ]);
  });

  it('keeps only the newest lines, numbered on', () => {
    const watch = newWatch();
    for (let i = 0; i < LOG_CAP + 5; i += 1) applyPreviewEvent(watch, { type: 'LogLogged', data: { stream: 'stdout', line: `${i}`, error: false } });
    expect(watch.logs).toHaveLength(LOG_CAP);
    expect(watch.logs[0]).toEqual({ n: 5, stream: 'stdout', line: '5', error: false });
  });

  it('records the exit with its explanation', () => {
    const watch = newWatch();
    applyPreviewEvent(watch, { type: 'Exited', data: { exitCode: 137, oomKilled: true, message: 'ran out of its 512 MiB' } });
    expect(watch.exited?.message).toBe('ran out of its 512 MiB');
  });

  it('has words for every health state, and for none yet', () => {
    expect(describeHealth(null).label).toBe('Starting');
    expect(describeHealth({ state: 'notChecked' }).label).toBe('Not checked');
    expect(describeHealth({ state: 'unhealthy', detail: 'GET / answered 500' })).toMatchObject({ tone: 'bad', label: 'Unhealthy' });
  });
});

describe('PreviewSession', () => {
  it('picks up a running preview, follows it, and drops what an old watch still sends', async () => {
    const channels: Channel[] = [];
    const cancelled: string[] = [];
    mockIPC((cmd, args) => {
      const a = args as { onEvent: Channel; jobId: string };
      if (cmd === 'preview_status') return preview;
      if (cmd === 'watch_preview') {
        channels.push(a.onEvent);
        return new Promise(() => {});
      }
      if (cmd === 'cancel_job') {
        cancelled.push(a.jobId);
        return true;
      }
      return null;
    });
    const session = new PreviewSession('/p', 'hello-site', () => {}, async () => '20261121-143005');
    await session.load();
    expect(session.preview?.url).toBe('http://127.0.0.1:49123/');
    expect(channels).toHaveLength(1);

    session.show({ ...preview, version: '20261118-170210' });
    expect(channels).toHaveLength(2);
    expect(cancelled).toHaveLength(1);
    channels[0].onmessage({ type: 'LogLogged', data: { stream: 'stdout', line: 'from the old container', error: false } });
    channels[1].onmessage({ type: 'LogLogged', data: { stream: 'stdout', line: 'from the new one', error: false } });
    expect(session.watch.logs.map((l) => l.line)).toEqual(['from the new one']);
    session.dispose();
    expect(cancelled).toHaveLength(2);
  });

  it('stops the container, then the watch, and says when starting fails', async () => {
    const order: string[] = [];
    let asked: unknown = null;
    mockIPC((cmd, args) => {
      order.push(cmd);
      if (cmd === 'start_preview') {
        asked = (args as { version: string | null }).version;
        return preview;
      }
      if (cmd === 'watch_preview') return new Promise(() => {});
      if (cmd === 'stop_preview') return true;
      if (cmd === 'cancel_job') return true;
      return null;
    });
    let changes = 0;
    let builds = 0;
    const ensureBuilt = async () => {
      builds += 1;
      return '20261121-143005';
    };
    const session = new PreviewSession('/p', 'hello-site', () => (changes += 1), ensureBuilt);
    await session.start();
    expect(builds).toBe(1);
    expect(asked).toBe('20261121-143005');
    await session.stop();
    // The sidebar's list of running previews is read again after each start and stop.
    expect(order).toEqual(['start_preview', 'watch_preview', 'running_previews', 'stop_preview', 'cancel_job', 'running_previews']);
    expect(session.preview).toBeNull();
    expect(changes).toBe(2);

    mockIPC(() => Promise.reject({ code: 'NoReleases', message: 'hello-site has no local release yet. Build it first.' }));
    await session.start();
    expect(session.failure).toEqual({ code: 'NoReleases', message: 'hello-site has no local release yet. Build it first.' });
  });

  it('runs nothing when the folder could not be built', async () => {
    const order: string[] = [];
    mockIPC((cmd) => {
      order.push(cmd);
      return null;
    });
    const session = new PreviewSession('/p', 'hello-site', () => {}, async () => null);
    await session.start();
    expect(order).toEqual([]);
    expect(session.busy).toBeNull();
  });
});

describe('RunningPreviews', () => {
  const shop: RunningPreview = { app: 'shop', projectDir: '/home/ana/code/shop', version: '20261201-090000', url: 'http://127.0.0.1:49200/' };

  it('lists what runs, stops one and reads the list again, and lists nothing while Docker does not answer', async () => {
    let running = [shop];
    const stopped: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === 'running_previews') return running;
      if (cmd === 'stop_preview') {
        stopped.push(args);
        running = [];
        return true;
      }
      return null;
    });
    const previews = new RunningPreviews();
    await previews.refresh();
    expect(previews.list).toEqual([shop]);
    await previews.stop('shop');
    expect(stopped).toEqual([{ app: 'shop' }]);
    expect([previews.list, previews.stopping, previews.failure]).toEqual([[], null, null]);

    running = [shop];
    await previews.refresh();
    mockIPC(() => Promise.reject({ code: 'DockerUnavailable', message: 'Docker is not running.' }));
    await previews.refresh();
    expect(previews.list).toEqual([]);
  });

  it('says why a stop failed, and keeps the preview listed', async () => {
    mockIPC((cmd) => {
      if (cmd === 'running_previews') return [shop];
      if (cmd === 'stop_preview') return Promise.reject({ code: 'DockerError', message: 'Docker could not remove the container.' });
      return null;
    });
    const previews = new RunningPreviews();
    await previews.stop('shop');
    expect(previews.failure?.message).toBe('Docker could not remove the container.');
    expect(previews.list).toEqual([shop]);
  });
});
