import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { highlight, LogFilter, LogIndex, searchKey } from './filter';
import { bottomScrollTop, isAtBottom, rowsPerPage, rowWindow, scrollTopToShow } from './virtual';
import {
  AppLogs,
  countText,
  followFromSeconds,
  formatLogTime,
  LOG_LIMIT,
  logFileName,
  rangeSeconds,
  sinceCustom,
  spansDays,
} from './logs.svelte';
import LogsCard from './LogsCard.svelte';
import type { LogLine, LogQuery } from '../../ipc';
import operate from '../../../../../tests/fixtures/operate.json';

afterEach(() => {
  cleanup();
  clearMocks();
});

// The lines the Chromium flows use (tests/ui), dated from a fixed now.
const NOW = 1_763_780_000_000;
const fixtureLines: LogLine[] = operate.logs.lines.map(({ agoMs, ...line }, i) => ({ ...line, id: `l${i}`, atMs: NOW - agoMs }));
const TASK_A = '8a7b6c5d4e3f4a2b9c1d0e8f7a6b5c4d';
const TASK_B = '4d1e6f0a8b2c4e7f9a1b3c5d7e9f0a2b';
const { needle, search: needleSearch } = operate.logs.generated;

/** `count` lines a millisecond apart, every 97th an error, one of them the needle. */
function generated(count: number): LogLine[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `g${i}`,
    atMs: NOW - (count - i),
    taskId: i % 2 === 0 ? TASK_A : TASK_B,
    message: i === Math.floor(count * 0.37) ? needle : i % 97 === 0 ? `ERROR upstream timed out (request ${i})` : `GET /api/items/${i} 200`,
    error: i % 97 === 0,
  }));
}

type Channel = { onmessage: (e: unknown) => void };

describe('LogIndex and LogFilter', () => {
  it('finds the one line among 100,000 in any case, and counts the errors once', () => {
    const index = new LogIndex();
    index.reset(generated(100_000));
    expect(index.errors).toBe(Math.ceil(100_000 / 97));
    const filter = new LogFilter();
    const started = performance.now();
    const rows = filter.apply(index, needleSearch);
    const took = performance.now() - started;
    expect(rows).toEqual([37_000]);
    expect(index.lines[rows![0]].message).toBe(needle);
    // Generous for a slow CI machine; the browser benchmark measures it properly.
    expect(took, 'a substring test per line, on lowercase made once').toBeLessThan(250);
    expect(filter.apply(index, ''), 'no search shows every line').toBeNull();
    expect(filter.apply(index, '   '), 'nor does a search of spaces').toBeNull();
  });

  it('narrows a longer search within the last matches, and searches only the lines that arrived since', () => {
    const index = new LogIndex();
    index.reset(fixtureLines);
    const filter = new LogFilter();
    const urls = filter.apply(index, 'url:')!;
    expect(urls.length).toBe(18);
    const favicon = filter.apply(index, 'url:/favicon')!;
    expect(favicon.every((i) => urls.includes(i)) && favicon.length).toBe(4);
    const next = { id: 'f1', atMs: NOW + 1, taskId: TASK_A, message: '[::ffff:198.51.100.23]:50412: url:/favicon.ico', error: false };
    index.append([next]);
    const after = filter.apply(index, 'URL:/FAVICON')!;
    expect(after).toEqual([...favicon, index.lines.length - 1]);
    expect(after, 'a new array, so a derived value sees the change').not.toBe(favicon);
  });

  it('skips lines already read when following starts a little early, and drops the oldest past the cap', () => {
    const index = new LogIndex();
    index.reset(fixtureLines.slice(0, 5));
    const generation = index.generation;
    const repeat = fixtureLines[4];
    const fresh = { ...fixtureLines[5], id: 'new' };
    expect(index.append([repeat, fresh])).toEqual({ added: 1, dropped: false });
    expect(index.lines.map((l) => l.id)).toEqual(['l0', 'l1', 'l2', 'l3', 'l4', 'new']);
    expect(index.append(fixtureLines.slice(6, 9), 8, 5)).toEqual({ added: 3, dropped: true });
    expect(index.lines.map((l) => l.id)).toEqual(['l4', 'new', 'l6', 'l7', 'l8']);
    expect(index.lower).toEqual(index.lines.map((l) => l.message.toLowerCase()));
    expect(index.generation, 'positions found before no longer hold').toBe(generation + 1);
    expect(index.taskIds()).toEqual([TASK_A]);
  });

  it('marks every match of a search in a message, keeping the message\'s own case', () => {
    expect(highlight('GET /Health 200 health', 'HEALTH')).toEqual([
      { text: 'GET /', match: false },
      { text: 'Health', match: true },
      { text: ' 200 ', match: false },
      { text: 'health', match: true },
    ]);
    expect(highlight('abc', '')).toEqual([{ text: 'abc', match: false }]);
    expect(highlight('İstanbul', 'stan'), 'a lowercase of another length is not marked').toEqual([{ text: 'İstanbul', match: false }]);
    expect(searchKey(' 500')).toBe(' 500');
  });
});

describe('the virtual list\'s window', () => {
  it('renders the rows in view and a few either side, however long the list', () => {
    // 100,000 rows of 20 px in a 360 px viewport, scrolled to the middle.
    expect(rowWindow(1_000_000, 360, 20, 100_000)).toEqual({ start: 49_992, end: 50_027, offset: 999_840, total: 2_000_000 });
    expect(rowWindow(0, 360, 20, 100_000).start).toBe(0);
    const end = rowWindow(5_000_000, 360, 20, 100_000);
    expect([end.end, end.end - end.start], 'past the end is the end').toEqual([100_000, 26]);
    expect(rowWindow(0, 360, 20, 3)).toEqual({ start: 0, end: 3, offset: 0, total: 60 });
    expect(rowWindow(0, 0, 20, 0)).toEqual({ start: 0, end: 0, offset: 0, total: 0 });
  });

  it('knows the bottom, and scrolls as little as possible to show a row', () => {
    expect(bottomScrollTop(100, 20, 360)).toBe(1640);
    expect(bottomScrollTop(3, 20, 360)).toBe(0);
    expect(isAtBottom(1640, 360, 100, 20)).toBe(true);
    expect(isAtBottom(1632.5, 360, 100, 20), 'within half a row').toBe(true);
    expect(isAtBottom(1600, 360, 100, 20)).toBe(false);
    expect(scrollTopToShow(10, 400, 360, 20), 'above: scrolls up to it').toBe(200);
    expect(scrollTopToShow(40, 400, 360, 20), 'below: scrolls until it is the last').toBe(460);
    expect(scrollTopToShow(25, 400, 360, 20), 'in view: stays').toBe(400);
    expect(rowsPerPage(360, 20)).toBe(17);
  });
});

describe('log words', () => {
  it('reads a custom start as seconds ago, and refuses one in the future', () => {
    const now = new Date(2026, 10, 22, 12, 0, 0).getTime();
    expect(sinceCustom('2026-11-22T11:30', now)).toEqual({ seconds: 1800 });
    expect(sinceCustom('2026-11-22T12:30', now)).toEqual({ problem: 'Choose a time in the past.' });
    expect(sinceCustom('', now)).toEqual({ problem: 'Choose the date and time to read from.' });
    expect(rangeSeconds('6h', '', now)).toBe(21_600);
    expect(rangeSeconds('custom', '2026-11-21T12:00', now)).toBe(86_400);
    expect(rangeSeconds('custom', '', now)).toBeNull();
  });

  it('follows from the newest line read, a second early, never before the range', () => {
    expect(followFromSeconds(null, NOW, 3600)).toBe(0);
    expect(followFromSeconds(NOW - 4_200, NOW, 3600)).toBe(6);
    expect(followFromSeconds(NOW - 86_400_000, NOW, 3600)).toBe(3600);
  });

  it('says times, counts and file names as people read them', () => {
    const at = new Date(2026, 10, 21, 14, 3, 7, 9).getTime();
    expect(formatLogTime(at, false)).toBe('14:03:07.009');
    expect(formatLogTime(at, true)).toBe('11-21 14:03:07');
    expect(formatLogTime(null, false)).toBe('—');
    expect(spansDays(at, at + 3_600_000)).toBe(false);
    expect(spansDays(at, at + 86_400_000)).toBe(true);
    expect(countText(100_000, 100_000, '')).toBe('100,000 lines');
    expect(countText(1, 100_000, '7f3e')).toBe('1 of 100,000 lines contains “7f3e”');
    expect(countText(0, 1, 'x')).toBe('0 of 1 line contain “x”');
    expect(logFileName('hello-site', at)).toBe('hello-site-logs-20261121-1403.txt');
  });
});

/** The logs commands over the fixture's lines; what was asked is kept, and the follow channel. */
function logWorld(lines: LogLine[] = fixtureLines) {
  const world = { queries: [] as LogQuery[], follows: [] as LogQuery[], channel: null as Channel | null, cancelled: 0, saved: [] as unknown[] };
  mockIPC((cmd, args) => {
    const a = args as Record<string, unknown>;
    switch (cmd) {
      case 'app_logs': {
        const query = a.query as LogQuery;
        world.queries.push(query);
        const found = lines.filter((l) => (!query.taskId || l.taskId === query.taskId) && (!query.text || l.message.toLowerCase().includes(query.text.toLowerCase())));
        return { group: '/ecs/hello-site', lines: found, truncated: false };
      }
      case 'follow_logs':
        world.follows.push(a.query as LogQuery);
        world.channel = a.onEvent as Channel;
        return new Promise(() => {});
      case 'cancel_job':
        world.cancelled += 1;
        return true;
      case 'plugin:dialog|save':
        return '/home/ana/hello-site.txt';
      case 'save_logs':
        world.saved.push(args);
        return 3;
      default:
        return null;
    }
  });
  return world;
}

describe('AppLogs', () => {
  it('reads the newest 100,000 lines of the range, and opens one task at its newest line', async () => {
    const world = logWorld();
    const logs = new AppLogs('/p');
    await logs.load();
    expect(world.queries[0]).toEqual({ taskId: null, text: null, sinceSeconds: 3600, untilMs: null, limit: LOG_LIMIT });
    expect([logs.view.count, logs.index.errors, logs.group]).toEqual([fixtureLines.length, 2, '/ecs/hello-site']);
    expect(logs.tasksSeen).toEqual([TASK_A, TASK_B]);

    logs.search = 'greeting';
    await logs.show(TASK_B);
    expect(world.queries[1]).toMatchObject({ taskId: TASK_B });
    expect([logs.search, logs.view.count, logs.revealed]).toEqual(['', 3, 1]);
  });

  it('follows from the newest line, adds what arrives, says a failed poll, and stops when turned off', async () => {
    const world = logWorld();
    const logs = new AppLogs('/p');
    await logs.load();
    logs.setFollowing(true);
    expect(world.follows).toHaveLength(1);
    expect(world.follows[0].sinceSeconds, 'back to the newest line read, so nothing falls between').toBeGreaterThan(0);
    const line = { id: 'f0', atMs: Date.now(), taskId: TASK_A, message: 'GET / 200', error: false };
    world.channel!.onmessage({ type: 'PollFailed', data: { message: 'Rate exceeded' } });
    expect(logs.followNote).toBe('Rate exceeded');
    world.channel!.onmessage({ type: 'Appended', data: { lines: [line] } });
    expect([logs.view.count, logs.followNote]).toEqual([fixtureLines.length + 1, null]);

    await logs.chooseTask(TASK_A);
    expect(world.follows.at(-1)?.taskId, 'a new read restarts following with its task').toBe(TASK_A);
    expect(world.cancelled).toBe(1);
    logs.setFollowing(false);
    expect(world.cancelled).toBe(2);
  });

  it('saves what the search finds to the chosen file', async () => {
    const world = logWorld();
    const logs = new AppLogs('/p');
    await logs.load();
    logs.search = 'Error';
    await logs.download('hello-site');
    expect(world.saved[0]).toMatchObject({ dir: '/p', path: '/home/ana/hello-site.txt', query: { text: 'Error', limit: LOG_LIMIT } });
    expect(logs.saved).toEqual({ count: 3, path: '/home/ana/hello-site.txt' });
  });
});

describe('LogsCard', () => {
  // jsdom lays nothing out: the list's viewport measures 0 px, and only its overscan is drawn.
  globalThis.ResizeObserver ??= class {
    observe() {}
    unobserve() {}
    disconnect() {}
  };

  it('draws a bounded number of rows for 100,000 lines, and shows the one the search finds', async () => {
    logWorld(generated(100_000));
    const logs = new AppLogs('/p');
    render(LogsCard, { logs, app: 'hello-site', onEnvironment: () => {} });
    await waitFor(() => expect(screen.getByTestId('logs-count').textContent).toBe('100,000 lines'));
    expect(screen.getAllByTestId('log-row').length, 'only the rows in view, not 100,000').toBeLessThan(60);
    expect(screen.getByTestId('logs-errors').textContent).toBe('1,031 marked as errors');

    await fireEvent.input(screen.getByTestId('logs-search'), { target: { value: needleSearch } });
    const rows = screen.getAllByTestId('log-row');
    expect(rows).toHaveLength(1);
    expect(rows[0].querySelector('mark')?.textContent, 'the match is marked').toBe('7f3e9c2a');
    expect(rows[0].textContent).toContain(needle);
    expect(screen.getByTestId('logs-count').textContent).toBe('1 of 100,000 lines contains “7F3E9C2A”');

    await fireEvent.click(rows[0]);
    expect(screen.getByTestId('logs-detail').textContent).toContain(needle);
    await fireEvent.input(screen.getByTestId('logs-search'), { target: { value: 'no such text' } });
    expect(screen.getByTestId('logs-no-match').textContent).toBe('No line read contains “no such text”.');
  });
});
