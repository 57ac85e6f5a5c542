// What the UI flow files share: the built UI (dist/) served on a free port, one Chromium
// for the file's tests, and a page with Tauri's IPC mocked by tauri-mock.js over the
// fixtures. Importing this starts nothing; a flow file calls useBrowser() once.
import { before, after } from 'node:test';
import { createServer } from 'node:http';
import { readFile, mkdir } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';
import { installTauriMock } from './tauri-mock.js';
import environment from '../fixtures/environment.json' with { type: 'json' };
import project from '../fixtures/project.json' with { type: 'json' };
import cloud from '../fixtures/aws.json' with { type: 'json' };
import deploy from '../fixtures/deploy.json' with { type: 'json' };
import cost from '../fixtures/cost.json' with { type: 'json' };
import operate from '../fixtures/operate.json' with { type: 'json' };
import validation from '../fixtures/validation.json' with { type: 'json' };
import refusals from '../fixtures/refusals.json' with { type: 'json' };

const dist = new URL('../../dist/', import.meta.url).pathname;
/** Where flows leave screenshots for a person to look at. */
export const shots = new URL('../../target/ui-screenshots/', import.meta.url).pathname;
const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
let server;
let base;
let browser;

/** Serves dist/ and launches Chromium before the file's tests; closes both after. */
export function useBrowser() {
  before(startBrowser);
  after(stopBrowser);
}

/** Serves dist/ on a free port and launches Chromium (a benchmark calls this itself). */
export async function startBrowser() {
  server = createServer(async (req, res) => {
    const path = normalize(new URL(req.url, 'http://x').pathname).replace(/^\/+/, '') || 'index.html';
    try {
      const body = await readFile(join(dist, path));
      res.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}/`;
  // Playwright gives the browser a fresh temporary profile of its own.
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
  });
  await mkdir(shots, { recursive: true });
}

export async function stopBrowser() {
  await browser?.close();
  server?.close();
}

/** A page of the app whose commands answer as `scenario` says; `errors` collects uncaught ones. */
export async function open(scenario) {
  const page = await browser.newPage({ viewport: { width: 1180, height: 780 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  // The Project screen opens first and asks for its lists, so every scenario has a project world.
  await page.addInitScript(installTauriMock, { app: environment.app, project, aws: environment.aws, cloud, deploy, cost, operate, validation, refusals, ...scenario });
  await page.goto(base);
  return { page, errors };
}

export async function openEnvironment(scenario) {
  const opened = await open(scenario);
  await opened.page.getByTestId('nav-environment').click();
  return opened;
}

/** The IPC calls of one command so far, with their arguments. */
export const calls = (page, cmd) => page.evaluate((name) => window.__SLIPWAY_CALLS__.filter((c) => c.cmd === name), cmd);
export const text = (page, testId) => page.getByTestId(testId).textContent();

/** Shows one tab of the app page (`overview`, `local`, `deploys`, `logs`, `cost`,
 * `settings`, `aws`) and waits until its panel is the one shown. */
export async function tab(page, id) {
  await page.getByTestId(`tab-${id}`).click();
  await page.locator(`[data-testid=tab-panel][data-tab="${id}"]`).waitFor();
}

/** Opens the sample project and waits until its releases are listed (On this computer),
 * then shows the Overview again, as the project opens. */
export async function openSample(page) {
  await page.getByTestId('open-sample').click();
  await page.getByTestId('project-name').waitFor();
  await tab(page, 'local');
  await page.getByTestId('release-row').first().waitFor();
  await tab(page, 'overview');
}
