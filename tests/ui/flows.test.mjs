// UI flows in Debian's Chromium against the built UI (dist/), with Tauri's IPC mocked by
// tests/ui/tauri-mock.js. Run by `make test` after `vite build`: node --test tests/ui/
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFile, mkdir } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';
import { installTauriMock } from './tauri-mock.js';
import fixtures from '../fixtures/environment.json' with { type: 'json' };

const dist = new URL('../../dist/', import.meta.url).pathname;
const shots = new URL('../../target/ui-screenshots/', import.meta.url).pathname;
const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' };
let server;
let base;
let browser;

before(async () => {
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
});

after(async () => {
  await browser?.close();
  server?.close();
});

const { app, dockerRunning, aws, verified } = fixtures;

async function open(scenario) {
  const page = await browser.newPage({ viewport: { width: 1180, height: 780 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.addInitScript(installTauriMock, scenario);
  await page.goto(base);
  return { page, errors };
}

test('Environment shows Docker at once and the account after Check, for the chosen profile', async () => {
  const { page, errors } = await open({ app, docker: dockerRunning, aws, identity: verified });
  await page.getByTestId('docker-version').waitFor();
  assert.equal(await page.getByTestId('docker-version').textContent(), '27.3.1');
  assert.equal(await page.getByTestId('app-version').textContent(), '0.1.0');
  await page.getByLabel('work').check();
  await page.getByTestId('aws-check').click();
  await page.getByTestId('aws-account').waitFor();
  assert.equal(await page.getByTestId('aws-account').textContent(), '123456789012');
  const calls = await page.evaluate(() => window.__SLIPWAY_CALLS__);
  const identityCall = calls.filter((c) => c.cmd === 'check_environment').at(-1);
  assert.deepEqual(identityCall.args.request.identity.source, { kind: 'profile', name: 'work' }, 'the picked profile is the one checked');
  await page.screenshot({ path: join(shots, 'environment-ok.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

test('Missing Docker and an expired SSO session each say what to do', async () => {
  const { page } = await open({
    app,
    docker: {
      state: 'unavailable',
      endpoint: { uri: 'unix:///var/run/docker.sock', source: 'System' },
      reason: 'the connection was refused',
      advice: 'Start Docker Desktop, Colima (`colima start`), OrbStack or Rancher Desktop, then press Check again.',
    },
    aws: { ...aws, problems: [{ path: '/home/ana/.aws/config', line: 12, problem: 'expected "key = value", found "region"' }] },
    identity: {
      state: 'failed', code: 'SsoSessionExpired',
      message: 'The SSO session of profile "work" expired at 2026-11-01T10:00:00Z. Run `aws sso login --profile work` and check again.',
    },
  });
  await page.getByTestId('docker-problem').waitFor();
  assert.match(await page.getByText('Not running').textContent(), /Not running/);
  assert.match(await page.locator('.advice').first().textContent(), /colima start/);
  assert.match(await page.getByTestId('aws-file-problem').textContent(), /line 12/);
  await page.getByTestId('check-all').click();
  await page.getByTestId('aws-identity-problem').waitFor();
  assert.match(await page.getByTestId('aws-identity-problem').textContent(), /aws sso login --profile work/);
  await page.screenshot({ path: join(shots, 'environment-problems.png') });
  await page.close();
});

test('Cancel stops a slow identity check and says so', async () => {
  const { page } = await open({ app, docker: dockerRunning, aws, identity: verified, hangIdentity: true });
  await page.getByTestId('docker-version').waitFor();
  await page.getByTestId('check-all').click();
  await page.getByTestId('check-cancel').click();
  await page.getByRole('alert').waitFor();
  assert.equal(await page.getByRole('alert').textContent(), 'Check cancelled.');
  assert.equal(await page.getByTestId('check-all').isEnabled(), true, 'the screen is usable again');
  await page.close();
});
