// Benchmark of the Logs view with 100,000 lines, in Chromium against the built UI (dist/)
// with the IPC mocked (tauri-mock.js generates the lines, one of them the needle, every
// 97th an error). Prints a table of figures; asserts nothing, so it is not a test (node
// --test tests/ui/ leaves it out by its name). Run: npm run bench:ui (builds first).
//
// Measured in the page, from the event to the frame that shows its result (the next
// requestAnimationFrame after the DOM changed):
//   - the first read on connecting (the mock generating its 100,000 lines included);
//   - reading 100,000 lines again and drawing the first screen (All tasks after one task);
//   - a search that finds the one line among 100,000, from the input event to the row;
//   - typing that search one key at a time, each key to its frame;
//   - clearing the search, back to 100,000 lines;
//   - frame times over 2 s of scrolling (steady, 30 rows a frame; and jumps anywhere).
// The IPC is a mock: a real window also decodes the lines' JSON, which this leaves out.
import { open, openSample, startBrowser, stopBrowser, tab } from './harness.mjs';
import operate from '../fixtures/operate.json' with { type: 'json' };
import environment from '../fixtures/environment.json' with { type: 'json' };

const LINES = 100_000;
const RUNS = 5;
const { needle, search } = operate.logs.generated;

const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const percentile = (xs, p) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
const ms = (x) => `${x.toFixed(1)} ms`;

/** In the page: does `act`, then resolves with the ms until `done()` holds and a frame follows. */
function timeInPage(page, act, done, arg) {
  return page.evaluate(
    async ({ act, done, arg }) => {
      const actFn = new Function('arg', act);
      const doneFn = new Function('arg', done);
      const root = document.querySelector('[data-testid=logs-card]');
      const started = performance.now();
      await new Promise((resolve) => {
        const observer = new MutationObserver(() => {
          if (doneFn(arg)) {
            observer.disconnect();
            resolve();
          }
        });
        observer.observe(root, { subtree: true, childList: true, characterData: true, attributes: true });
        actFn(arg);
        if (doneFn(arg)) {
          observer.disconnect();
          resolve();
        }
      });
      const dom = performance.now() - started;
      await new Promise((resolve) => requestAnimationFrame(resolve));
      return { dom, frame: performance.now() - started };
    },
    { act, done, arg },
  );
}

const setSearch = `const input = document.querySelector('[data-testid=logs-search]');
  input.value = arg.value;
  input.dispatchEvent(new Event('input', { bubbles: true }));`;
const oneNeedleRow = `const rows = document.querySelectorAll('[data-testid=log-row]');
  return rows.length === 1 && rows[0].textContent.includes(arg.needle);`;
const countIs = `return document.querySelector('[data-testid=logs-count]')?.textContent === arg.count;`;
const chooseTask = `const select = document.querySelector('[data-testid=logs-task]');
  select.value = arg.task;
  select.dispatchEvent(new Event('change', { bubbles: true }));`;
const everyLineDrawn = `return document.querySelector('[data-testid=logs-count]')?.textContent === arg.count
  && document.querySelectorAll('[data-testid=log-row]').length > 0
  && !document.querySelector('[data-testid=logs-card] .pill-pending');`;

/** Frame times while the list scrolls for `durationMs`: `jump` scrolls anywhere, else 30 rows a frame. */
function scrollFrames(page, durationMs, jump) {
  return page.evaluate(
    async ({ durationMs, jump }) => {
      const list = document.querySelector('[data-testid=logs-list]');
      const deltas = [];
      let rowsMax = 0;
      let direction = 1;
      let seed = 7;
      const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
      await new Promise((resolve) => {
        let last = null;
        const started = performance.now();
        const step = (now) => {
          if (last !== null) deltas.push(now - last);
          last = now;
          rowsMax = Math.max(rowsMax, list.querySelectorAll('[data-testid=log-row]').length);
          const bottom = list.scrollHeight - list.clientHeight;
          if (jump) list.scrollTop = random() * bottom;
          else {
            if (list.scrollTop >= bottom) direction = -1;
            if (list.scrollTop <= 0) direction = 1;
            list.scrollTop += direction * 600;
          }
          if (now - started < durationMs) requestAnimationFrame(step);
          else resolve();
        };
        requestAnimationFrame(step);
      });
      return { deltas, rowsMax };
    },
    { durationMs, jump },
  );
}

await startBrowser();
try {
  const { page, errors } = await open({ docker: environment.dockerRunning, setUp: true, logLines: LINES });
  await openSample(page);
  const connectStarted = Date.now();
  await page.getByTestId('aws-connect').click();
  // The Logs tab shows the card; it reads the lines from connecting on, whichever tab shows.
  await tab(page, 'logs');
  await page.getByTestId('logs-count').filter({ hasText: /^100,000 lines$/ }).waitFor();
  await page.getByTestId('log-row').first().waitFor();
  const firstRead = Date.now() - connectStarted;
  const generated = await page.evaluate(() => window.__SLIPWAY_MOCK__.logsGeneratedMs);
  await page.getByTestId('logs-card').scrollIntoViewIfNeeded();

  // Reading 100,000 lines again and drawing them: All tasks after one task's 50,000.
  const [taskA] = await page.getByTestId('logs-task').locator('option').evaluateAll((options) => options.map((o) => o.value).filter(Boolean));
  const reads = [];
  for (let run = 0; run < RUNS; run++) {
    await timeInPage(page, chooseTask, everyLineDrawn, { task: taskA, count: '50,000 lines' });
    reads.push(await timeInPage(page, chooseTask, everyLineDrawn, { task: '', count: '100,000 lines' }));
  }

  // The search that finds one line in 100,000, pasted at once; then typed a key at a time.
  const finds = [];
  const clears = [];
  for (let run = 0; run < RUNS; run++) {
    // Another search first: the filter remembers its last answer, and each run should read every line.
    await timeInPage(page, setSearch, `return document.querySelector('[data-testid=logs-no-match]') !== null;`, { value: 'no line has this' });
    finds.push(await timeInPage(page, setSearch, oneNeedleRow, { value: search, needle }));
    clears.push(await timeInPage(page, setSearch, countIs, { value: '', count: '100,000 lines' }));
  }
  const keys = [];
  for (let n = 1; n <= search.length; n++) {
    const value = search.slice(0, n);
    keys.push(await timeInPage(page, setSearch, `return document.querySelector('[data-testid=logs-count]')?.textContent.endsWith('“' + arg.value + '”');`, { value }));
  }
  await timeInPage(page, setSearch, countIs, { value: '', count: '100,000 lines' });

  const steady = await scrollFrames(page, 2000, false);
  const jumps = await scrollFrames(page, 2000, true);
  const rowsInDom = await page.getByTestId('log-row').count();
  const chromium = page.context().browser().version();
  if (errors.length > 0) throw errors[0];
  await page.close();

  const rows = [
    ['First read on connecting (mock generation included)', `${firstRead} ms`, `mock generated the lines in ${ms(generated)}`],
    ['Read 100,000 lines and draw the first screen', ms(median(reads.map((r) => r.frame))), `median of ${RUNS}; max ${ms(Math.max(...reads.map((r) => r.frame)))}`],
    ['Search finding 1 line of 100,000: input → row shown', ms(median(finds.map((r) => r.frame))), `median of ${RUNS}; DOM ready ${ms(median(finds.map((r) => r.dom)))}`],
    ['Typing the search, each key → its frame', ms(median(keys.map((r) => r.frame))), `median of ${keys.length} keys; max ${ms(Math.max(...keys.map((r) => r.frame)))}`],
    ['Clearing the search, back to 100,000 lines', ms(median(clears.map((r) => r.frame))), `median of ${RUNS}`],
    ['Scrolling 30 rows a frame: frame time median', ms(median(steady.deltas)), `${steady.deltas.length} frames in 2 s`],
    ['  p95 / max', `${ms(percentile(steady.deltas, 95))} / ${ms(Math.max(...steady.deltas))}`, `frames over 25 ms: ${steady.deltas.filter((d) => d > 25).length}`],
    ['Jumping anywhere each frame: frame time median', ms(median(jumps.deltas)), `${jumps.deltas.length} frames in 2 s`],
    ['  p95 / max', `${ms(percentile(jumps.deltas, 95))} / ${ms(Math.max(...jumps.deltas))}`, `frames over 25 ms: ${jumps.deltas.filter((d) => d > 25).length}`],
    ['Log rows in the DOM (most while scrolling / at rest)', `${Math.max(steady.rowsMax, jumps.rowsMax)} / ${rowsInDom}`, `of ${LINES.toLocaleString('en-US')} lines`],
  ];
  const width = [Math.max(...rows.map((r) => r[0].length)), Math.max(...rows.map((r) => r[1].length))];
  console.log(`\nLogs view, ${LINES.toLocaleString('en-US')} lines, Chromium ${chromium} (headless, software rendering)\n`);
  console.log(`${'What'.padEnd(width[0])}  ${'Time'.padStart(width[1])}  Notes`);
  console.log(`${'-'.repeat(width[0])}  ${'-'.repeat(width[1])}  ${'-'.repeat(40)}`);
  for (const [what, value, note] of rows) console.log(`${what.padEnd(width[0])}  ${value.padStart(width[1])}  ${note}`);
  console.log('');
} finally {
  await stopBrowser();
}
