import { afterEach, describe, expect, it } from 'vitest';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { releaseRows, ReleaseShelf, shortImageId } from './releases.svelte';
import type { LocalRelease, ReleaseList } from '../../ipc';
import { formatAgo, formatBytes } from '../../ui/format';
import fixtures from '../../../../../tests/fixtures/project.json';

afterEach(() => clearMocks());

// The same releases the Chromium flows use (tests/ui), typed by the bindings.
const releases: LocalRelease[] = [fixtures.build.release, ...fixtures.releases].map(({ ageSeconds: _age, ...r }) => ({ ...r, createdAt: 1_763_700_000 }));
const [newest, middle, oldest] = releases.map((r) => r.version);
const list = (running: string | null): ReleaseList => ({ app: 'hello-site', releases, running });

describe('releaseRows', () => {
  it('offers newer releases to run and older ones to roll back to, but not the running one', () => {
    const rows = releaseRows(list(middle));
    expect(rows.map((r) => [r.release.version, r.running, r.action])).toEqual([
      [newest, false, 'run'],
      [middle, true, null],
      [oldest, false, 'rollback'],
    ]);
    expect(releaseRows(list(null)).every((r) => r.action === 'run')).toBe(true);
  });

  it('shows the 12 hex digits Docker shows', () => {
    expect(shortImageId('sha256:9c1d2e3f4a5b6c7d8e9f0011')).toBe('9c1d2e3f4a5b');
  });

  it('says sizes and ages as people do', () => {
    expect(formatBytes(4405120)).toBe('4.4 MB');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(null)).toBe('—');
    const now = 1_763_700_000_000;
    expect(formatAgo(now / 1000 - 10, now)).toBe('just now');
    expect(formatAgo(now / 1000 - 180, now)).toBe('3 min ago');
    expect(formatAgo(now / 1000 - 3 * 3600, now)).toBe('3 h ago');
    expect(formatAgo(now / 1000 - 2 * 86400, now)).toBe('2 days ago');
  });
});

describe('ReleaseShelf', () => {
  it('runs the chosen release and refreshes; a refusal stays on screen', async () => {
    let running: string | null = newest;
    const asked: unknown[] = [];
    mockIPC((cmd, args) => {
      if (cmd === 'local_releases') return list(running);
      if (cmd === 'rollback_local') {
        asked.push(args);
        const to = (args as { to: string }).to;
        if (to === oldest) return Promise.reject({ code: 'PreviewFailed', message: 'The preview of hello-site could not start: port in use' });
        running = to;
        return { ...fixtures.preview, version: to };
      }
      return null;
    });
    const shelf = new ReleaseShelf('/p');
    await shelf.refresh();
    const started = await shelf.run(middle);
    expect(started?.version).toBe(middle);
    expect(shelf.list?.running).toBe(middle);
    expect(asked).toEqual([{ dir: '/p', to: middle }]);

    expect(await shelf.run(oldest)).toBeNull();
    expect(shelf.failure?.message).toMatch(/port in use/);
  });
});
