import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { addressChoice, bakeChoices, bakeCostWords, chooseAddress, perTaskHour, plainFacts, recordLine, stableCostWords, stableExtra, stickyChoices } from './address';
import { deployable, newView, planCounts, planInWords, planSummary, rowState, SetupRun, type AwsReady } from './setup.svelte';
import SetupCard from './SetupCard.svelte';
import SetupReview from './SetupReview.svelte';
import { ProjectSession } from '../project/project.svelte';
import { ProjectCost } from '../cost/cost.svelte';
import { sameAws, sameConfig } from '../project/fields';
import { account } from '../aws/aws.svelte';
import type { AwsSettings, CallerIdentity, CostSheet, Project, SetupPlan, TaskSizeOption } from '../../ipc';
import fixtures from '../../../../../tests/fixtures/project.json';
import cloud from '../../../../../tests/fixtures/aws.json';
import costs from '../../../../../tests/fixtures/cost.json';

afterEach(() => {
  cleanup();
  clearMocks();
  account.follow(null, null);
});

const identity = cloud.identity as CallerIdentity;
const sample = fixtures.sample as Project;
const balancedPlan = () => structuredClone(cloud.balancedPlan) as SetupPlan;
const balancedReady = () => structuredClone(cloud.balancedReadyPlan) as SetupPlan;
const connected: AwsReady = { prepare: async () => ({ config: structuredClone(sample.config), identity }) };

/** The engine's sheet for the sample with a load balancer line in it (as its estimate adds one). */
function sheetWithBalancer(perMonth: number): CostSheet {
  const sheet = structuredClone(costs.sheets[0]) as unknown as CostSheet;
  sheet.inputs.loadBalancer = true;
  sheet.estimate.lines.push({
    component: 'LoadBalancer',
    label: 'Load balancer',
    detail: '$0.0225 per hour + 1 LCU × $0.008 + 2 public IPv4; billed while it exists, so always on',
    perHour: perMonth / 730,
    perMonth,
  });
  return sheet;
}

describe('the address choice', () => {
  it('is the cheapest until the project asks for a load balancer', () => {
    expect(addressChoice(structuredClone(sample.config.aws))).toBe('newEachDeploy');
    expect(addressChoice({ ...sample.config.aws, loadBalancer: true })).toBe('stable');
  });

  it('clears what only the stable address allows when the cheapest is chosen, and brings it back', () => {
    const aws: AwsSettings = { ...structuredClone(sample.config.aws), loadBalancer: true, domain: 'app.example.com', tasks: 2, maxTasks: 4 };
    const kept = chooseAddress(aws, 'newEachDeploy', null);
    // The engine refuses a domain, tasks or scaling without a load balancer (aws.load_balancer).
    expect(aws).toMatchObject({ loadBalancer: false, domain: null, tasks: null, maxTasks: null, cpuTarget: null, stickySeconds: null });
    expect(kept).toEqual({ domain: 'app.example.com', tasks: 2, maxTasks: 4 });
    expect(chooseAddress(aws, 'stable', kept)).toBeNull();
    expect(aws).toMatchObject({ loadBalancer: true, domain: 'app.example.com', tasks: 2, maxTasks: 4 });
  });

  it('counts unset settings the same whether the engine wrote null or the file had no key', () => {
    const saved = structuredClone(sample.config.aws);
    const draft = structuredClone(saved);
    chooseAddress(draft, 'stable', null);
    chooseAddress(draft, 'newEachDeploy', null);
    expect(sameAws(draft, saved)).toBe(true);
    expect(sameConfig({ ...sample.config, aws: draft }, sample.config)).toBe(true);
    draft.tasks = 2;
    expect(sameAws(draft, saved)).toBe(false);
  });

  it('says what the stable address adds from the engine\'s own load balancer line, and nothing without one', () => {
    const extra = stableExtra(sheetWithBalancer(23.36));
    expect(extra?.perMonth).toBe(23.36);
    expect(stableCostWords(extra)).toBe(
      'Costs about $23.36 a month more ($0.032 an hour) for the load balancer, billed while it exists, even when no task runs.',
    );
    expect(stableExtra(structuredClone(costs.sheets[0]) as unknown as CostSheet)).toBeNull();
    expect(stableCostWords(null)).toBeNull();
  });

  it('prices one task from the estimate\'s compute and address lines, not the load balancer\'s', () => {
    // cost.json's first sheet: 0.25 vCPU, 0.5 GB and a public IPv4 address, one task.
    expect(perTaskHour(sheetWithBalancer(23.36))).toBeCloseTo(0.01012 + 0.0022225 + 0.005, 8);
    const two = structuredClone(costs.sheets[0]) as unknown as CostSheet;
    two.inputs.tasks = 2;
    for (const line of two.estimate.lines) if (line.perHour !== null) line.perHour *= 2;
    expect(perTaskHour(two)).toBeCloseTo(0.0173425, 8);
    expect(perTaskHour(null)).toBeNull();
  });
});

describe('the load balancer in the plan', () => {
  it('waits for DNS without blocking a deploy, and says so in words', () => {
    const plan = balancedReady();
    const row = (kind: string) => plan.resources.find((r) => r.kind === kind)!;
    expect(rowState(row('certificate'), undefined)).toEqual({ tone: 'pending', label: 'Waiting for DNS validation' });
    expect(rowState(row('dnsRecords'), undefined).label).toBe('Waiting for your DNS records');
    expect(rowState(row('httpsListener'), undefined).label).toBe('Waiting for the certificate');
    expect(rowState(row('certificate'), 'working').label).toBe('Working…');
    expect(planCounts(plan)).toMatchObject({ waiting: 3, blocked: 0, create: 0, change: 0 });
    expect(deployable(plan)).toBe(true);
    expect(planInWords(plan)).toBe(
      'Everything the app needs is in place in your AWS account. HTTPS on your domain waits for DNS validation (see below); the app answers over HTTP meanwhile.',
    );
    expect(planSummary(plan)).toBe('10 ready, 3 waiting for DNS');
    plan.resources[0].state = { state: 'blocked', reason: 'r', fix: 'f' };
    expect(deployable(plan)).toBe(false);
  });

  it('keeps AWS identifiers out of the plain facts', () => {
    const plan = balancedPlan();
    const lb = plan.resources.find((r) => r.kind === 'loadBalancer')!;
    expect(plainFacts(lb)).toEqual(['internet-facing Application Load Balancer: one address that never changes across deploys and rollbacks']);
    expect(lb.facts).toHaveLength(2);
    const [validation] = balancedReady().dnsRecords;
    expect(recordLine(validation)).toBe(`CNAME ${validation.name} → ${validation.value}`);
  });
});

async function openedSession(estimate: (inputs: unknown) => unknown = () => Promise.reject({ code: 'Internal', message: 'no sheet' })) {
  mockIPC((cmd, args) => {
    if (cmd === 'open_sample') return sample;
    if (cmd === 'task_sizes') return fixtures.taskSizes as TaskSizeOption[];
    if (cmd === 'check_project') return fixtures.preflight;
    if (cmd === 'validate_project') return [];
    if (cmd === 'connect_project_aws') return identity;
    if (cmd === 'project_cost') return structuredClone(costs.sheets[0]);
    if (cmd === 'cost_settings') return { tasks: 1, hoursPerWeek: null, logGbPerMonth: 1, loadBalancer: false, autoStopHours: null, remindAfterHours: null };
    if (cmd === 'estimate_cost') return estimate((args as { inputs: unknown }).inputs);
    return null;
  });
  const session = new ProjectSession();
  await session.openSample();
  account.follow(sample.dir, sample.config.aws);
  await account.connect(sample.dir, sample.config.aws);
  return session;
}
const settle = () => new Promise((r) => setTimeout(r, 0));

describe('SetupCard with the stable address', () => {
  it('offers the domain and tasks once chosen, priced from the engine\'s estimate with a load balancer', async () => {
    const asked: unknown[] = [];
    const session = await openedSession((inputs) => {
      asked.push(inputs);
      return sheetWithBalancer(23.36);
    });
    const cost = new ProjectCost(sample.dir);
    await cost.load();
    render(SetupCard, { session, run: new SetupRun(sample.dir, connected), cost, onCost: () => {}, onEnvironment: () => {} });
    await settle();
    expect(asked).toEqual([expect.objectContaining({ loadBalancer: true, task: costs.sheets[0].inputs.task })]);
    expect(screen.getByTestId('address-cost').textContent).toContain('costs about $23.36 a month more');
    expect(screen.queryByTestId('domain')).toBeNull();

    await fireEvent.click(screen.getByTestId('address-stable'));
    expect(session.draft!.aws.loadBalancer).toBe(true);
    expect(document.getElementById('tasks-hint')?.textContent?.replace(/\s+/g, ' ')).toContain('Each one costs about $0.0173 an hour.');
    await fireEvent.input(screen.getByTestId('domain'), { target: { value: ' app.example.com ' } });
    await fireEvent.input(screen.getByTestId('tasks'), { target: { value: '3' } });
    expect(session.draft!.aws).toMatchObject({ domain: 'app.example.com', tasks: 3 });
    expect(screen.getByTestId('setup-options-note').textContent).toContain('Review plan saves these options');
    await fireEvent.input(screen.getByTestId('tasks'), { target: { value: 'three' } });
    expect(screen.getByTestId('problem-aws.tasks').textContent).toBe('Enter a whole number.');

    await fireEvent.click(screen.getByTestId('address-new-each-deploy'));
    expect(session.draft!.aws).toMatchObject({ loadBalancer: false, domain: null, tasks: null });
    expect(session.inputProblems['aws.tasks']).toBeUndefined();
  });

  it('points to Cost rather than guessing a figure when the estimate has none', async () => {
    const session = await openedSession();
    const cost = new ProjectCost(sample.dir);
    await cost.load();
    let shown = 0;
    render(SetupCard, { session, run: new SetupRun(sample.dir, connected), cost, onCost: () => (shown += 1), onEnvironment: () => {} });
    await settle();
    expect(screen.getByTestId('address-cost').textContent).toContain('costs more while it exists, even when no task runs');
    expect(screen.getByTestId('address-cost').textContent).not.toMatch(/\$/);
    await fireEvent.click(screen.getByTestId('address-see-cost'));
    expect(shown).toBe(1);
  });

  it('lists the records to add at the DNS provider, each part with Copy', async () => {
    const session = await openedSession();
    const run = new SetupRun(sample.dir, connected);
    run.view = newView(balancedReady());
    render(SetupCard, { session, run, onEnvironment: () => {} });
    const records = screen.getAllByTestId('dns-record');
    expect(records).toHaveLength(2);
    const [validation, alias] = balancedReady().dnsRecords;
    expect(records[0].querySelector('[data-testid=dns-record-name]')?.textContent).toBe(validation.name);
    expect(records[1].querySelector('[data-testid=dns-record-value]')?.textContent).toBe(alias.value);
    expect(records[0].querySelectorAll('button')).toHaveLength(2);
    const certificate = screen.getAllByTestId('setup-resource').find((r) => r.dataset.kind === 'certificate')!;
    expect(certificate.textContent).toContain('Waiting for DNS validation');
    expect(certificate.querySelector('[data-testid=resource-waiting]')?.textContent).toContain('AWS issues the certificate once its validation record resolves');
    expect(screen.getByTestId('setup-nothing-to-do').textContent).toContain('the app can be deployed; HTTPS waits for DNS validation');
  });
});

describe('SetupReview with the stable address', () => {
  it('says each new resource with its facts in words, what waits, and that the load balancer bills from its creation', async () => {
    const session = await openedSession();
    const cost = new ProjectCost(sample.dir);
    await cost.load();
    const run = new SetupRun(sample.dir, connected);
    run.view = newView(balancedPlan());
    render(SetupReview, { session, run, cost, onEnvironment: () => {} });
    await settle();
    const balancer = screen.getAllByTestId('setup-review-resource').filter((r) => r.closest('.balancer-resources'));
    expect(balancer.map((r) => r.dataset.kind)).toEqual(['balancerSecurityGroup', 'loadBalancer', 'targetGroup', 'listener', 'certificate', 'dnsRecords', 'httpsListener']);
    expect(balancer[2].textContent).toContain('health check GET / every 10 s');
    expect(balancer[1].textContent).not.toContain('subnet-');
    expect(balancer[6].textContent).toContain('Port 443 is added once the certificate for app.example.com is issued.');
    expect(screen.getByTestId('setup-review-cost').textContent?.replace(/\s+/g, ' ')).toContain(
      'The load balancer bills from the moment it is created, whether the app runs or not; the rest costs nothing until you deploy.',
    );
    expect(screen.queryByTestId('dns-records')).toBeNull();
  });

  it('offers the stable address from a review of the cheapest, opening the options at the choice', async () => {
    const session = await openedSession();
    const cost = new ProjectCost(sample.dir);
    const run = new SetupRun(sample.dir, connected);
    run.view = newView(structuredClone(cloud.setupPlan) as SetupPlan);
    render(SetupReview, { session, run, cost, onEnvironment: () => {} });
    expect(screen.getByTestId('setup-review-address').textContent).toContain('a new address each deploy, the cheapest way');
    expect(screen.queryByTestId('address-stable')).toBeNull();
    await fireEvent.click(screen.getByTestId('setup-review-stable'));
    await settle();
    expect(document.activeElement).toBe(screen.getByTestId('address-stable'));
  });
});

describe('sticky sessions', () => {
  it('offers the usual durations, and one slipway.toml says besides them', () => {
    expect(stickyChoices(null).map((c) => c.seconds)).toEqual([600, 3600, 86_400, 604_800]);
    expect(stickyChoices(7200).map((c) => c.label)).toEqual(['10 minutes', '1 hour', '7200 seconds', '1 day', '7 days']);
    expect(stickyChoices(3600)).toHaveLength(4);
  });
});

describe('blue/green bake time', () => {
  it('offers the usual waits, and the one slipway.toml says', () => {
    expect(bakeChoices(null).map((c) => c.minutes)).toEqual([0, 5, 15, 60]);
    expect(bakeChoices(30).map((c) => c.label)).toEqual(['no wait', '5 minutes', '15 minutes', '30 minutes', '1 hour']);
  });

  it('prices the bake: both releases run that long', () => {
    expect(bakeCostWords(0.06, 2, 15)).toBe('Both releases run for 15 minutes at each deploy (about $0.03 a deploy).');
    expect(bakeCostWords(0.012, 1, 5)).toBe('Both releases run for 5 minutes at each deploy (about $0.0010 a deploy).');
    expect(bakeCostWords(null, 1, 5)).toBe('Both releases run for 5 minutes at each deploy.');
    expect(bakeCostWords(0.06, 1, 0)).toContain('stops as soon as');
  });
});
