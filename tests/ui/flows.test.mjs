// UI flows in Debian's Chromium against the built UI (dist/), with Tauri's IPC mocked by
// tests/ui/tauri-mock.js. Run by `make test` after `vite build`: node --test tests/ui/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { calls, open, openEnvironment, openSample, shots, tab, text, useBrowser } from './harness.mjs';
import fixtures from '../fixtures/environment.json' with { type: 'json' };
import project from '../fixtures/project.json' with { type: 'json' };
import deploy from '../fixtures/deploy.json' with { type: 'json' };

useBrowser();

const { dockerRunning, aws, verified } = fixtures;

test('Environment shows Docker at once and the account after Check, for the chosen profile', async () => {
  const { page, errors } = await openEnvironment({ docker: dockerRunning, aws, identity: verified });
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
  const { page } = await openEnvironment({
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
  const { page } = await openEnvironment({ docker: dockerRunning, aws, identity: verified, hangIdentity: true });
  await page.getByTestId('docker-version').waitFor();
  await page.getByTestId('check-all').click();
  await page.getByTestId('check-cancel').click();
  await page.getByRole('alert').waitFor();
  assert.equal(await page.getByRole('alert').textContent(), 'Check cancelled.');
  assert.equal(await page.getByTestId('check-all').isEnabled(), true, 'the screen is usable again');
  await page.close();
});

// The Project screen: settings, pre-flight, build, preview and local rollback.

const newest = project.build.release.version;
const [previous, oldest] = project.releases.map((r) => r.version);

test('A newcomer meets the Project screen first, opens the sample and fixes an invalid task size before saving', async () => {
  const { page, errors } = await open({});
  assert.equal(await page.getByTestId('nav-project').getAttribute('aria-current'), 'page', 'the project screen is the default');
  await page.getByTestId('recent-project').first().waitFor();
  assert.equal(await page.getByTestId('recent-project').count(), 2);
  await page.screenshot({ path: join(shots, 'project-welcome.png') });
  await page.getByTestId('forget-recent').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=recent-project]').length === 1);
  assert.deepEqual((await calls(page, 'forget_recent_project'))[0].args, { dir: '/home/ana/old/blog' }, 'only the vanished folder is forgotten');

  await openSample(page);
  assert.match(await text(page, 'project-name'), /hello-site/);
  await tab(page, 'settings');
  assert.equal(await page.getByTestId('field-name').inputValue(), 'hello-site');
  assert.equal(await page.getByTestId('save').isDisabled(), true, 'nothing to save before a change');
  await page.getByTestId('finding').first().waitFor();
  assert.equal(await page.getByTestId('finding').count(), 2, 'both pre-flight findings are listed');
  assert.match(await text(page, 'context-summary'), /4 files/);

  await page.getByTestId('field-memory').selectOption('4096');
  await page.getByTestId('problem-task.memory').waitFor();
  assert.match(await text(page, 'problem-task.memory'), /With 256 CPU units Fargate accepts 512, 1024, 2048 MiB/);
  assert.equal(await page.getByTestId('save').isDisabled(), true, 'a problem blocks saving');
  assert.equal(await page.getByTestId('tab-settings').locator('.tab-mark').count(), 1, 'the Settings tab is marked');
  assert.match(await text(page, 'tab-settings'), /has problems to fix/, 'and says why to a screen reader');
  await page.screenshot({ path: join(shots, 'project-invalid.png') });
  await tab(page, 'local');
  assert.match(await text(page, 'build-blocker'), /Fix the settings/);
  assert.equal(await page.getByTestId('build').isDisabled(), true);

  await tab(page, 'settings');
  assert.equal(await page.getByTestId('field-memory').inputValue(), '4096', 'the edit is kept while another tab is shown');
  await page.getByTestId('add-env').click();
  await page.locator('#env-name-1').fill('1BAD');
  // The new row's empty name is a problem at once; the typed one replaces it.
  await page.getByTestId('problem-env-1').getByText('"1BAD" is not').waitFor();
  assert.match(await text(page, 'problem-env-1'), /"1BAD" is not/, 'a row problem sits next to its row');
  await page.getByRole('button', { name: 'Remove 1BAD' }).click();
  await page.getByTestId('problem-env-1').waitFor({ state: 'detached' });

  await page.getByTestId('field-memory').selectOption('1024');
  await page.getByTestId('problem-task.memory').waitFor({ state: 'detached' });
  await page.getByTestId('save').click();
  await page.getByTestId('saved-note').waitFor();
  const saved = (await calls(page, 'save_project')).at(-1).args;
  assert.deepEqual(saved.config.task, { cpu: 256, memory: 1024 }, 'the fixed size is what is written');
  assert.deepEqual(saved.config.env, project.sample.config.env, 'the removed row is not written');
  await tab(page, 'local');
  assert.equal(await page.getByTestId('build').isEnabled(), true, 'saved settings can be built');
  assert.equal((await calls(page, 'check_project')).length, 2, 'pre-flight runs on open and after save');

  await tab(page, 'settings');
  await page.getByTestId('field-cpu').selectOption('4096');
  assert.equal(await page.getByTestId('field-memory').inputValue(), '8192', 'a CPU change moves memory to the smallest size that fits');
  assert.deepEqual(errors, []);
  await page.close();
});

test('A build shows its steps, layers and output while it runs, then names the new release', async () => {
  const { page, errors } = await open({ pauseBuild: true });
  await openSample(page);
  await tab(page, 'local');
  await page.getByTestId('build').click();
  await page.getByText('Step 2 of 4').waitFor();
  assert.match(await text(page, 'layer'), /Downloading/);
  assert.match(await text(page, 'build-output'), /Step 1\/4 : FROM busybox:1\.36/);
  assert.match(await text(page, 'build-elapsed'), /^0:0\d$/);
  await page.screenshot({ path: join(shots, 'project-building.png') });

  await page.evaluate(() => window.__SLIPWAY_MOCK__.resumeBuild());
  await page.getByTestId('build-result').waitFor();
  assert.equal(await text(page, 'build-result'), `Release ${newest} built in 4.2 s`);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=release-row]').length === 3);
  const first = page.getByTestId('release-row').first();
  assert.equal(await first.getByTestId('release-version').textContent(), newest, 'the new release is listed first');
  assert.equal(await first.getByTestId('badge-latest').count(), 1, 'and is the latest');
  assert.deepEqual(errors, []);
  await page.close();
});

test('A failing build names the failing step and shows that step\'s output', async () => {
  const { page } = await open({ buildFails: true });
  await openSample(page);
  await tab(page, 'local');
  await page.getByTestId('build').click();
  const failure = page.getByRole('alert').filter({ hasText: 'The build failed' });
  await failure.waitFor();
  assert.match(await failure.textContent(), /at step 3\/4 \(RUN \.\/generate-pages\.sh\)/);
  const output = await text(page, 'build-failure-output');
  assert.match(output, /generate-pages\.sh: not found/);
  assert.doesNotMatch(output, /5e6f7a8b9c0d/, 'only the failing step\'s lines, not the earlier steps\'');
  assert.equal(await page.getByTestId('build-result').count(), 0);
  await page.screenshot({ path: join(shots, 'project-build-failed.png') });
  assert.equal(await page.getByTestId('build').isEnabled(), true, 'the user can build again after fixing');
  await page.close();
});

test('Cancel stops a running build and says so', async () => {
  const { page } = await open({ pauseBuild: true });
  await openSample(page);
  await tab(page, 'local');
  await page.getByTestId('build').click();
  await page.getByText('Step 2 of 4').waitFor();
  await page.getByTestId('build-cancel').click();
  await page.getByTestId('build-cancelled').waitFor();
  assert.equal(await text(page, 'build-cancelled'), 'Build cancelled.');
  assert.equal((await calls(page, 'cancel_job')).length, 1);
  await page.close();
});

test('The preview shows its address, health and logs, and Stop removes it', async () => {
  const { page, errors } = await open({});
  await openSample(page);
  await tab(page, 'local');
  await page.getByTestId('start-preview').click();
  await page.getByTestId('preview-url').waitFor();
  assert.equal(await text(page, 'preview-url'), project.preview.url);
  await page.getByTestId('preview-health').filter({ hasText: 'Healthy' }).waitFor();
  await page.getByTestId('preview-logs').filter({ hasText: 'not writable' }).waitFor();
  assert.match(await text(page, 'preview-logs'), /url:\//);
  assert.equal(await page.getByTestId('preview-logs').locator('.error').count(), 1, 'only the line the engine reads as an error is red, not every stderr line');
  await page.getByTestId('badge-running').waitFor();
  const running = page.getByTestId('release-row').filter({ has: page.getByTestId('badge-running') });
  assert.equal(
    await running.getByTestId('release-version').textContent(),
    project.build.release.version,
    'Run preview builds the folder first and runs the release with its content',
  );
  assert.equal((await calls(page, 'start_preview'))[0].args.version, project.build.release.version);
  await page.screenshot({ path: join(shots, 'project.png'), fullPage: true });

  await page.getByRole('button', { name: 'Open in browser' }).click();
  await page.waitForFunction(() => window.__SLIPWAY_CALLS__.some((c) => c.cmd === 'plugin:opener|open_url'));
  assert.equal((await calls(page, 'plugin:opener|open_url'))[0].args.url, project.preview.url);
  await page.getByTestId('copy-url').click();
  await page.getByTestId('copy-note').waitFor();
  assert.match(await text(page, 'copy-note'), /^Copied$|refused the clipboard/, 'copying says whether it worked');

  await page.getByTestId('stop-preview').click();
  await page.getByTestId('start-preview').waitFor();
  assert.deepEqual((await calls(page, 'stop_preview'))[0].args, { app: 'hello-site' });
  const watch = (await calls(page, 'watch_preview'))[0].args.jobId;
  assert.ok((await calls(page, 'cancel_job')).some((c) => c.args.jobId === watch), 'the log stream is cancelled');
  await page.getByTestId('badge-running').waitFor({ state: 'detached' });
  assert.deepEqual(errors, []);
  await page.close();
});

test('A preview that was already running is shown, and rolling back moves the running badge', async () => {
  const { page, errors } = await open({ runningVersion: previous });
  await openSample(page);
  await tab(page, 'local');
  await page.getByTestId('preview-url').waitFor();
  assert.equal(await text(page, 'preview-version'), previous, 'the running preview is picked up on open');
  const newestRow = page.locator(`[data-testid=release-row][data-version="${previous}"]`);
  const olderRow = page.locator(`[data-testid=release-row][data-version="${oldest}"]`);
  await newestRow.getByTestId('badge-running').waitFor();
  assert.equal(await newestRow.getByTestId('run-release').count(), 0, 'the running release has no button');
  assert.equal(await olderRow.getByTestId('run-release').textContent(), 'Roll back to this');

  await olderRow.getByTestId('run-release').click();
  await olderRow.getByTestId('badge-running').waitFor();
  assert.deepEqual((await calls(page, 'rollback_local'))[0].args, { dir: project.sample.dir, to: oldest });
  assert.equal(await newestRow.getByTestId('badge-running').count(), 0);
  assert.equal(await newestRow.getByTestId('run-release').textContent(), 'Run this release');
  assert.equal(await text(page, 'preview-version'), oldest);
  assert.equal((await calls(page, 'watch_preview')).length, 2, 'the logs are followed afresh for the new container');
  assert.deepEqual(errors, []);
  await page.close();
});

test('Previews keep running when the window moves to another project, and the sidebar shows them with Open and Stop', async () => {
  const shop = { app: 'shop', projectDir: project.picked.dir, version: '20261201-090000', url: 'http://127.0.0.1:49200/' };
  const { page, errors } = await open({ otherPreviews: [shop] });
  await openSample(page);
  const sidebar = page.getByTestId('sidebar-previews');
  await sidebar.locator('[data-app=shop]').waitFor();
  await tab(page, 'local');
  await page.getByTestId('start-preview').click();
  await sidebar.locator('[data-app=hello-site]').waitFor();
  assert.equal(await sidebar.locator('[data-app=hello-site]').getByTestId('sidebar-preview-stop').count(), 0, 'the open project stops its preview on its own page');

  // Its name opens that project; the sample's preview goes on running and is listed.
  await sidebar.getByTestId('sidebar-preview-project').filter({ hasText: 'shop' }).click();
  await page.getByTestId('project-name').filter({ hasText: 'shop' }).waitFor();
  const sample = sidebar.locator('[data-app=hello-site]');
  await sample.getByTestId('sidebar-preview-stop').waitFor();
  assert.equal((await calls(page, 'stop_preview')).length, 0, 'switching projects stops nothing');
  await page.screenshot({ path: join(shots, 'sidebar-previews.png') });

  await sample.getByTestId('sidebar-preview-stop').click();
  await sample.waitFor({ state: 'detached' });
  assert.deepEqual((await calls(page, 'stop_preview'))[0].args, { app: 'hello-site' });
  assert.deepEqual(errors, []);
  await page.close();
});

test('A newer Slipway is offered on start; a download whose signature does not match installs nothing and says so', async () => {
  const failure = { code: 'UpdateFailed', message: 'Slipway 9.9.9 was not installed: the signature does not match. This version goes on running.' };
  const { page, errors } = await open({ update: { version: '9.9.9', current: '0.1.0', notes: 'Faster deploys.' }, updateFails: failure });
  await page.getByTestId('update-banner').waitFor();
  assert.match(await text(page, 'update-banner'), /Slipway 9\.9\.9 is available \(you have 0\.1\.0\)/);
  await page.getByTestId('update-install').click();
  await page.getByTestId('update-failure').waitFor();
  assert.equal(await text(page, 'update-failure'), failure.message);
  await page.getByRole('button', { name: 'Later' }).click();
  await page.getByTestId('update-banner').waitFor({ state: 'detached' });
  assert.equal((await calls(page, 'check_update')).length, 1, 'asked once, on start');
  assert.deepEqual(errors, []);
  await page.close();
});

test('A preview that dies says why, in words', async () => {
  const message = 'The container ran out of its 512 MiB and was killed (on Fargate: OutOfMemoryError, exit 137). Raise the task\'s memory.';
  const { page } = await open({ runningVersion: previous, previewExits: { exitCode: 137, oomKilled: true, message } });
  await openSample(page);
  await tab(page, 'local');
  await page.getByTestId('preview-exited').waitFor();
  assert.match(await text(page, 'preview-exited'), /ran out of its 512 MiB/);
  assert.match(await text(page, 'preview-health'), /Not checked/);
  await page.close();
});

test('Without Docker, the project screen says so and points to the Environment screen', async () => {
  const dockerDown = {
    code: 'DockerUnavailable',
    message: 'Docker is not running at unix:///var/run/docker.sock: the connection was refused. Start Docker Desktop, Colima (`colima start`), OrbStack or Rancher Desktop, then press Check again.',
  };
  const { page } = await open({ dockerDown, docker: dockerRunning, aws, identity: verified });
  await page.getByTestId('open-sample').click();
  await page.getByTestId('project-name').waitFor();
  const banner = page.getByRole('alert').filter({ hasText: 'Docker is not running' }).first();
  await banner.waitFor();
  await banner.getByRole('button', { name: 'Open the Environment screen' }).click();
  await page.getByTestId('docker-version').waitFor();
  await page.getByTestId('nav-project').click();
  assert.match(await text(page, 'project-name'), /hello-site/, 'the open project is still there');
  await page.close();
});

test('A folder without slipway.toml opens as a proposal that must be saved before building, and unsaved edits are not dropped silently', async () => {
  const { page, errors } = await open({ pickedFolder: project.picked.dir });
  await page.getByTestId('open-folder').click();
  await page.getByTestId('project-name').waitFor();
  assert.match(await text(page, 'project-name'), /shop/);
  await page.getByText('Not saved yet').waitFor();
  await tab(page, 'local');
  assert.match(await text(page, 'build-blocker'), /Save the settings first/);
  await tab(page, 'settings');
  assert.equal(await page.getByTestId('save').isEnabled(), true, 'a proposal can be saved as it is');

  await page.getByTestId('field-name').fill('shop-api');
  await page.getByTestId('close-project').click();
  await page.getByTestId('unsaved-warning').waitFor();
  await page.getByRole('button', { name: 'Keep editing' }).click();
  assert.equal(await page.getByTestId('field-name').inputValue(), 'shop-api', 'the edit is still there');
  await page.getByTestId('close-project').click();
  await page.getByRole('button', { name: 'Discard changes' }).click();
  await page.getByTestId('open-sample').waitFor();
  assert.deepEqual(errors, []);
  await page.close();
});

test('Use an existing image makes a project that deploys it, and its settings show the image instead of a Dockerfile', async () => {
  const { page, errors } = await open({});
  await page.getByTestId('use-image').click();
  await page.getByTestId('image-ref').fill('ghcr.io/dbward-dev/dbward-server:');
  await page.getByTestId('problem-image').waitFor();
  assert.match(await text(page, 'problem-image'), /Nothing follows the ':'/);
  assert.equal(await page.getByTestId('create-image-project').isEnabled(), false, 'a malformed image cannot be created');

  await page.getByTestId('image-ref').fill('ghcr.io/dbward-dev/dbward-server:v0.1.3');
  await page.getByTestId('problem-image').waitFor({ state: 'detached' });
  assert.equal(await page.getByTestId('image-name').inputValue(), 'dbward-server');
  assert.equal(await page.getByTestId('image-dir').inputValue(), '/home/ana/Slipway/dbward-server');
  await page.screenshot({ path: join(shots, 'image-project.png') });
  await page.getByTestId('create-image-project').click();
  await page.getByTestId('project-name').waitFor();
  assert.match(await text(page, 'project-name'), /dbward-server/);
  await tab(page, 'settings');
  assert.equal(await page.getByTestId('field-image').inputValue(), 'ghcr.io/dbward-dev/dbward-server:v0.1.3');
  assert.equal(await page.getByLabel('Dockerfile').count(), 0, 'an image project has no Dockerfile to set');
  const [created] = await calls(page, 'create_image_project');
  assert.deepEqual(created.args.request, {
    image: 'ghcr.io/dbward-dev/dbward-server:v0.1.3',
    name: 'dbward-server',
    dir: '/home/ana/Slipway/dbward-server',
  });
  assert.deepEqual(errors, []);
  await page.close();
});

// AWS: connecting, the account banner, setup as plan then apply, access keys, the endpoint
// override and teardown, against the account in tests/fixtures/aws.json.

const kinds = ['repository', 'cluster', 'logGroup', 'executionRole', 'securityGroup', 'subnets'];
const resourceState = (page, kind) =>
  page.locator(`[data-testid=setup-resource][data-kind=${kind}] [data-testid=resource-state]`);

test('Connect names the account on every screen; the plan lists each resource, and Apply makes every one ready', async () => {
  const { page, errors } = await open({ pauseSetup: true, docker: dockerRunning });
  await openSample(page);
  await tab(page, 'aws');
  assert.equal(await page.getByTestId('account-banner').count(), 0, 'no banner before connecting');
  assert.equal(await page.getByTestId('apply-setup').isDisabled(), true, 'nothing to apply before a plan');
  await page.getByTestId('aws-connect').click();
  await page.getByTestId('account-banner').waitFor();
  const banner = await text(page, 'account-banner');
  assert.match(banner, /123456789012/);
  assert.match(banner, /us-west-2/);
  assert.equal(await page.getByTestId('emulator-badge').count(), 0, 'real AWS has no emulator badge');
  await page.getByTestId('nav-environment').click();
  await page.getByTestId('docker-version').waitFor();
  assert.match(await text(page, 'account-banner'), /123456789012/, 'the banner stays in view on the other screens');
  await page.getByTestId('nav-project').click();
  assert.equal(await page.getByTestId('tab-panel').getAttribute('data-tab'), 'aws', 'the project is as it was left');

  // The options are saved to slipway.toml by Review plan, and shape the plan.
  assert.equal(await page.getByTestId('open-to-everyone').count(), 1, 'an open port is called out before any plan');
  await page.getByTestId('only-my-ip').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=allow-from]').value === '203.0.113.7/32');
  assert.equal(await page.getByTestId('open-to-everyone').count(), 0);
  await page.getByTestId('log-retention').selectOption('90');
  await page.getByTestId('plan-setup').click();
  await page.getByTestId('setup-resource').first().waitFor();
  const saved = (await calls(page, 'save_project')).at(-1).args.config.aws;
  assert.deepEqual(saved, { profile: null, region: null, vpc: null, allowFrom: '203.0.113.7/32', logRetentionDays: 90 });
  assert.equal(await page.getByTestId('setup-warning').count(), 0, 'no open-port warning for one address');
  assert.equal(await page.getByTestId('setup-resource').count(), 6);
  for (const kind of kinds.slice(0, 5)) {
    assert.match(await resourceState(page, kind).textContent(), /Will be created/, `${kind} will be created`);
  }
  assert.match(await page.locator('[data-testid=setup-resource][data-kind=logGroup]').textContent(), /keeps logs 90 days/);
  assert.match(await page.locator('[data-testid=setup-resource][data-kind=subnets]').textContent(), /subnet-0a1b2c3d4e5f60718/);
  assert.match(await page.locator('[data-testid=setup-resource][data-kind=subnets]').textContent(), /Not created by Slipway — used as is, kept on teardown/);

  await page.getByTestId('apply-setup').click();
  await resourceState(page, 'repository').filter({ hasText: 'Working…' }).waitFor();
  assert.doesNotMatch(await resourceState(page, 'repository').textContent(), /Ready/, 'a resource being worked on is not ready');
  assert.equal(await page.getByTestId('plan-setup').count(), 0, 'no second plan while applying');
  assert.equal(await page.getByTestId('apply-setup').isDisabled(), true);
  await page.screenshot({ path: join(shots, 'setup-applying.png'), fullPage: true });
  await page.evaluate(() => window.__SLIPWAY_MOCK__.resumeSetup());
  for (const kind of kinds) {
    await resourceState(page, kind).filter({ hasText: 'Ready' }).waitFor();
  }
  await page.getByTestId('setup-nothing-to-do').waitFor();
  assert.match(await page.locator('[data-testid=setup-resource][data-kind=executionRole]').textContent(), /write the policy slipway-execution/, 'what was done stays listed');
  assert.equal(await page.getByTestId('apply-setup').isDisabled(), true, 'nothing left to apply');
  await page.screenshot({ path: join(shots, 'setup-ready.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test('A failing apply says why at the resource it stopped at, and that Apply continues from there', async () => {
  const { page, errors } = await open({ setupFails: true });
  await openSample(page);
  await tab(page, 'aws');
  await page.getByTestId('plan-setup').click();
  await page.getByTestId('account-banner').waitFor();
  await page.getByTestId('setup-warning').waitFor();
  assert.match(await text(page, 'setup-warning'), /0\.0\.0\.0\/0/, 'the plan warns about an open port');
  await page.getByTestId('apply-setup').click();
  const row = page.locator('[data-testid=setup-resource][data-kind=executionRole]');
  await row.getByTestId('resource-failure').waitFor();
  assert.match(await row.getByTestId('resource-failure').textContent(), /iam:CreateRole/);
  assert.match(await page.getByRole('alert').filter({ hasText: 'Could not create the IAM role' }).textContent(), /AccessDenied/);
  assert.match(await text(page, 'setup-stopped'), /kept/);
  assert.match(await resourceState(page, 'repository').textContent(), /Ready/, 'what was made before stays ready');
  assert.equal(await page.getByTestId('apply-setup').textContent(), 'Apply again');
  assert.equal(await page.getByTestId('apply-setup').isEnabled(), true);
  await page.screenshot({ path: join(shots, 'setup-failed.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test('Without credentials, Connect points at adding an access key; the key is saved, chosen, and never left on screen', async () => {
  const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
  const { page, errors } = await open({
    connectFails: { code: 'NoCredentials', message: 'No AWS credentials were found. Add an access key profile, run `aws configure`, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.' },
  });
  await openSample(page);
  await page.getByTestId('aws-connect').click();
  await page.getByTestId('aws-connect-hint').waitFor();
  assert.match(await text(page, 'aws-connect-hint'), /Add an access key/);
  assert.equal(await page.getByTestId('account-banner').count(), 0);

  await page.getByTestId('add-access-key').click();
  assert.equal(await page.getByTestId('key-secret').getAttribute('type'), 'password');
  assert.equal(await page.getByTestId('key-secret').getAttribute('autocomplete'), 'off');
  await page.getByTestId('key-name').fill('default');
  await page.getByTestId('key-id').fill('AKIAIOSFODNN7EXAMPLE');
  await page.getByTestId('key-secret').fill(secret);
  await page.getByTestId('save-access-key').click();
  await page.getByTestId('problem-key-name').waitFor();
  await page.getByTestId('aws-card').screenshot({ path: join(shots, 'aws-add-key.png') });
  assert.match(await text(page, 'problem-key-name'), /already exists/, 'a taken name is refused next to the field');
  assert.equal(await page.getByTestId('key-secret').inputValue(), '', 'the secret is cleared after a refusal too');

  await page.getByTestId('key-name').fill('demo');
  await page.getByTestId('key-region').fill('eu-central-1');
  await page.getByTestId('key-secret').fill(secret);
  await page.getByTestId('save-access-key').click();
  await page.getByTestId('access-key-added').waitFor();
  const sent = (await calls(page, 'add_access_key_profile')).at(-1).args.request;
  assert.deepEqual(sent, { name: 'demo', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: secret, region: 'eu-central-1' });
  assert.equal(await page.getByTestId('aws-profile-select').inputValue(), 'demo', 'the new profile is chosen');
  assert.match(await page.getByTestId('aws-profile-select').textContent(), /demo — Access keys, eu-central-1/);
  assert.equal(await page.getByTestId('access-key-form').count(), 0, 'the form closes');
  const onScreen = await page.evaluate(() => [document.documentElement.outerHTML, ...[...document.querySelectorAll('input')].map((i) => i.value)].join('\n'));
  assert.equal(onScreen.includes(secret), false, 'the secret is nowhere in the page');
  assert.deepEqual(errors, []);
  await page.close();
});

test('The endpoint override is checked, saved, and shows as an emulator in the status and the account banner', async () => {
  const { page, errors } = await openEnvironment({ docker: dockerRunning, aws, identity: verified });
  await page.getByTestId('endpoint-status').waitFor();
  assert.equal(await text(page, 'endpoint-status'), 'AWS calls go to AWS');
  await page.getByTestId('endpoint-input').fill('127.0.0.1:5055');
  await page.getByTestId('save-endpoint').click();
  await page.getByTestId('problem-endpoint').waitFor();
  assert.match(await text(page, 'problem-endpoint'), /not an http:\/\/ or https:\/\/ address/);
  assert.equal(await text(page, 'endpoint-status'), 'AWS calls go to AWS', 'nothing changed');

  await page.getByTestId('endpoint-input').fill('http://127.0.0.1:5055');
  await page.getByTestId('save-endpoint').click();
  await page.getByTestId('endpoint-status').filter({ hasText: 'emulator' }).waitFor();
  assert.equal(await text(page, 'endpoint-status'), 'AWS calls go to http://127.0.0.1:5055 (an emulator), not AWS');
  assert.deepEqual((await calls(page, 'save_app_settings')).at(-1).args, { settings: { awsEndpointUrl: 'http://127.0.0.1:5055' } });

  await page.getByTestId('nav-project').click();
  await openSample(page);
  await page.getByTestId('aws-connect').click();
  await page.getByTestId('account-banner').waitFor();
  assert.match(await text(page, 'account-banner'), /Emulator\s*http:\/\/127\.0\.0\.1:5055/);

  // A new endpoint makes the identity doubtful: the banner goes until the next connect.
  await page.getByTestId('nav-environment').click();
  await page.getByTestId('clear-endpoint').click();
  await page.getByTestId('endpoint-status').filter({ hasText: 'AWS calls go to AWS' }).waitFor();
  assert.equal(await page.getByTestId('account-banner').count(), 0);
  await page.screenshot({ path: join(shots, 'environment-endpoint.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await page.close();
});

test('Teardown lists what it removes and what it keeps, asks for the app name, then says what is left', async () => {
  const { page, errors } = await open({ setUp: true });
  await openSample(page);
  await tab(page, 'aws');
  await page.getByTestId('plan-teardown').click();
  await page.getByTestId('teardown-item').first().waitFor();
  assert.match(await text(page, 'account-banner'), /123456789012/, 'the account is named before the plan');
  assert.equal(await page.getByTestId('teardown-item').count(), 5);
  const removed = page.locator('[data-testid=teardown-item][data-action=remove]');
  const keptItem = page.locator('[data-testid=teardown-item][data-action=keep]');
  assert.equal(await removed.count(), 4);
  assert.match(await removed.filter({ hasText: 'CloudWatch log group' }).textContent(), /the app's logs are deleted with it/);
  assert.match(await keptItem.textContent(), /ECR repository.*not created by Slipway/s);

  await page.getByTestId('confirm-teardown').click();
  assert.equal(await page.getByTestId('apply-teardown').isDisabled(), true, 'deleting waits for the app name');
  await page.getByTestId('teardown-confirm-input').fill('hello-site');
  await page.screenshot({ path: join(shots, 'teardown-confirm.png'), fullPage: true });
  await page.getByTestId('apply-teardown').click();
  await page.getByTestId('teardown-result').waitFor();
  assert.match(await text(page, 'teardown-result'), /Left as they were.*ECR repository/s);
  assert.equal(await removed.filter({ hasText: 'Removed' }).count(), 4, 'every removal is marked done');
  assert.equal((await calls(page, 'apply_teardown')).length, 1);
  assert.deepEqual(errors, []);
  await page.close();
});

// Deploying: the steps as they happen, the address that answers or the diagnosis of a
// task that stopped, what runs on AWS, and deploys an earlier run left unfinished
// (tests/fixtures/deploy.json).

const step = (page, name) => page.locator(`[data-testid=deploy-step][data-step=${name}]`);

/** Connects the open project to AWS from the Overview's guide and waits for the Overview of
 * an app deployed before (the Deploy card and what runs). */
async function connectDeployed(page) {
  await page.getByTestId('aws-connect').click();
  await page.getByTestId('status-card').waitFor();
  await page.getByTestId('deploy-card').waitFor();
}
const newTask = deploy.success.outcome.taskIds[0];
const previousTask = deploy.statusBefore.tasks[0].taskId;

test('A deploy shows each step as it goes, then the address, the answer and the previous task stopped', async () => {
  const { page, errors } = await open({ setUp: true, pauseDeploy: true });
  await openSample(page);
  await connectDeployed(page);
  await page.locator(`[data-testid=status-task][data-task="${previousTask}"]`).waitFor();
  assert.equal(await page.getByTestId('deploy-mode-task').isChecked(), true, 'a standalone task is the default');
  assert.equal(await page.getByTestId('keep-previous').isChecked(), false);
  assert.match(await text(page, 'deploy-card'), /so you don't pay twice/);
  await page.getByTestId('deploy-button').click();
  await page.getByTestId('push-progress').filter({ hasText: 'layer 3 of 3' }).waitFor();
  assert.match(await text(page, 'account-banner'), /123456789012/, 'the account is named before anything changes');
  assert.equal(await step(page, 'push').getAttribute('data-state'), 'running');
  assert.equal(await step(page, 'register').getAttribute('data-state'), 'pending');
  assert.match(await text(page, 'deploy-deadline'), /^deadline in (10:00|9:\d\d)$/);
  assert.deepEqual(
    (await calls(page, 'deploy'))[0].args.request,
    { mode: 'task', keepPrevious: false, version: project.build.release.version },
    'Deploy builds the folder first and sends the release with its content',
  );
  await page.getByTestId('deploy-card').screenshot({ path: join(shots, 'deploy-running.png') });

  await page.evaluate(() => window.__SLIPWAY_MOCK__.resumeDeploy());
  await page.getByTestId('deploy-url').waitFor();
  for (const name of ['push', 'register', 'start', 'wait', 'verify', 'retire']) {
    assert.equal(await step(page, name).getAttribute('data-state'), 'done', `${name} is done`);
  }
  assert.equal(await page.getByTestId('taskdef-changes').locator('li').count(), 2, 'what changed in the task definition is listed');
  const timeline = page.locator(`[data-testid=task-timeline][data-task="${newTask}"]`);
  const chips = timeline.getByTestId('task-state');
  assert.equal(await chips.count(), 4);
  assert.equal(await chips.nth(1).getAttribute('data-status'), 'PENDING');
  assert.equal(await chips.nth(1).textContent(), 'PENDING · 4.2 s in PROVISIONING');
  assert.equal(await text(page, 'deploy-url'), deploy.success.outcome.url);
  assert.match(await text(page, 'deploy-answer'), /<h1>Hello from Slipway<\/h1>/);
  assert.match(await text(page, 'deploy-previous'), new RegExp(`Stopped the previous task ${previousTask}`));
  assert.equal(await page.getByTestId('cancel-deploy').count(), 0);

  await page.getByTestId('deploy-open').click();
  await page.waitForFunction(() => window.__SLIPWAY_CALLS__.some((c) => c.cmd === 'plugin:opener|open_url'));
  assert.equal((await calls(page, 'plugin:opener|open_url'))[0].args.url, deploy.success.outcome.url);
  await page.locator(`[data-testid=status-task][data-task="${newTask}"]`).waitFor();
  assert.equal(await page.locator(`[data-testid=status-task][data-task="${previousTask}"]`).count(), 0, 'what runs is read again after the deploy');
  assert.equal(await text(page, 'app-header-url'), deploy.success.outcome.url, 'the live address sits in the page header');
  assert.equal(await page.getByTestId('deploy-gone').count(), 0, 'the new release answers');
  await page.getByTestId('deploy-card').screenshot({ path: join(shots, 'deploy-answered.png') });

  await page.getByTestId('status-stop').click();
  await page.getByTestId('status-card').screenshot({ path: join(shots, 'deploy-status.png') });
  assert.match(await text(page, 'status-stop-question'), /This stops 1 task of hello-site.*you stop paying for it/);
  await page.getByTestId('status-stop-confirm').click();
  await page.getByTestId('status-no-tasks').waitFor();
  assert.equal(await text(page, 'status-stopped'), 'Stopped 1 task.');
  await page.getByTestId('deploy-gone').waitFor();
  assert.match(await text(page, 'deploy-gone'), /no longer runs there\. Nothing of the app runs on AWS now/);
  assert.equal(await page.getByTestId('deploy-open').count(), 0, 'a gone address is not offered to open');
  assert.match(await text(page, 'app-header'), /Not running on AWS/);
  await page.getByTestId('deploy-card').screenshot({ path: join(shots, 'deploy-gone.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

test('A task that stops is explained: cause, fix, AWS\'s words and its last log lines', async () => {
  const { page, errors } = await open({ setUp: true, deployFails: true });
  await openSample(page);
  await connectDeployed(page);
  await page.getByTestId('deploy-button').click();
  await page.getByTestId('deploy-failure').waitFor();
  const { diagnosis, lastLogLines } = deploy.failure.events.at(-1).data;
  assert.equal(await text(page, 'diagnosis-cause'), diagnosis.cause);
  assert.equal(await page.getByTestId('diagnosis-cause').evaluate((e) => e.tagName), 'STRONG', 'the cause is bold');
  assert.equal(await text(page, 'diagnosis-fix'), diagnosis.fix);
  assert.equal(await text(page, 'diagnosis-evidence'), `AWS said: ${diagnosis.evidence}`);
  assert.match(await text(page, 'deploy-logs'), new RegExp(lastLogLines[1]));
  assert.equal(await step(page, 'wait').getAttribute('data-state'), 'failed');
  assert.equal(await step(page, 'verify').getAttribute('data-state'), 'pending');
  assert.match(await text(page, 'taskdef-changes'), /unchanged: revision 4 reused/);
  assert.equal(await page.locator('[data-testid=task-state][data-status=STOPPED]').count(), 1);
  assert.equal(await page.getByTestId('deploy-error').count(), 0, 'the diagnosis is not repeated as an error');
  assert.equal(await page.getByTestId('deploy-url').count(), 0);
  await page.getByTestId('deploy-card').screenshot({ path: join(shots, 'deploy-failed.png') });
  assert.equal(await page.getByTestId('deploy-button').textContent(), 'Deploy again');
  assert.deepEqual(errors, []);
  await page.close();
});

test('A service deploy lists the service\'s events; before setup, Deploy says to run Set up first', async () => {
  const { page, errors } = await open({ setUp: true });
  await openSample(page);
  await connectDeployed(page);
  await page.getByTestId('deploy-mode-service').check();
  assert.equal(await page.getByTestId('keep-previous').count(), 0, 'keeping the previous task is for task mode');
  await page.getByTestId('deploy-button').click();
  await page.getByTestId('deploy-url').waitFor();
  assert.deepEqual((await calls(page, 'deploy'))[0].args.request, {
    mode: 'service',
    keepPrevious: false,
    version: project.build.release.version,
  });
  assert.equal(await page.getByTestId('service-event').count(), 3);
  assert.match(await page.getByTestId('service-event').last().textContent(), /deployment completed/);
  assert.match(await text(page, 'deploy-previous'), /service keeps this task running/);
  await page.close();

  // Not set up: once the plan has read the account, Deploy waits, says why and leads to Set up.
  const before = await open({});
  await openSample(before.page);
  await connectDeployed(before.page);
  await tab(before.page, 'aws');
  await before.page.getByTestId('plan-setup').click();
  await before.page.getByTestId('setup-resource').first().waitFor();
  await tab(before.page, 'overview');
  await before.page.getByTestId('deploy-blocker').waitFor();
  assert.match(await text(before.page, 'deploy-blocker'), /setup is not complete.*Set it up first/s);
  assert.equal(await before.page.getByTestId('deploy-button').isDisabled(), true, 'Deploy waits for setup');
  assert.equal(await before.page.getByTestId('deploy-step').count(), 0, 'no steps for a deploy that never started');
  assert.equal((await calls(before.page, 'deploy')).length, 0, 'nothing was sent');
  await before.page.getByTestId('deploy-go-setup').click();
  await before.page.locator('[data-testid=tab-panel][data-tab=aws]').waitFor();
  assert.equal(await before.page.getByTestId('apply-setup').isEnabled(), true, 'setting up is one click from there');
  assert.deepEqual([...errors, ...before.errors], []);
  await before.page.close();
});

test('Cancel stops a deploy and says what it stopped or left', async () => {
  const { page } = await open({ setUp: true, pauseDeploy: true });
  await openSample(page);
  await connectDeployed(page);
  await page.getByTestId('deploy-button').click();
  await page.getByTestId('push-progress').waitFor();
  await page.getByTestId('cancel-deploy').click();
  await page.getByTestId('deploy-cancelled').waitFor();
  assert.match(await text(page, 'deploy-cancelled'), /cancelled.*earlier tasks were not touched/);
  assert.equal(await step(page, 'push').getAttribute('data-state'), 'failed', 'the step it stopped in is marked');
  assert.equal((await calls(page, 'cancel_job')).length, 1);
  await page.close();
});

test('A newcomer\'s first deploy follows the guide one step at a time', async () => {
  // A fresh account: nothing set up, nothing ever deployed, nothing runs (or is metered).
  const nothing = { ...deploy.statusBefore.cost, tasks: [], perHour: 0, soFar: 0 };
  const { page, errors } = await open({
    deploy: { ...deploy, statusBefore: { ...deploy.statusBefore, tasks: [], history: [], service: null, cost: nothing } },
  });
  const guide = page.getByTestId('guide');
  let clicks = 0;
  /** Clicks the step's next button, once it is in view without scrolling; a screenshot first shows the step. */
  async function press(testId, why) {
    const button = page.getByTestId(testId);
    await button.waitFor();
    assert.equal(await button.isEnabled(), true, `${why}: ${testId} can be pressed`);
    const box = await button.boundingBox();
    assert.ok(
      box && box.x >= 0 && box.y >= 0 && box.x + box.width <= 1180 && box.y + box.height <= 780,
      `${why}: ${testId} is inside the 1180×780 window (${JSON.stringify(box)})`,
    );
    const scrolled = await page.evaluate(() => [document.querySelector('main.content').scrollTop, window.scrollY]);
    assert.deepEqual(scrolled, [0, 0], `${why}: ${testId} is in view without scrolling`);
    await page.screenshot({ path: join(shots, `first-deploy-${clicks + 1}.png`) });
    await button.click();
    clicks += 1;
  }

  await page.getByTestId('open-sample').waitFor();
  await press('open-sample', 'the welcome');
  await page.getByTestId('project-name').waitFor();
  // The sample has releases already, so trying it here is done: the guide is at Connect.
  await guide.and(page.locator('[data-step=aws]')).waitFor();
  assert.equal(await page.locator('[data-testid=step][data-step="Try it here"]').getAttribute('data-state'), 'done');
  assert.equal(await page.getByTestId('app-header-next').count(), 0, 'the Overview shows the step itself, not a second button for it');
  assert.equal(await guide.getByTestId('deploy-button').count(), 0, 'one step at a time');

  await press('aws-connect', 'connect');
  await guide.and(page.locator('[data-step=setup]')).waitFor();
  assert.equal(await page.getByTestId('cost-banner').count(), 0, 'nothing runs yet, so nothing is metered');
  const words = page.getByTestId('setup-review-words');
  await words.waitFor();
  assert.match(await words.textContent(), /^5 things will be created in your AWS account\./);
  assert.equal(await page.getByTestId('setup-review-resource').count(), 6);
  await page.getByTestId('setup-review-cost').filter({ hasText: '$0.0173' }).waitFor();
  assert.match(
    (await text(page, 'setup-review-cost')).replace(/\s+/g, ' '),
    /These cost nothing until you deploy\. Running the app then costs about \$0\.0173 an hour while it runs \(\$13\.19 for a whole month\)/,
  );
  assert.equal((await calls(page, 'plan_setup')).length, 1, 'the review reads the account by itself');
  assert.equal((await calls(page, 'apply_setup')).length, 0, 'and changes nothing until asked');

  await press('setup-create', 'set up');
  await guide.and(page.locator('[data-step=deploy]')).waitFor();
  assert.equal((await calls(page, 'apply_setup')).length, 1);
  assert.equal(await page.getByTestId('deploy-how').isVisible(), true, 'how it runs is one click away');
  assert.equal(await page.getByTestId('deploy-mode-service').isVisible(), false, 'but folded away');

  await press('deploy-button', 'deploy');
  await page.getByTestId('app-header-url').waitFor();
  assert.equal(await text(page, 'app-header-url'), deploy.success.outcome.url, 'the live address is in the header');
  await guide.waitFor({ state: 'detached' });
  assert.equal(await page.getByTestId('stepper').count(), 0, 'the stepper goes once the app is live');
  assert.equal(await page.getByTestId('status-card').count(), 1, 'the Overview is the app\'s now');
  assert.deepEqual((await calls(page, 'deploy'))[0].args.request, { mode: 'task', keepPrevious: false, version: project.build.release.version });
  await page.screenshot({ path: join(shots, `first-deploy-${clicks + 1}.png`) });
  assert.equal(clicks, 4, `the first deploy took ${clicks} clicks, opening the sample included (at most 8 wanted)`);
  assert.deepEqual(errors, []);
  await page.close();
});

test('A project that connected before connects again on opening and shows what runs; expired credentials are said on the AWS card', async () => {
  const { page, errors } = await open({ setUp: true, connectedBefore: true });
  await openSample(page);
  await page.getByTestId('status-card').waitFor();
  assert.match(await text(page, 'account-banner'), /123456789012/, 'connected without a click');
  assert.equal(await text(page, 'app-header-url'), deploy.statusBefore.tasks[0].url, 'the live address is in the header');
  assert.equal(await page.getByTestId('guide').count(), 0, 'a deployed app is not walked through a first deploy');
  assert.equal((await calls(page, 'connect_project_aws')).length, 0);
  assert.deepEqual(errors, []);
  await page.close();

  const expired = { code: 'SsoSessionExpired', message: 'The SSO session of profile "default" expired. Run `aws sso login` and connect again.' };
  const stale = await open({ setUp: true, connectedBefore: true, connectFails: expired });
  await openSample(stale.page);
  await stale.page.getByTestId('aws-reconnect-failed').waitFor();
  assert.match(await text(stale.page, 'aws-reconnect-failed'), /connecting again on opening failed: The SSO session .* expired/);
  assert.equal(await stale.page.getByTestId('account-banner').count(), 0, 'no account is claimed');
  assert.deepEqual(stale.errors, []);
  await stale.page.close();

  // Connected, but the first reading of what runs fails: the app may be live, so no first
  // deploy is guided; the Overview shows the failure and Refresh reads it again.
  const throttled = { code: 'Throttled', message: 'AWS is throttling requests (Rate exceeded); try again in a moment.' };
  const failing = await open({ setUp: true, connectedBefore: true, statusFailsOnce: throttled });
  await failing.page.getByTestId('open-sample').click();
  await failing.page.getByTestId('status-card').waitFor();
  await failing.page.getByTestId('status-card').getByText('Rate exceeded').waitFor();
  assert.equal(await failing.page.getByTestId('guide').count(), 0, 'no first deploy is guided for an app that may be live');
  assert.match(await text(failing.page, 'app-header'), /Could not read what runs on AWS/);
  await failing.page.getByTestId('status-refresh').click();
  await failing.page.getByTestId('app-header-url').waitFor();
  assert.match(await text(failing.page, 'app-header'), /Live on AWS/);
  assert.deepEqual(failing.errors, []);
  await failing.page.close();
});

test('A deploy left unfinished by an earlier run is shown on every screen until its tasks are stopped or kept', async () => {
  const { page, errors } = await open({ unfinished: true, docker: dockerRunning, aws, identity: verified });
  const [entry] = deploy.unfinished;
  const banner = page.locator(`[data-testid=unfinished-deploy][data-deploy="${entry.id}"]`);
  await banner.waitFor();
  assert.match(await banner.textContent(), /A deploy of shop \(20261121-220140, eu-central-1\) started 3 h ago did not finish\. It started 1 task that may still run and cost money\./);
  await page.getByTestId('nav-environment').click();
  assert.equal(await banner.isVisible(), true, 'the banner stays in view on the other screens');
  await page.screenshot({ path: join(shots, 'deploy-unfinished.png') });
  await banner.getByTestId('unfinished-stop').click();
  await banner.waitFor({ state: 'detached' });
  assert.deepEqual((await calls(page, 'settle_deploy'))[0].args, { deployId: entry.id, stop: true });
  assert.match(await text(page, 'unfinished-settled'), /shop: closed after a restart; stopped 1 task\(s\) it had started/);
  assert.equal((await calls(page, 'unfinished_deploys')).length, 1, 'read once, at start');
  assert.deepEqual(errors, []);
  await page.close();
});
