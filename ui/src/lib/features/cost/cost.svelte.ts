// The Cost card's state: the project's cost sheet (its saved size, platform, region and log
// retention with the app's cost choices), the choices the user is trying (another size, more
// tasks, a demo schedule, a load balancer), and saving the app's cost choices and idle guard.
// Every figure and every rule (which sizes exist, what is valid) is the engine's; this keeps
// its answers and turns them into what the card draws.
import {
  costSettings,
  estimateCost,
  projectCost,
  saveCostSettings,
  type CostComponent,
  type CostInputs,
  type CostSettings,
  type CostSheet,
  type Estimate,
  type PriceBook,
  type PriceRefresh,
  type SizeCost,
  type TaskSize,
} from '../../ipc';
import { failureOf, type Failure } from '../../ui/failure';
import { cpuLabel, memoryLabel } from '../project/fields';
import { formatMoney } from './money';

/** How long the card waits after the last change before asking for an estimate. */
export const ESTIMATE_DELAY_MS = 150;
/** The demo schedule offered before the user has chosen one (seed 000's advice: a few sessions a week). */
export const DEFAULT_DEMO_HOURS = 10;
/** What the idle guard fields start at when they are switched on. */
export const DEFAULT_AUTO_STOP_HOURS = 2;
export const DEFAULT_REMIND_HOURS = 8;

/** One colour per part of the bill, in the order the engine lists its lines. */
export const COMPONENT_COLOURS: Record<CostComponent, string> = {
  Cpu: '#1d4f91',
  Memory: '#6fa3e0',
  PublicIpv4: '#e0a526',
  LoadBalancer: '#8a63c7',
  LogIngestion: '#1f7a4d',
  LogStorage: '#7fcaa4',
  ImageStorage: '#c8553d',
};

/** What the card lets the user try; the estimate is asked for exactly these. */
export interface CostChoices {
  task: TaskSize;
  tasks: number;
  schedule: 'always' | 'demo';
  /** Kept while "Always on" is chosen, so switching back loses nothing. */
  hoursPerWeek: number;
  logGbPerMonth: number;
  loadBalancer: boolean;
}

/** The idle guard as its fields show it; the hours are kept while a guard is off. */
export interface GuardChoices {
  autoStop: boolean;
  autoStopHours: number;
  remind: boolean;
  remindAfterHours: number;
}

export function choicesFrom(inputs: CostInputs, settings: CostSettings): CostChoices {
  return {
    task: { ...inputs.task },
    tasks: settings.tasks,
    schedule: settings.hoursPerWeek === null ? 'always' : 'demo',
    hoursPerWeek: settings.hoursPerWeek ?? DEFAULT_DEMO_HOURS,
    logGbPerMonth: settings.logGbPerMonth ?? 1,
    loadBalancer: settings.loadBalancer,
  };
}

export function guardFrom(settings: CostSettings): GuardChoices {
  return {
    autoStop: settings.autoStopHours !== null,
    autoStopHours: settings.autoStopHours ?? DEFAULT_AUTO_STOP_HOURS,
    remind: settings.remindAfterHours !== null,
    remindAfterHours: settings.remindAfterHours ?? DEFAULT_REMIND_HOURS,
  };
}

/** The project's inputs with the user's choices in place of its own. */
export function inputsWith(base: CostInputs, choices: CostChoices): CostInputs {
  return {
    ...base,
    task: { ...choices.task },
    tasks: choices.tasks,
    hoursPerWeek: choices.schedule === 'demo' ? choices.hoursPerWeek : null,
    logGbPerMonth: choices.logGbPerMonth,
    loadBalancer: choices.loadBalancer,
  };
}

/** The saved settings with the card's choices in place: the guard and anything else kept. */
export function settingsWith(saved: CostSettings, choices: CostChoices): CostSettings {
  return {
    ...saved,
    tasks: choices.tasks,
    hoursPerWeek: choices.schedule === 'demo' ? choices.hoursPerWeek : null,
    logGbPerMonth: choices.logGbPerMonth,
    loadBalancer: choices.loadBalancer,
  };
}

/** The saved settings with the idle guard's fields in place. */
export function settingsWithGuard(saved: CostSettings, guard: GuardChoices): CostSettings {
  return {
    ...saved,
    autoStopHours: guard.autoStop ? guard.autoStopHours : null,
    remindAfterHours: guard.remind ? guard.remindAfterHours : null,
  };
}

export function sameSettings(a: CostSettings, b: CostSettings): boolean {
  return (
    a.tasks === b.tasks &&
    a.hoursPerWeek === b.hoursPerWeek &&
    a.logGbPerMonth === b.logGbPerMonth &&
    a.loadBalancer === b.loadBalancer &&
    a.autoStopHours === b.autoStopHours &&
    a.remindAfterHours === b.remindAfterHours
  );
}

export function sameInputs(a: CostInputs, b: CostInputs): boolean {
  return (
    a.region === b.region &&
    a.platform === b.platform &&
    sameSize(a.task, b.task) &&
    a.tasks === b.tasks &&
    a.hoursPerWeek === b.hoursPerWeek &&
    a.logGbPerMonth === b.logGbPerMonth &&
    a.logRetentionDays === b.logRetentionDays &&
    a.imageMb === b.imageMb &&
    a.loadBalancer === b.loadBalancer
  );
}

export function sameSize(a: TaskSize, b: TaskSize): boolean {
  return a.cpu === b.cpu && a.memory === b.memory;
}

/** "0.25 vCPU · 0.5 GB". */
export function sizeLabel(size: TaskSize): string {
  return `${cpuLabel(size.cpu)} · ${memoryLabel(size.memory)}`;
}

/** A size as the select's value: "256/512". */
export const sizeKey = (size: TaskSize): string => `${size.cpu}/${size.memory}`;

export function sizeFromKey(key: string): TaskSize {
  const [cpu, memory] = key.split('/').map(Number);
  return { cpu, memory };
}

export interface SizeGroup {
  cpu: number;
  label: string;
  options: { key: string; label: string }[];
}

/** The sizes the engine priced, grouped by vCPU, each with what its month costs. */
export function sizeGroups(sizes: SizeCost[]): SizeGroup[] {
  const groups: SizeGroup[] = [];
  for (const size of sizes) {
    let group = groups.find((g) => g.cpu === size.cpu);
    if (!group) {
      group = { cpu: size.cpu, label: cpuLabel(size.cpu), options: [] };
      groups.push(group);
    }
    group.options.push({ key: sizeKey(size), label: `${sizeLabel(size)} — ${formatMoney(size.perMonth)}/mo` });
  }
  return groups;
}

export interface ChartSegment {
  component: CostComponent;
  label: string;
  perMonth: number;
  /** Where the segment starts and how wide it is, in percent of the month's total. */
  start: number;
  width: number;
  colour: string;
}

/** The month's bill as one stacked bar: a segment per line that costs something. */
export function chartSegments(estimate: Estimate): ChartSegment[] {
  const lines = estimate.lines.filter((l) => (l.perMonth ?? 0) > 0);
  const total = lines.reduce((sum, l) => sum + (l.perMonth ?? 0), 0);
  let start = 0;
  return lines.map((line) => {
    const perMonth = line.perMonth ?? 0;
    const width = total > 0 ? (perMonth / total) * 100 : 0;
    const segment = { component: line.component, label: line.label, perMonth, start, width, colour: COMPONENT_COLOURS[line.component] };
    start += width;
    return segment;
  });
}

/** A share of the bill: "56%", "0.4%", "<0.1%". */
export function shareLabel(percent: number): string {
  if (percent > 0 && percent < 0.1) return '<0.1%';
  return percent < 10 ? `${Number(percent.toFixed(1))}%` : `${Math.round(percent)}%`;
}

/** The date part of an ISO 8601 time ("2026-11-01"), or the text as it is. */
function dateOf(iso: string): string {
  return /^\d{4}-\d{2}-\d{2}/.test(iso) ? iso.slice(0, 10) : iso;
}

/** Which prices a figure used: "AWS Price List API · fetched 2026-11-20 · us-east-1". */
export function priceSourceLine(book: PriceBook): string {
  const when = book.source === 'Bundled' ? `bundled with Slipway, dated ${dateOf(book.asOf)}` : `fetched ${dateOf(book.asOf)}`;
  return `${book.sourceText} · ${when} · ${book.region}`;
}

/** Hours as a person says them: "15 min", "2 h", "1.5 h". */
export function hoursText(hours: number | null): string {
  if (hours === null || !Number.isFinite(hours)) return '—';
  if (hours < 1) return `${Math.round(hours * 60)} min`;
  return `${Number(hours.toFixed(1))} h`;
}

export class ProjectCost {
  /** The sheet the card shows: the project's, or the estimate for the choices being tried. */
  sheet = $state<CostSheet | null>(null);
  /** The project's own inputs (saved settings, region, newest image), from the last project sheet. */
  base = $state<CostInputs | null>(null);
  /** The app's cost choices as saved. */
  settings = $state<CostSettings | null>(null);
  choices = $state<CostChoices | null>(null);
  guard = $state<GuardChoices | null>(null);
  /** Number fields whose text is not a number, by field; the choices keep their last number. */
  inputProblems = $state<Record<string, string>>({});
  /** The same for the idle guard's hours. */
  guardProblems = $state<Record<string, string>>({});

  loading = $state(false);
  refreshing = $state(false);
  estimating = $state(false);
  savingChoices = $state(false);
  savingGuard = $state(false);
  /** Loading the sheet or the settings failed. */
  failure = $state<Failure | null>(null);
  /** The engine refused the choices being tried (InvalidInput), in its words. */
  choiceProblem = $state<Failure | null>(null);
  choicesFailure = $state<Failure | null>(null);
  guardFailure = $state<Failure | null>(null);
  choicesSavedAt = $state<number | null>(null);
  guardSavedAt = $state<number | null>(null);

  /** The size being tried differs from the project's saved one. */
  otherSize = $derived(this.base !== null && this.choices !== null && !sameSize(this.base.task, this.choices.task));
  choicesChanged = $derived(
    this.settings !== null && this.choices !== null && !sameSettings(settingsWith(this.settings, this.choices), this.settings),
  );
  guardChanged = $derived(
    this.settings !== null && this.guard !== null && !sameSettings(settingsWithGuard(this.settings, this.guard), this.settings),
  );

  #dir: string;
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** Which project sheet and which estimate are current; an older answer is dropped. */
  #fetchTicket = 0;
  #estimateTicket = 0;
  #checkedPrices = false;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** The project's sheet at cached or bundled prices, and the app's cost choices the first time. */
  load(): Promise<void> {
    return this.#fetch('Never');
  }

  /** Once per card: asks the Price List API when the cached prices are a month old (AWS is connected). */
  async checkPrices(): Promise<void> {
    if (this.#checkedPrices) return;
    this.#checkedPrices = true;
    await this.#fetch('IfStale');
  }

  /** "Refresh prices": asks the Price List API now; the sheet's notes say if it could not. */
  refresh(): Promise<void> {
    return this.#fetch('Now');
  }

  async #fetch(refresh: PriceRefresh): Promise<void> {
    const ticket = ++this.#fetchTicket;
    if (refresh === 'Never') this.loading = true;
    else this.refreshing = true;
    this.failure = null;
    try {
      const [sheet, settings] = await Promise.all([
        projectCost(this.#dir, refresh),
        this.settings === null ? costSettings(this.#dir) : Promise.resolve(this.settings),
      ]);
      if (ticket !== this.#fetchTicket) return;
      this.#adopt(sheet, settings);
    } catch (e) {
      if (ticket === this.#fetchTicket) this.failure = failureOf(e);
    } finally {
      if (refresh === 'Never') this.loading = false;
      else this.refreshing = false;
    }
  }

  /**
   * A project sheet arrived: it is the base. The user's choices stay (a new saved size
   * replaces the one being tried) and are estimated afresh on it, with the same prices.
   */
  #adopt(sheet: CostSheet, settings: CostSettings): void {
    const previous = this.base;
    this.base = sheet.inputs;
    if (this.settings === null) this.settings = settings;
    if (this.guard === null) this.guard = guardFrom(settings);
    if (this.choices === null) this.choices = choicesFrom(sheet.inputs, settings);
    else if (previous !== null && !sameSize(previous.task, sheet.inputs.task)) this.choices.task = { ...sheet.inputs.task };
    this.#clearTimer();
    const wanted = inputsWith(sheet.inputs, $state.snapshot(this.choices));
    if (Object.keys(this.inputProblems).length > 0 || sameInputs(wanted, sheet.inputs)) {
      this.#estimateTicket += 1;
      this.estimating = false;
      this.sheet = sheet;
    } else {
      this.sheet ??= sheet;
      void this.#estimate(wanted, ++this.#estimateTicket);
    }
  }

  /** A choice changed: estimate once the changes pause. */
  choose(change: (choices: CostChoices) => void): void {
    if (!this.choices) return;
    change(this.choices);
    this.choicesSavedAt = null;
    this.#schedule();
  }

  /** A number field's new value, or null when its text is not a number (nothing is estimated then). */
  setNumber(field: string, value: number | null, apply: (choices: CostChoices, n: number) => void): void {
    const next = { ...this.inputProblems };
    if (value === null) {
      next[field] = 'Enter a number.';
      this.inputProblems = next;
      this.#clearTimer();
      this.estimating = false;
      return;
    }
    delete next[field];
    this.inputProblems = next;
    this.choose((choices) => apply(choices, value));
  }

  /** An idle guard switched on or off. */
  setGuard(apply: (guard: GuardChoices) => void): void {
    if (!this.guard) return;
    apply(this.guard);
    this.guardSavedAt = null;
  }

  /** An idle guard's hours, or null when the text is not a number (nothing can be saved then). */
  setGuardNumber(field: string, value: number | null, apply: (guard: GuardChoices, n: number) => void): void {
    const next = { ...this.guardProblems };
    if (value === null) {
      next[field] = 'Enter a number of hours.';
    } else {
      delete next[field];
      if (this.guard) apply(this.guard, value);
      this.guardSavedAt = null;
    }
    this.guardProblems = next;
  }

  #schedule(): void {
    this.#clearTimer();
    if (!this.base || !this.choices || Object.keys(this.inputProblems).length > 0) return;
    const inputs = inputsWith(this.base, $state.snapshot(this.choices));
    const ticket = ++this.#estimateTicket;
    this.estimating = true;
    this.#timer = setTimeout(() => void this.#estimate(inputs, ticket), ESTIMATE_DELAY_MS);
  }

  async #estimate(inputs: CostInputs, ticket: number): Promise<void> {
    this.#timer = null;
    this.estimating = true;
    try {
      const sheet = await estimateCost(inputs);
      if (ticket !== this.#estimateTicket) return;
      this.sheet = sheet;
      this.choiceProblem = null;
    } catch (e) {
      // The last good estimate stays; the message says what the engine refused.
      if (ticket === this.#estimateTicket) this.choiceProblem = failureOf(e);
    } finally {
      if (ticket === this.#estimateTicket) this.estimating = false;
    }
  }

  /** Saves the tasks, schedule, log volume and load balancer as the app's; the guard is kept. */
  async saveChoices(): Promise<void> {
    if (!this.settings || !this.choices || this.savingChoices) return;
    const sent = settingsWith(this.settings, $state.snapshot(this.choices));
    this.savingChoices = true;
    this.choicesFailure = null;
    try {
      this.#saved(await saveCostSettings(this.#dir, sent));
      this.choicesSavedAt = Date.now();
    } catch (e) {
      this.choicesFailure = failureOf(e);
    } finally {
      this.savingChoices = false;
    }
  }

  /** Saves the idle guard's fields; the other choices are kept as saved. */
  async saveGuard(): Promise<void> {
    if (!this.settings || !this.guard || this.savingGuard) return;
    await this.#saveGuard(settingsWithGuard(this.settings, $state.snapshot(this.guard)));
  }

  /** "Keep it running": auto-stop off, saved at once; the reminder and the rest are kept. */
  async turnAutoStopOff(): Promise<void> {
    if (!this.settings) return;
    if (this.guard) this.guard.autoStop = false;
    await this.#saveGuard({ ...this.settings, autoStopHours: null });
  }

  async #saveGuard(sent: CostSettings): Promise<void> {
    this.savingGuard = true;
    this.guardFailure = null;
    try {
      this.#saved(await saveCostSettings(this.#dir, sent));
      this.guardSavedAt = Date.now();
    } catch (e) {
      this.guardFailure = failureOf(e);
    } finally {
      this.savingGuard = false;
    }
  }

  /** The saved settings are the engine's answer; the project's inputs now hold them too. */
  #saved(settings: CostSettings): void {
    this.settings = settings;
    if (this.base) {
      this.base = {
        ...this.base,
        tasks: settings.tasks,
        hoursPerWeek: settings.hoursPerWeek,
        logGbPerMonth: settings.logGbPerMonth,
        loadBalancer: settings.loadBalancer,
      };
    }
  }

  dispose(): void {
    this.#fetchTicket += 1;
    this.#estimateTicket += 1;
    this.#clearTimer();
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
