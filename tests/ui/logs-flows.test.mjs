// Operating what runs, in Chromium against the built UI, IPC mocked (tauri-mock.js) over
// tests/fixtures/operate.json: the Logs view with 100,000 lines (virtualised, searched),
// opened at a failed deploy's task, following and saving; rolling back from Releases on AWS
// (asked first, the deploy's steps, the URL) and a refused rollback; cleaning up revisions;
// what the next deploy changes. Run with the other flows: node --test tests/ui/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { calls, open, openSample, shots, tab, text, useBrowser } from './harness.mjs';
import operate from '../fixtures/operate.json' with { type: 'json' };
import deploy from '../fixtures/deploy.json' with { type: 'json' };
import environment from '../fixtures/environment.json' with { type: 'json' };

useBrowser();

const { needle, search } = operate.logs.generated;
const runningTask = deploy.statusBefore.tasks[0].taskId;
const failedTask = deploy.failure.events.at(-1).data.taskId;
const rolledTask = operate.rollback.outcome.taskIds[0];
const release = (page, revision) => page.locator(`[data-testid=aws-release][data-revision="${revision}"]`);
const words = async (locator) => (await locator.textContent()).replace(/\s+/g, ' ').trim();

/** Opens the sample, connects AWS (set up), shows `at` (the Logs tab unless told) and
 * waits for the Logs card's first read. */
async function connected(scenario = {}, at = 'logs') {
  const opened = await open({ docker: environment.dockerRunning, setUp: true, ...scenario });
  await openSample(opened.page);
  await opened.page.getByTestId('aws-connect').click();
  await tab(opened.page, 'logs');
  await opened.page.getByTestId('logs-count').waitFor();
  if (at !== 'logs') await tab(opened.page, at);
  return opened;
}

test('The Logs view holds 100,000 lines in a bounded number of rows, and a search shows the one line that matches', async () => {
  const { page, errors } = await connected({ logLines: 100_000 });
  await page.getByTestId('logs-count').filter({ hasText: '100,000 lines' }).waitFor();
  const rows = page.getByTestId('log-row');
  const drawn = await rows.count();
  assert.ok(drawn > 10 && drawn < 60, `only the rows in view and a few more are in the DOM (${drawn})`);
  assert.match(await text(page, 'logs-errors'), /^1,031 marked as errors$/);
  assert.equal(await rows.last().getAttribute('data-position'), '99999', 'it opens at the newest line');

  await page.getByTestId('logs-search').fill(search);
  await rows.first().filter({ hasText: needle }).waitFor();
  assert.equal(await rows.count(), 1, 'one line of 100,000 contains it');
  assert.equal(await rows.first().locator('mark').textContent(), search.toLowerCase(), 'the match is marked, in the line\'s own case');
  assert.equal(await text(page, 'logs-count'), `1 of 100,000 lines contains “${search}”`);
  await page.getByTestId('logs-card').screenshot({ path: join(shots, 'logs-search.png') });

  await rows.first().click();
  assert.match(await text(page, 'logs-detail'), new RegExp(needle));
  await page.getByTestId('logs-search').fill('');
  await page.getByTestId('logs-count').filter({ hasText: /^100,000 lines$/ }).waitFor();
  assert.ok((await rows.count()) < 60, 'clearing the search draws a window again, not every line');
  const app = (await calls(page, 'app_logs'))[0].args;
  assert.deepEqual(app.query, { taskId: null, text: null, sinceSeconds: 3600, untilMs: null, limit: 100000 }, 'the search is over the lines read');
  assert.deepEqual(errors, []);
  await page.close();
});

test('A failed deploy opens its task\'s logs at the newest line; a running task\'s Logs opens its own', async () => {
  const { page, errors } = await open({ docker: environment.dockerRunning, setUp: true, deployFails: true });
  await openSample(page);
  await page.getByTestId('aws-connect').click();
  await page.getByTestId('deploy-card').waitFor();
  await page.getByTestId('deploy-button').click();
  await page.getByTestId('deploy-failure').waitFor();
  await page.getByTestId('deploy-open-logs').click();
  await page.locator('[data-testid=tab-panel][data-tab=logs]').waitFor();
  const card = page.getByTestId('logs-card');
  await page.getByTestId('logs-count').filter({ hasText: /^3 lines$/ }).waitFor();
  assert.equal(await page.getByTestId('logs-task').inputValue(), failedTask, 'filtered to the task that stopped');
  assert.deepEqual((await calls(page, 'app_logs')).at(-1).args.query.taskId, failedTask);
  const rows = page.getByTestId('log-row');
  assert.equal(await rows.nth(1).getAttribute('data-error'), 'true', 'the error line is marked');
  assert.match(await rows.last().textContent(), /at main \(\/app\/server\.js:12:11\)/);
  await page.waitForFunction(() => {
    const top = document.querySelector('[data-testid=logs-card]').getBoundingClientRect().top;
    return top >= 0 && top < window.innerHeight / 2;
  });
  assert.equal(await page.getByTestId('logs-list').evaluate((el) => el === document.activeElement), true, 'the list has the focus');
  await page.keyboard.press('End');
  assert.match(await text(page, 'logs-detail'), /at main/, 'the keyboard reaches the last line');
  await card.screenshot({ path: join(shots, 'logs-failed-task.png') });

  await tab(page, 'overview');
  await page.getByTestId('status-task-logs').click();
  await page.locator('[data-testid=tab-panel][data-tab=logs]').waitFor();
  await page.waitForFunction((id) => document.querySelector('[data-testid=logs-task]').value === id, runningTask);
  await page.getByTestId('logs-count').filter({ hasText: /^38 lines$/ }).waitFor();
  assert.deepEqual(errors, []);
  await page.close();
});

test('Following adds new lines at the bottom, and stops when turned off', async () => {
  const { page, errors } = await connected();
  await page.getByTestId('logs-count').filter({ hasText: /^41 lines$/ }).waitFor();
  await page.getByTestId('logs-follow').check();
  await page.getByTestId('logs-count').filter({ hasText: /^43 lines$/ }).waitFor();
  assert.match(await page.getByTestId('log-row').last().textContent(), /198\.51\.100\.23\]:50412: response:200/, 'the newest line is in view');
  const follow = (await calls(page, 'follow_logs'))[0].args;
  assert.ok(follow.query.sinceSeconds > 0, 'following starts at the newest line read, so nothing falls between');
  await page.getByTestId('logs-follow').uncheck();
  await page.waitForFunction((id) => window.__SLIPWAY_CALLS__.some((c) => c.cmd === 'cancel_job' && c.args.jobId === id), follow.jobId);

  await page.getByTestId('logs-download').click();
  await page.getByTestId('logs-saved').waitFor();
  assert.equal(await text(page, 'logs-saved'), 'Saved 43 lines to /home/ana/hello-site-logs.txt');
  assert.deepEqual((await calls(page, 'save_logs'))[0].args.path, '/home/ana/hello-site-logs.txt');
  assert.match((await calls(page, 'plugin:dialog|save'))[0].args.options.defaultPath, /^hello-site-logs-\d{8}-\d{4}\.txt$/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('Rolling back asks first with what it costs, runs the deploy\'s steps, and answers at the URL', async () => {
  const { page, errors } = await connected({}, 'deploys');
  const card = page.getByTestId('aws-releases-card');
  await release(page, 2).waitFor();
  assert.equal(await release(page, 3).getByTestId('aws-release-running').count(), 1);
  assert.equal(await release(page, 1).getByTestId('aws-rollback').isDisabled(), true, 'its image is gone');
  assert.match(await words(release(page, 1).getByTestId('aws-release-problems')), /is no longer in the repository hello-site/);
  assert.match(await text(page, 'aws-releases-lifecycle'), /keeps only the newest 2 images/);

  await release(page, 2).getByTestId('aws-rollback').click();
  assert.equal(
    await text(page, 'aws-rollback-question'),
    'Runs revision 2 (20261120-091500, sha256:2f7e0c1d9b8a) as a new task, checks its URL, then stops the current task. While both run (about a minute) you pay for two tasks (~$0.0173/h each). Nothing is built or pushed.',
  );
  await page.getByTestId('aws-rollback-retag').check();
  await card.screenshot({ path: join(shots, 'rollback-question.png') });
  await tab(page, 'overview');
  assert.equal(await page.getByTestId('deploy-button').isDisabled(), false);
  await tab(page, 'deploys');
  assert.equal(await page.getByTestId('aws-rollback-retag').isChecked(), true, 'the question is as it was left');
  await page.getByTestId('aws-rollback-confirm').click();
  await card.getByTestId('deploy-url').waitFor();
  assert.deepEqual((await calls(page, 'deploy'))[0].args.request, { mode: 'task', rollback: { revision: 2, retag: true } });
  const step = (name) => card.locator(`[data-testid=deploy-step][data-step=${name}]`);
  assert.match(await words(step('push')), /latest points to sha256:2f7e0c1d9b8a\S* again; nothing pushed/);
  assert.match(await words(step('register')), /revision 2 reused \(rollback\); nothing registered/);
  assert.equal(await card.getByTestId('deploy-url').textContent(), operate.rollback.outcome.url, 'verified at its URL');

  await release(page, 2).getByTestId('aws-release-running').waitFor();
  assert.equal(await release(page, 2).getByTestId('aws-release-rollback-badge').count(), 1);
  assert.equal(await release(page, 2).getByTestId('aws-release-retagged-badge').count(), 1);
  assert.match(await words(release(page, 2)), /latest/, 'latest points at it again');
  await tab(page, 'overview');
  await page.locator(`[data-testid=status-task][data-task="${rolledTask}"]`).waitFor();
  await tab(page, 'deploys');
  assert.equal(await text(page, 'aws-rollback-previous').then((t) => t.trim()), 'Roll back to previous…', 'revision 3 is the way back now');
  await card.screenshot({ path: join(shots, 'rollback-done.png') });
  await page.getByTestId('aws-rollback-dismiss').click();
  assert.equal(await page.getByTestId('aws-rollback-run').count(), 0, 'the ended rollback can be put away');
  assert.deepEqual(errors, []);
  await page.close();
});

test('A refused rollback says why, and nothing changes', async () => {
  const { page, errors } = await connected({ rollbackRefused: true }, 'deploys');
  await page.getByTestId('aws-rollback-previous').click();
  await page.getByTestId('aws-rollback-confirm').click();
  await page.getByTestId('aws-rollback-refused').waitFor();
  assert.match(await words(page.getByTestId('aws-rollback-refused')), /^Cannot roll back to revision 2: Its image sha256:2f7e\S+ is no longer in the repository hello-site.*Nothing was changed/);
  assert.equal(await page.getByTestId('aws-releases-card').getByTestId('deploy-step').count(), 0, 'no step ran');
  await release(page, 2).getByTestId('aws-release-problems').waitFor();
  assert.equal(await release(page, 2).getByTestId('aws-rollback').isDisabled(), true, 'read again: it cannot be rolled back to now');
  assert.equal(await page.getByTestId('aws-rollback-previous').count(), 0);
  await tab(page, 'overview');
  await page.getByTestId('status-card').waitFor();
  assert.equal(await page.locator(`[data-testid=status-task][data-task="${runningTask}"]`).count(), 1, 'what ran still runs');
  assert.deepEqual(errors, []);
  await page.close();
});

test('Cleaning up shows what goes and what stays and why, then deregisters', async () => {
  const { page, errors } = await connected({}, 'deploys');
  await release(page, 1).waitFor();
  await page.getByTestId('aws-cleanup-keep').fill('1');
  await page.getByTestId('aws-cleanup-plan').click();
  await page.getByTestId('aws-cleanup-goes').waitFor();
  assert.equal(await text(page, 'aws-cleanup-goes'), 'Deregisters revision 1: ECS will no longer run it, and it can no longer be rolled back to.');
  assert.deepEqual(
    await page.getByTestId('aws-cleanup-kept').allTextContents(),
    ['Keeps revision 3: it is running', 'Keeps revision 2: it is the rollback target'],
  );
  await page.getByTestId('aws-cleanup-confirm').click();
  await page.getByTestId('aws-cleanup-done').waitFor();
  assert.equal(await text(page, 'aws-cleanup-done'), 'Deregistered revision 1.');
  await release(page, 1).getByText('deregistered', { exact: true }).waitFor();
  assert.match(await words(release(page, 1).getByTestId('aws-release-problems')), /Revision 1 is deregistered \(INACTIVE\)/);
  assert.deepEqual((await calls(page, 'deregister_revisions'))[0].args, { dir: '/home/ana/.local/share/dev.slipway.desktop/samples/hello-site', keep: 1, revisions: [1] });
  assert.deepEqual(errors, []);
  await page.close();
});

test('The Deploy card says what the next deploy changes in the task definition, read again after a save', async () => {
  const { page, errors } = await connected();
  await page.getByTestId('logs-follow').check();
  await tab(page, 'overview');
  await page.getByTestId('next-deploy-headline').waitFor();
  assert.match(await text(page, 'next-deploy-headline'), /^Only the image can change: .* of hello-site revision 3 match the saved settings\.$/);
  await tab(page, 'settings');
  await page.getByTestId('field-cpu').selectOption('512');
  await page.getByTestId('save').click();
  await page.getByTestId('saved-note').waitFor();
  await tab(page, 'overview');
  await page.getByTestId('next-deploy-change').first().waitFor();
  assert.deepEqual(await page.getByTestId('next-deploy-change').allTextContents(), ['CPU units: 256 → 512', 'memory (MiB): 512 → 1024']);
  assert.equal(
    await text(page, 'next-deploy-headline'),
    'The next deploy registers a new revision of hello-site, with these 2 changes from revision 3:',
  );
  await page.getByTestId('deploy-card').screenshot({ path: join(shots, 'deploy-next-changes.png') });
  assert.equal((await calls(page, 'app_logs')).length, 1, 'saving the settings of the same app keeps its logs as they are');
  await tab(page, 'logs');
  assert.equal(await page.getByTestId('logs-follow').isChecked(), true, 'and keeps following');
  assert.deepEqual(errors, []);
  await page.close();
});
