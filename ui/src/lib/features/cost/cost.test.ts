import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { formatMoney } from './money';
import { chartSegments, hoursText, priceSourceLine, ProjectCost, settingsWith, sizeGroups, choicesFrom } from './cost.svelte';
import { applyCostEvent, costMeter, meterText, newMeterView, soFarAt } from './meter.svelte';
import CostCard from './CostCard.svelte';
import CostBanner from './CostBanner.svelte';
import { ProjectSession } from '../project/project.svelte';
import { RunningOnAws } from '../deploy/status.svelte';
import type { AwsReady } from '../setup/setup.svelte';
import type {
  AppStatus,
  CallerIdentity,
  CostEvent,
  CostInputs,
  CostSettings,
  CostSheet,
  Project,
  ProjectConfig,
  RunningCost,
  TaskSizeOption,
} from '../../ipc';
import costs from '../../../../../tests/fixtures/cost.json';
import project from '../../../../../tests/fixtures/project.json';
import deploys from '../../../../../tests/fixtures/deploy.json';
import cloud from '../../../../../tests/fixtures/aws.json';

// Sheets the engine computed (tests/fixtures/cost.json): 0.25 vCPU · 0.5 GB, 1 vCPU · 2 GB
// and 4 vCPU · 8 GB always on, and 0.25 vCPU · 0.5 GB 10 hours a week; us-east-1, bundled.
const sheets = costs.sheets as CostSheet[];
const sample = project.sample as Project;
const NO_CHOICES: CostSettings = { tasks: 1, hoursPerWeek: null, logGbPerMonth: 1, loadBalancer: false, autoStopHours: null, remindAfterHours: null };
const TASK_A = '8a7b6c5d4e3f4a2b9c1d0e8f7a6b5c4d';
const TASK_B = '4d1e6f0a8b2c4e7f9a1b3c5d7e9f0a2b';
const connected: AwsReady = {
  prepare: async () => ({ config: structuredClone(sample.config) as ProjectConfig, identity: cloud.identity as CallerIdentity }),
};
type Channel = { onmessage: (e: unknown) => void };

let cost: ProjectCost | null = null;
afterEach(() => {
  if (cost) costMeter.release(cost);
  cost = null;
  cleanup();
  clearMocks();
});

/** The sheet the engine gave for these inputs, as estimate_cost would answer. */
function sheetFor(inputs: CostInputs): CostSheet {
  const demo = inputs.hoursPerWeek !== null;
  const sheet = sheets.find(
    (s) => s.estimate.task.cpu === inputs.task.cpu && s.estimate.task.memory === inputs.task.memory && (s.inputs.hoursPerWeek !== null) === demo,
  );
  if (!sheet) throw new Error(`no fixture sheet for ${JSON.stringify(inputs)}`);
  return structuredClone(sheet);
}

/** The cost commands over one app's saved settings; what was asked and saved is kept. */
function costWorld(initial: CostSettings = NO_CHOICES) {
  const world = { settings: { ...initial }, estimated: [] as CostInputs[], saved: [] as CostSettings[], watch: null as Channel | null, stopped: 0 };
  let status = structuredClone(deploys.statusBefore) as unknown as AppStatus;
  mockIPC((cmd, args) => {
    const a = args as Record<string, unknown>;
    switch (cmd) {
      case 'open_sample':
        return sample;
      case 'task_sizes':
        return project.taskSizes as TaskSizeOption[];
      case 'check_project':
        return project.preflight;
      case 'validate_project':
        return [];
      case 'project_cost':
        return structuredClone(sheets[0]);
      case 'cost_settings':
        return world.settings;
      case 'estimate_cost': {
        const inputs = a.inputs as CostInputs;
        world.estimated.push(inputs);
        if (inputs.tasks < 1) return Promise.reject({ code: 'InvalidInput', message: 'The number of tasks is not valid: 0 is outside 1 to 100' });
        return sheetFor(inputs);
      }
      case 'save_cost_settings':
        world.saved.push(a.settings as CostSettings);
        world.settings = a.settings as CostSettings;
        return world.settings;
      case 'watch_costs':
        world.watch = a.onEvent as Channel;
        return new Promise(() => {});
      case 'app_status':
        return status;
      case 'stop_app':
        world.stopped += 1;
        status = { ...status, tasks: [] };
        return { stoppedTasks: [TASK_A], serviceScaledDown: null };
      default:
        return null;
    }
  });
  return world;
}

async function openCard() {
  const session = new ProjectSession();
  await session.openSample();
  cost = new ProjectCost(sample.dir);
  render(CostCard, { cost, session, app: 'hello-site', onEnvironment: () => {} });
  await waitFor(() => expect(screen.getByTestId('cost-month').textContent).toBe('$13.19'));
  return { session, cost };
}

const label = (testId: string) => screen.getByTestId(testId).getAttribute('aria-label');
const text = (testId: string) => screen.getByTestId(testId).textContent?.replace(/\s+/g, ' ').trim();

function metered(): RunningCost {
  const task = (taskId: string, hours: number) => ({ taskId, billedFrom: '2026-11-22T01:00:00Z', hours, perHour: 0.0173425, soFar: 0.0173425 * hours });
  return { tasks: [task(TASK_A, 1.5), task(TASK_B, 0.5)], perHour: 0.034685, soFar: 0.0346850, prices: structuredClone(sheets[0].prices) };
}

describe('formatMoney', () => {
  it('shows cents from a dollar up, and up to four decimals below, so an hourly rate still says something', () => {
    expect(formatMoney(13.194434041095892)).toBe('$13.19');
    expect(formatMoney(1)).toBe('$1.00');
    expect(formatMoney(1234.5)).toBe('$1,234.50');
    expect(formatMoney(0.0173425)).toBe('$0.0173');
    expect(formatMoney(0.5)).toBe('$0.50');
    expect(formatMoney(0.123)).toBe('$0.123');
    expect(formatMoney(0.0048200000000000005)).toBe('$0.0048');
    expect(formatMoney(0.99996), 'rounding up to a dollar shows cents').toBe('$1.00');
    expect(formatMoney(0)).toBe('$0.00');
    expect(formatMoney(0.00001), 'a real cost is never shown as nothing').toBe('under $0.0001');
    expect(formatMoney(null)).toBe('—');
  });
});

describe('cost words and shapes', () => {
  it('offers every priced size grouped by vCPU, each with its month', () => {
    const groups = sizeGroups(sheets[0].sizes);
    expect(groups.map((g) => g.label).slice(0, 3)).toEqual(['0.25 vCPU', '0.5 vCPU', '1 vCPU']);
    expect(groups[0].options).toEqual([
      { key: '256/512', label: '0.25 vCPU · 0.5 GB — $13.19/mo' },
      { key: '256/1024', label: '0.25 vCPU · 1 GB — $14.82/mo' },
      { key: '256/2048', label: '0.25 vCPU · 2 GB — $18.06/mo' },
    ]);
    expect(groups.flatMap((g) => g.options)).toHaveLength(sheets[0].sizes.length);
  });

  it('stacks the month by component, each segment its share of the total', () => {
    const segments = chartSegments(sheets[0].estimate);
    expect(segments.map((s) => s.component)).toEqual(['Cpu', 'Memory', 'PublicIpv4', 'LogIngestion', 'LogStorage', 'ImageStorage']);
    expect(segments[0].width).toBeCloseTo((7.3876 / 13.194434041095892) * 100, 6);
    const end = segments.at(-1)!;
    expect(end.start + end.width).toBeCloseTo(100, 6);
  });

  it('names the prices used: their source, their date and the region', () => {
    expect(priceSourceLine(sheets[0].prices)).toBe(
      'AWS Fargate, VPC, CloudWatch Logs and ECR pricing (AWS Price List data) · bundled with Slipway, dated 2026-11-01 · us-east-1',
    );
    const fetched = { ...sheets[0].prices, source: 'PriceList' as const, asOf: '2026-11-20T08:00:00Z', sourceText: 'AWS Price List API' };
    expect(priceSourceLine(fetched)).toBe('AWS Price List API · fetched 2026-11-20 · us-east-1');
    expect([hoursText(0.25), hoursText(2), hoursText(1.55)]).toEqual(['15 min', '2 h', '1.6 h']);
  });

  it('saves the card\'s choices on top of the saved settings, keeping the idle guard', () => {
    const saved = { ...NO_CHOICES, autoStopHours: 2, remindAfterHours: 8 };
    const choices = { ...choicesFrom(sheets[0].inputs, saved), schedule: 'demo' as const, tasks: 2 };
    expect(settingsWith(saved, choices)).toEqual({ ...saved, tasks: 2, hoursPerWeek: 10 });
  });
});

describe('CostCard', () => {
  it('changing the task size updates the estimate and the chart', async () => {
    const world = costWorld();
    const { session } = await openCard();
    expect(text('cost-hour')).toBe('$0.0173');
    expect(label('cost-segment-Cpu')).toBe('Compute (vCPU): $7.39 a month (56%)');
    const ipBefore = screen.getByTestId('cost-segment-PublicIpv4').getAttribute('width');
    expect(screen.getByTestId('cost-size').querySelectorAll('option')).toHaveLength(sheets[0].sizes.length);
    expect(text('cost-price-source')).toMatch(/bundled with Slipway, dated 2026-11-01 · us-east-1$/);
    expect(screen.getAllByTestId('cost-note')).toHaveLength(sheets[0].notes.length);

    await fireEvent.change(screen.getByTestId('cost-size'), { target: { value: '1024/2048' } });
    await waitFor(() => expect(text('cost-month')).toBe('$40.22'));
    expect(world.estimated.at(-1), 'only the size differs from the project\'s inputs').toEqual({ ...sheets[0].inputs, task: { cpu: 1024, memory: 2048 } });
    expect(label('cost-segment-Cpu')).toBe('Compute (vCPU): $29.55 a month (73%)');
    expect(screen.getByTestId('cost-segment-PublicIpv4').getAttribute('width'), 'the address is a smaller share of a bigger bill').not.toBe(ipBefore);
    expect(text('cost-size-note')).toMatch(/Your project uses 0.25 vCPU · 0.5 GB; this estimate is for 1 vCPU · 2 GB\./);

    await fireEvent.change(screen.getByTestId('cost-size'), { target: { value: '4096/8192' } });
    await waitFor(() => expect(text('cost-month')).toBe('$148.34'));
    expect(label('cost-segment-Memory')).toBe('Compute (memory): $25.96 a month (17%)');

    await fireEvent.click(screen.getByTestId('cost-use-size'));
    expect(session.draft!.task, 'the size goes into the settings form, to be saved there').toEqual({ cpu: 4096, memory: 8192 });
    expect(text('cost-size-note')).toMatch(/settings form now has 4 vCPU · 8 GB: save the settings/);
    expect(world.saved, 'trying sizes saves nothing').toEqual([]);
  });

  it('on a demo schedule shows what always on would cost, and saves the schedule with the guard kept', async () => {
    const world = costWorld({ ...NO_CHOICES, autoStopHours: 2 });
    await openCard();
    expect(screen.queryByTestId('cost-always-on')).toBeNull();
    expect((screen.getByTestId('cost-save') as HTMLButtonElement).disabled, 'nothing to save before a change').toBe(true);

    await fireEvent.click(screen.getByTestId('cost-schedule-demo'));
    await waitFor(() => expect(text('cost-month')).toBe('$1.29'));
    expect(world.estimated.at(-1)?.hoursPerWeek).toBe(10);
    expect(text('cost-always-on')).toBe("It runs 43.5 h of the month's 730. Always on, it would cost $13.19 a month.");

    await fireEvent.click(screen.getByTestId('cost-save'));
    await screen.findByTestId('cost-saved');
    expect(world.saved).toEqual([{ ...NO_CHOICES, hoursPerWeek: 10, autoStopHours: 2 }]);
  });

  it('says what the engine refused, and keeps the last estimate', async () => {
    costWorld();
    await openCard();
    await fireEvent.input(screen.getByTestId('cost-tasks'), { target: { value: '0' } });
    await screen.findByTestId('cost-problem');
    expect(text('cost-problem')).toBe('The number of tasks is not valid: 0 is outside 1 to 100');
    expect(text('cost-month')).toBe('$13.19');

    await fireEvent.input(screen.getByTestId('cost-tasks'), { target: { value: 'two' } });
    expect(text('problem-cost.tasks')).toBe('Enter a number.');
    expect((screen.getByTestId('cost-save') as HTMLButtonElement).disabled).toBe(true);
  });

  it('saves the idle guard with the other choices kept', async () => {
    const world = costWorld({ ...NO_CHOICES, hoursPerWeek: 6 });
    await openCard();
    expect((screen.getByTestId('auto-stop-on') as HTMLInputElement).checked, 'off by default').toBe(false);
    expect((screen.getByTestId('auto-stop-hours') as HTMLInputElement).disabled).toBe(true);
    await fireEvent.click(screen.getByTestId('auto-stop-on'));
    await fireEvent.input(screen.getByTestId('auto-stop-hours'), { target: { value: '1.5' } });
    await fireEvent.click(screen.getByTestId('guard-save'));
    await screen.findByTestId('guard-saved');
    expect(world.saved).toEqual([{ ...NO_CHOICES, hoursPerWeek: 6, autoStopHours: 1.5 }]);
  });
});

describe('the cost meter', () => {
  it('folds the watch: readings, a warning replaced by the stop, reminders gone with their task, a failed check', () => {
    const view = newMeterView();
    const warned: CostEvent = { type: 'AutoStopWarned', data: { taskId: TASK_A, stopsAt: '2026-11-22T03:00:00Z', minutesLeft: 9 } };
    applyCostEvent(view, { type: 'Metered', data: metered() }, 1000, 2);
    applyCostEvent(view, warned, 1000, 2);
    applyCostEvent(view, { type: 'RanLong', data: { taskId: TASK_B, ranHours: 8.25, limitHours: 8 } }, 1000, 2);
    expect(view.notices.map((n) => n.text)).toEqual([
      'Task 8a7b6c5d will be stopped in 9 min (auto-stop after 2 h).',
      'Task 4d1e6f0a has run 8.3 h, longer than your 8 h reminder. It costs money until it stops.',
    ]);
    applyCostEvent(view, { type: 'AutoStopped', data: { taskId: TASK_A, ranHours: 2 } }, 2000, 2);
    expect(view.notices.map((n) => n.kind), 'the stop replaces its warning').toEqual(['ranLong', 'stopped']);

    applyCostEvent(view, { type: 'CheckFailed', data: { code: 'AwsUnreachable', message: 'AWS could not be reached.' } }, 3000, 2);
    expect(view.checkFailed).toBe('AWS could not be reached.');
    const none = { ...metered(), tasks: [], perHour: 0, soFar: 0 };
    applyCostEvent(view, { type: 'Metered', data: none }, 4000, 2);
    expect(view.checkFailed, 'a reading clears the failed check').toBeNull();
    expect(view.notices.map((n) => n.kind), 'a reminder about a task that stopped is old news').toEqual(['stopped']);
  });

  it('counts on between readings at the hourly rate', () => {
    const running = metered();
    expect(meterText(running)).toBe('2 tasks running, $0.0347/h');
    expect(soFarAt(running, 0, 3_600_000)).toBeCloseTo(0.034685 * 2, 9);
  });

  it('the banner shows what runs and what it costs from a Metered event', async () => {
    const world = costWorld();
    cost = new ProjectCost(sample.dir);
    costMeter.follow({ dir: sample.dir, app: 'hello-site', connection: '123456789012/us-west-2', cost, board: new RunningOnAws(sample.dir, connected) });
    render(CostBanner);
    expect(screen.queryByTestId('cost-banner'), 'nothing before the first reading').toBeNull();
    world.watch!.onmessage({ type: 'Metered', data: metered() });
    await screen.findByTestId('cost-banner');
    expect(text('cost-banner-rate')).toBe('2 tasks running, $0.0347/h');
    expect(text('cost-banner-so-far')).toMatch(/^\$0\.034\d so far$/);
    expect(text('cost-banner')).toMatch(/bundled with Slipway, dated 2026-11-01 · us-east-1/);

    world.watch!.onmessage({ type: 'CheckFailed', data: { code: 'CredentialsRejected', message: 'The security token included in the request is expired.' } });
    await screen.findByTestId('cost-check-failed');
    expect(text('cost-check-failed')).toMatch(/^Could not check what runs on AWS just now \(The security token/);
    expect(screen.getByTestId('cost-banner'), 'the last reading stays').toBeTruthy();
    expect(screen.queryByRole('alert'), 'a failed check is a quiet note').toBeNull();
  });

  it('warns before an auto-stop, and Keep it running turns auto-stop off, keeping the other choices', async () => {
    const world = costWorld({ ...NO_CHOICES, hoursPerWeek: 6, autoStopHours: 2, remindAfterHours: 8 });
    cost = new ProjectCost(sample.dir);
    await cost.load();
    costMeter.follow({ dir: sample.dir, app: 'hello-site', connection: '123456789012/us-west-2', cost, board: new RunningOnAws(sample.dir, connected) });
    render(CostBanner);
    world.watch!.onmessage({ type: 'Metered', data: metered() });
    world.watch!.onmessage({ type: 'AutoStopWarned', data: { taskId: TASK_A, stopsAt: '2026-11-22T03:00:00Z', minutesLeft: 9 } });
    const warning = await screen.findByTestId('cost-warning');
    expect(warning.getAttribute('role')).toBe('alert');
    expect(text('cost-warning')).toBe('Task 8a7b6c5d will be stopped in 9 min (auto-stop after 2 h). Keep it running: turn auto-stop off');

    await fireEvent.click(screen.getByTestId('cost-keep-running'));
    await waitFor(() => expect(screen.queryByTestId('cost-warning')).toBeNull());
    expect(world.saved).toEqual([{ ...NO_CHOICES, hoursPerWeek: 6, autoStopHours: null, remindAfterHours: 8 }]);
    expect(cost.guard?.autoStop, 'the Cost card shows it off too').toBe(false);
  });

  it('a reminder\'s Stop asks first, then stops everything of the app', async () => {
    const world = costWorld({ ...NO_CHOICES, remindAfterHours: 8 });
    cost = new ProjectCost(sample.dir);
    costMeter.follow({ dir: sample.dir, app: 'hello-site', connection: '123456789012/us-west-2', cost, board: new RunningOnAws(sample.dir, connected) });
    render(CostBanner);
    world.watch!.onmessage({ type: 'Metered', data: { ...metered(), tasks: [metered().tasks[0]] } });
    world.watch!.onmessage({ type: 'RanLong', data: { taskId: TASK_A, ranHours: 9, limitHours: 8 } });
    await screen.findByTestId('cost-reminder');
    await fireEvent.click(screen.getByTestId('cost-reminder-stop'));
    await screen.findByTestId('cost-stop-question');
    expect(text('cost-stop-question')).toMatch(/^This stops 1 task of hello-site\./);
    expect(world.stopped, 'nothing stops before the answer').toBe(0);
    await fireEvent.click(screen.getByTestId('cost-stop-confirm'));
    await waitFor(() => expect(screen.queryByTestId('cost-reminder')).toBeNull());
    expect(world.stopped).toBe(1);
  });
});
