// The stable address in the window (issue 18), in Debian's Chromium against the built UI with
// Tauri's IPC mocked (tests/ui/tauri-mock.js over tests/fixtures/aws.json and deploy.json):
// the choice in AWS setup, the load balancer's plan and the DNS records to add, a deploy
// behind the load balancer, the header's address that never changes, and scaling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { calls, open, openSample, shots, tab, text, useBrowser } from './harness.mjs';
import project from '../fixtures/project.json' with { type: 'json' };
import cloud from '../fixtures/aws.json' with { type: 'json' };
import deploy from '../fixtures/deploy.json' with { type: 'json' };

useBrowser();

const resourceState = (page, kind) => page.locator(`[data-testid=setup-resource][data-kind=${kind}] [data-testid=resource-state]`);
/** The sample as a project that chose the stable address (slipway.toml says load_balancer = true). */
const balancedSample = (aws = {}) => {
  const balanced = structuredClone(project);
  Object.assign(balanced.sample.config.aws, { loadBalancer: true, ...aws });
  return balanced;
};
const balancerUrl = deploy.balanced.outcome.url;

/** A picture of a card taller than the window: the window grows for it (the content area
 * scrolls, so a full-page shot would not show it), then is as it was. */
async function shoot(page, testId, name) {
  await page.setViewportSize({ width: 1180, height: 2200 });
  await page.getByTestId(testId).screenshot({ path: join(shots, name) });
  await page.setViewportSize({ width: 1180, height: 780 });
}

test('One address that never changes: chosen in setup with a domain and tasks, planned in words, then the DNS records to add', async () => {
  const { page, errors } = await open({});
  await openSample(page);
  await tab(page, 'aws');
  await page.getByTestId('aws-connect').click();
  await page.getByTestId('account-banner').waitFor();

  assert.equal(await page.getByTestId('address-new-each-deploy').isChecked(), true, 'the cheapest is what a project starts with');
  assert.equal(await page.getByTestId('domain').count(), 0, 'no domain field before the stable address is chosen');
  await page.getByTestId('address-stable').check();
  // No estimate with a load balancer in the fixture: the words point to Cost rather than a made-up figure.
  assert.match(await text(page, 'address-cost'), /costs more while it exists, even when no task runs/);
  await page.getByTestId('domain').fill('app.example.com');
  await page.getByTestId('tasks').fill('2');
  assert.equal(await page.getByTestId('sticky-for').count(), 0, 'sticky sessions are off at first');
  await page.getByTestId('sticky').check();
  assert.equal(await page.getByTestId('sticky-for').inputValue(), '3600', 'an hour when turned on');
  await page.getByTestId('sticky-for').selectOption('86400');
  await shoot(page, 'setup-card', 'stable-address-options.png');
  assert.match(await page.locator('#domain-hint').textContent(), /records to add at your DNS provider/);
  await page.getByTestId('setup-options-note').waitFor();

  // Cheapest again: what only the stable address allows is cleared (the engine refuses it
  // without one), and comes back when it is chosen again.
  await page.getByTestId('address-new-each-deploy').check();
  assert.equal(await page.getByTestId('domain').count(), 0);
  await page.getByTestId('address-stable').check();
  assert.equal(await page.getByTestId('domain').inputValue(), 'app.example.com');
  assert.equal(await page.getByTestId('tasks').inputValue(), '2');
  assert.equal(await page.getByTestId('sticky-for').inputValue(), '86400', 'sticky sessions come back too');

  await page.getByTestId('plan-setup').click();
  await resourceState(page, 'loadBalancer').waitFor();
  const saved = (await calls(page, 'save_project')).at(-1).args.config.aws;
  assert.deepEqual(
    { loadBalancer: saved.loadBalancer, domain: saved.domain, tasks: saved.tasks, stickySeconds: saved.stickySeconds },
    { loadBalancer: true, domain: 'app.example.com', tasks: 2, stickySeconds: 86400 },
    'Review plan saves the choice to slipway.toml first',
  );
  for (const kind of ['balancerSecurityGroup', 'loadBalancer', 'targetGroup', 'listener', 'certificate']) {
    assert.match(await resourceState(page, kind).textContent(), /Will be created/, `${kind} will be created`);
  }
  assert.match(await resourceState(page, 'httpsListener').textContent(), /Waiting for the certificate/);
  assert.match(await page.locator('[data-testid=setup-resource][data-kind=loadBalancer]').textContent(), /one address that never changes across deploys and rollbacks/);
  assert.equal(await page.getByTestId('dns-records').count(), 0, 'no record to add before the certificate asks for one');

  await page.getByTestId('apply-setup').click();
  await page.getByTestId('setup-nothing-to-do').waitFor();
  assert.match(await text(page, 'setup-nothing-to-do'), /can be deployed; HTTPS waits for DNS validation/);
  assert.match(await resourceState(page, 'certificate').textContent(), /Waiting for DNS validation/);
  assert.match(await page.locator('[data-testid=setup-resource][data-kind=certificate]').textContent(), /AWS issues the certificate once its validation record resolves/);
  const records = page.getByTestId('dns-record');
  assert.equal(await records.count(), 2, 'the validation CNAME and the domain itself');
  const [validation, alias] = cloud.balancedReadyPlan.dnsRecords;
  assert.equal(await records.nth(0).getByTestId('dns-record-name').textContent(), validation.name);
  assert.equal(await records.nth(0).getByTestId('dns-record-value').textContent(), validation.value);
  assert.equal(await records.nth(1).getByTestId('dns-record-value').textContent(), alias.value);
  await records.nth(0).getByTestId('dns-record-copy-value').click();
  await records.nth(0).getByRole('status').waitFor();
  await page.getByTestId('address-choice').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(shots, 'stable-address-choice.png') });
  await page.getByTestId('dns-records').scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(shots, 'stable-address-setup.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

test('A first deploy with the stable address: the review names the load balancer\'s parts in words, what waits and the records to add, then the header its address', async () => {
  // A fresh account: nothing set up, nothing ever deployed, nothing runs.
  const nothing = { ...deploy.statusBefore.cost, tasks: [], perHour: 0, soFar: 0 };
  const { page, errors } = await open({
    project: balancedSample({ domain: 'app.example.com' }),
    deploy: { ...deploy, statusBefore: { ...deploy.statusBefore, tasks: [], history: [], service: null, cost: nothing } },
  });
  const guide = page.getByTestId('guide');
  await page.getByTestId('open-sample').click();
  await guide.and(page.locator('[data-step=aws]')).waitFor();
  await page.getByTestId('aws-connect').click();
  await guide.and(page.locator('[data-step=setup]')).waitFor();
  await page.getByTestId('setup-review-words').waitFor();
  assert.match(await text(page, 'setup-review-address'), /one address that never changes, through a load balancer/);
  const row = (kind) => page.locator(`[data-testid=setup-review-resource][data-kind=${kind}]`);
  assert.match(await row('loadBalancer').textContent(), /Will be created.*one address that never changes across deploys and rollbacks/s);
  assert.doesNotMatch(await row('loadBalancer').textContent(), /subnet-/, 'AWS identifiers stay behind Show details');
  assert.match(await row('targetGroup').textContent(), /health check GET \/ every 10 s/);
  assert.match(await row('httpsListener').textContent(), /Waiting for the certificate.*Port 443 is added once the certificate for app\.example\.com is issued/s);
  assert.match(
    (await text(page, 'setup-review-cost')).replace(/\s+/g, ' '),
    /The load balancer bills from the moment it is created, whether the app runs or not; the rest costs nothing until you deploy\./,
  );
  await shoot(page, 'setup-review', 'stable-address-review.png');

  await page.getByTestId('setup-create').click();
  await guide.and(page.locator('[data-step=deploy]')).waitFor();
  // A certificate waiting for DNS validation does not hold the deploy back; a look back at
  // the setup step shows what waits and the records to add.
  await page.locator('[data-testid=step][data-step="Set up"] button').click();
  await guide.and(page.locator('[data-step=setup]')).waitFor();
  assert.match(await text(page, 'setup-review-words'), /HTTPS on your domain waits for DNS validation \(see below\); the app answers over HTTP meanwhile\./);
  assert.match(await row('certificate').textContent(), /Waiting for DNS validation/);
  assert.equal(await page.locator('[data-testid=setup-review] [data-testid=dns-record]').count(), 2);
  await shoot(page, 'setup-review', 'stable-address-records.png');

  await page.locator('[data-testid=step][data-step="Deploy"] button').click();
  await page.getByTestId('deploy-button').click();
  await page.getByTestId('app-header-url').filter({ hasText: balancerUrl }).waitFor();
  assert.match(await text(page, 'app-header-facts'), /address never changes · 1 of 1 task healthy/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('A deploy behind the load balancer: the target\'s health in the timeline, the address that never changes in the header, and scaling to 2', async () => {
  const { page, errors } = await open({ setUp: true, project: balancedSample() });
  await openSample(page);
  await page.getByTestId('aws-connect').click();
  await page.getByTestId('deploy-card').waitFor();
  assert.match(await text(page, 'deploy-balanced'), /behind the load balancer, at one address that never changes/);
  assert.equal(await page.getByTestId('deploy-mode-task').count(), 0, 'no standalone task to choose: the stable address is a service');
  await page.getByTestId('deploy-button').click();
  await page.getByTestId('deploy-url').waitFor();
  assert.equal((await calls(page, 'deploy'))[0].args.request.mode, 'service');
  const rows = page.getByTestId('target-row');
  assert.deepEqual(await rows.locator('.target-said').allTextContents(), [
    'at the load balancer: being registered with the load balancer',
    'at the load balancer: registered; the load balancer is checking its health',
    'at the load balancer: healthy: the load balancer sends it visitors',
  ]);
  assert.equal(await text(page, 'deploy-url'), balancerUrl);
  await shoot(page, 'deploy-card', 'stable-address-deploy.png');

  await page.getByTestId('app-header-url').filter({ hasText: balancerUrl }).waitFor();
  assert.match(await text(page, 'app-header-facts'), /^address never changes · 1 of 1 task healthy · /);
  await page.getByTestId('status-target').waitFor();
  assert.equal(await text(page, 'status-target-said'), 'healthy: the load balancer sends it visitors');
  assert.equal(await text(page, 'status-balancer-url'), balancerUrl);
  assert.match(await text(page, 'status-scaling'), /^Runs 1 task\.$/);

  await page.getByTestId('scale-open').click();
  await page.getByTestId('scale-tasks').fill('2');
  assert.match(await text(page, 'scale-hint'), /About \$0\.0347 an hour for 2 tasks/);
  await page.getByTestId('scale-apply').click();
  await page.getByTestId('scale-result').waitFor();
  assert.match(await text(page, 'scale-result'), /runs 2 tasks \(was 1\)/);
  assert.deepEqual((await calls(page, 'scale_app'))[0].args.request, { tasks: 2, maxTasks: null, cpuTarget: null, requestsTarget: null });
  await page.getByTestId('status-scaling').filter({ hasText: 'Runs 2 tasks' }).waitFor();
  assert.equal(await page.getByTestId('status-target').count(), 2);
  await page.getByTestId('app-header-facts').filter({ hasText: '2 of 2 tasks healthy' }).waitFor();
  await tab(page, 'aws');
  assert.equal(await page.getByTestId('tasks').inputValue(), '2', 'the setup card shows what slipway.toml now says');
  assert.equal(await page.getByTestId('setup-options-note').count(), 0, 'nothing unsaved: the scale saved it');
  await tab(page, 'overview');
  // More when busy, following the requests each task serves.
  await page.getByTestId('scale-open').click();
  await page.getByTestId('scale-auto').check();
  await page.getByTestId('scale-max').fill('4');
  await page.getByTestId('scale-on').selectOption('requests');
  assert.match(await text(page, 'scale-hint'), /each serves more requests a minute than the target/);
  await page.getByTestId('scale-requests').fill('500');
  await shoot(page, 'status-card', 'scale-on-requests.png');
  await page.getByTestId('scale-apply').click();
  await page.getByTestId('scale-result').filter({ hasText: '500 requests a minute' }).waitFor();
  assert.deepEqual((await calls(page, 'scale_app'))[1].args.request, { tasks: 2, maxTasks: 4, cpuTarget: null, requestsTarget: 500 });
  await page.getByTestId('status-scaling').filter({ hasText: 'keeping each task near 500 requests a minute' }).waitFor();
  await shoot(page, 'status-card', 'stable-address-status.png');
  await page.screenshot({ path: join(shots, 'stable-address-overview.png') });
  assert.deepEqual(errors, []);
  await page.close();
});

test('A standalone task\'s new address each deploy points to the address that never changes', async () => {
  const { page, errors } = await open({ setUp: true });
  await openSample(page);
  await page.getByTestId('aws-connect').click();
  await page.getByTestId('deploy-card').waitFor();
  assert.match(await text(page, 'deploy-address-note'), /the address changes with each deploy\. For one that never changes, choose it in AWS setup/);
  await page.getByTestId('deploy-button').click();
  await page.getByTestId('deploy-url').waitFor();
  await page.getByTestId('status-address-changes').waitFor();
  await page.getByTestId('status-stable-address').click();
  await page.locator('[data-testid=tab-panel][data-tab=aws]').waitFor();
  await page.getByTestId('address-stable').waitFor();
  assert.deepEqual(errors, []);
  await page.close();
});
