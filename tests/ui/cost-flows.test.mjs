// Cost flows in Chromium against the built UI, IPC mocked (tauri-mock.js) over the sheets
// the engine computed (tests/fixtures/cost.json): the estimate and its prices, trying sizes
// and a demo schedule, taking a size into the settings, the running-cost banner and the
// idle guard's warning. Run with the other flows: node --test tests/ui/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { calls, open, openSample, shots, tab, text, useBrowser } from './harness.mjs';
import cost from '../fixtures/cost.json' with { type: 'json' };
import deploy from '../fixtures/deploy.json' with { type: 'json' };
import environment from '../fixtures/environment.json' with { type: 'json' };

useBrowser();

const [small, medium] = cost.sheets;
const runningTask = deploy.statusBefore.tasks[0].taskId;

test('The Cost card names the prices it used, and another task size changes the month and the chart', async () => {
  const { page, errors } = await open({});
  await openSample(page);
  await tab(page, 'cost');
  const card = page.getByTestId('cost-card');
  await card.getByTestId('cost-month').filter({ hasText: '$13.19' }).waitFor();
  assert.equal(
    await text(page, 'cost-price-source'),
    'AWS Fargate, VPC, CloudWatch Logs and ECR pricing (AWS Price List data) · bundled with Slipway, dated 2026-11-01 · us-east-1',
  );
  assert.equal(await card.getByTestId('cost-note').count(), small.notes.length, 'every note of the estimate is shown');
  assert.equal(await text(page, 'cost-hour'), '$0.0173');
  assert.match(await page.getByTestId('cost-size').locator('option:checked').textContent(), /^0\.25 vCPU · 0\.5 GB — \$13\.19\/mo$/);
  assert.equal(await page.getByTestId('cost-size').locator('option').count(), small.sizes.length, 'only the sizes the engine priced');
  const cpu = page.getByTestId('cost-segment-Cpu');
  assert.equal(await cpu.getAttribute('aria-label'), 'Compute (vCPU): $7.39 a month (56%)');
  await card.screenshot({ path: join(shots, 'cost-card.png') });

  await page.getByTestId('cost-size').selectOption('1024/2048');
  await card.getByTestId('cost-month').filter({ hasText: '$40.22' }).waitFor();
  assert.equal(await cpu.getAttribute('aria-label'), 'Compute (vCPU): $29.55 a month (73%)', 'the chart follows the estimate');
  assert.deepEqual((await calls(page, 'estimate_cost')).at(-1).args.inputs, { ...small.inputs, task: { cpu: 1024, memory: 2048 } });
  assert.match(await text(page, 'cost-size-note'), /Your project uses 0\.25 vCPU · 0\.5 GB; this estimate is for 1 vCPU · 2 GB/);
  assert.equal(await page.getByTestId('cost-save').isDisabled(), true, 'a size is the project\'s setting, not a cost choice');

  await page.getByTestId('cost-size').selectOption('256/512');
  await page.getByTestId('cost-schedule-demo').check();
  await card.getByTestId('cost-month').filter({ hasText: '$1.29' }).waitFor();
  assert.equal(await text(page, 'cost-always-on'), "It runs 43.5 h of the month's 730. Always on, it would cost $13.19 a month.");
  await page.getByTestId('cost-save').click();
  await page.getByTestId('cost-saved').waitFor();
  assert.deepEqual((await calls(page, 'save_cost_settings')).at(-1).args.settings, {
    tasks: 1, hoursPerWeek: 10, logGbPerMonth: 1, loadBalancer: false, autoStopHours: null, remindAfterHours: null,
  });

  await page.getByTestId('cost-refresh').click();
  await page.getByTestId('cost-price-source').filter({ hasText: 'fetched' }).waitFor();
  assert.match(await text(page, 'cost-price-source'), /^AWS Price List API · fetched \d{4}-\d\d-\d\d · us-east-1$/);
  assert.deepEqual((await calls(page, 'project_cost')).map((c) => c.args.refresh), ['Never', 'Now'], 'not connected: no stale check');
  await card.screenshot({ path: join(shots, 'cost-demo.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

test('Prices that cannot be refreshed still give the estimate, and the card says why', async () => {
  const { page, errors } = await open({ priceListFails: 'No AWS credentials were found.' });
  await openSample(page);
  await tab(page, 'cost');
  await page.getByTestId('cost-month').filter({ hasText: '$13.19' }).waitFor();
  await page.getByTestId('cost-refresh').click();
  await page.getByTestId('cost-price-note').waitFor();
  assert.equal(await text(page, 'cost-price-note'), 'Prices were not refreshed: Slipway could not connect to AWS (No AWS credentials were found.)');
  assert.match(await text(page, 'cost-price-source'), /bundled with Slipway, dated 2026-11-01/, 'the bundled prices are named');
  assert.equal(await text(page, 'cost-month'), '$13.19');
  assert.equal(await page.getByTestId('cost-card').getByRole('alert').count(), 0, 'a refresh that failed is a note, not an error');
  assert.deepEqual(errors, []);
  await page.close();
});

test('A size tried on the Cost card goes into the settings, and once saved is the project\'s', async () => {
  const { page, errors } = await open({});
  await openSample(page);
  await tab(page, 'cost');
  await page.getByTestId('cost-month').filter({ hasText: '$13.19' }).waitFor();
  await page.getByTestId('cost-size').selectOption('1024/2048');
  await page.getByTestId('cost-month').filter({ hasText: '$40.22' }).waitFor();
  await page.getByTestId('cost-use-size').click();
  assert.match(await text(page, 'cost-size-note'), /save the settings to deploy with it/);
  await tab(page, 'settings');
  assert.equal(await page.getByTestId('field-cpu').inputValue(), '1024');
  assert.equal(await page.getByTestId('field-memory').inputValue(), '2048');
  await page.getByTestId('save').click();
  await page.getByTestId('saved-note').waitFor();
  assert.deepEqual((await calls(page, 'save_project')).at(-1).args.config.task, { cpu: 1024, memory: 2048 });
  await tab(page, 'cost');
  await page.getByTestId('cost-size-note').waitFor({ state: 'detached' });
  assert.equal(await text(page, 'cost-month'), '$40.22', 'the project\'s estimate is now for its new size');
  assert.equal((await calls(page, 'project_cost')).length, 2, 'read again once the saved size changed');
  assert.deepEqual(errors, []);
  await page.close();
});

test('Connected, a banner on every screen says what runs and costs; an auto-stop warning can be answered', async () => {
  const warned = { type: 'AutoStopWarned', data: { taskId: runningTask, stopsAt: '2026-11-22T03:00:00Z', minutesLeft: 9 } };
  const { page, errors } = await open({
    docker: environment.dockerRunning,
    setUp: true,
    pricesStale: true,
    costSettings: { autoStopHours: 2, remindAfterHours: 12 },
    costEvents: [warned],
  });
  await openSample(page);
  assert.equal(await page.getByTestId('cost-banner').count(), 0, 'nothing is metered before connecting');
  await tab(page, 'cost');
  assert.equal(await page.getByTestId('auto-stop-on').isChecked(), true);
  assert.equal(await page.getByTestId('auto-stop-hours').inputValue(), '2');
  await tab(page, 'aws');
  await page.getByTestId('aws-connect').click();
  await page.getByTestId('cost-banner').waitFor();
  await tab(page, 'cost');
  assert.equal(await text(page, 'cost-banner-rate'), '1 task running, $0.0173/h');
  assert.match(await text(page, 'cost-banner-so-far'), /^\$0\.18\d* so far$/);
  await page.getByTestId('cost-price-source').filter({ hasText: 'fetched' }).waitFor();
  assert.deepEqual((await calls(page, 'project_cost')).map((c) => c.args.refresh), ['Never', 'IfStale'], 'a month-old price list is refreshed once connected');

  const warning = page.getByTestId('cost-warning');
  await warning.waitFor();
  assert.equal(
    (await warning.textContent()).replace(/\s+/g, ' ').trim(),
    `Task ${runningTask.slice(0, 8)} will be stopped in 9 min (auto-stop after 2 h). Keep it running: turn auto-stop off`,
  );
  await page.screenshot({ path: join(shots, 'cost-banner.png') });
  await page.getByTestId('cost-keep-running').click();
  await warning.waitFor({ state: 'detached' });
  assert.deepEqual((await calls(page, 'save_cost_settings')).at(-1).args.settings, {
    tasks: 1, hoursPerWeek: null, logGbPerMonth: 1, loadBalancer: false, autoStopHours: null, remindAfterHours: 12,
  }, 'only auto-stop is turned off');
  assert.equal(await page.getByTestId('auto-stop-on').isChecked(), false, 'the Cost card says so too');

  await tab(page, 'overview');
  assert.match(await text(page, 'status-cost'), /Together \$0\.0173\/h/);
  await page.getByTestId('nav-environment').click();
  assert.equal(await page.getByTestId('cost-banner').isVisible(), true, 'the banner stays in view on the other screens');
  await page.getByTestId('nav-project').click();
  await page.getByTestId('status-stop').click();
  await page.getByTestId('status-stop-confirm').click();
  await page.getByTestId('cost-banner').waitFor({ state: 'detached' });

  await page.getByTestId('close-project').click();
  const watch = (await calls(page, 'watch_costs'))[0].args.jobId;
  await page.waitForFunction((id) => window.__SLIPWAY_CALLS__.some((c) => c.cmd === 'cancel_job' && c.args.jobId === id), watch);
  assert.deepEqual(errors, []);
  await page.close();
});
