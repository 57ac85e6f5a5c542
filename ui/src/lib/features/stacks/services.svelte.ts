// Any ECS service of the account (one Slipway deployed or a vendor's stack made): the list,
// one service's tasks with their IPs and cost, its rollout and events, and what a person
// does with it: scale, a new deployment, a rollback to an earlier revision, a command run
// once, its logs. What the screen shows is read again after each change and 10 s after
// each read while a service is open; leaving it stops the reads and a command still running.
import {
  describeService,
  listServices,
  redeployService,
  rollBackService,
  runServiceTask,
  scaleService,
  serviceLogs,
  type AwsTarget,
  type Job,
  type LogLine,
  type OneOffEvent,
  type OneOffOutcome,
  type ServiceSummary,
  type ServiceView,
} from '../../ipc';
import { failureOf, type Failure } from '../../ui/failure';

/** The most output lines of a command run once the window keeps. */
export const OUTPUT_SHOWN = 2000;

/** How often an open service is read again. */
export const REFRESH_MS = 10_000;

/** A command line split into its words as a shell would (quotes group, a backslash escapes);
 * null when a quote is left open. */
export function splitCommand(line: string): string[] | null {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = null;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) word += line[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      word += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote !== null) return null;
  if (inWord) words.push(word);
  return words;
}

/** A one-off command as it runs: its task, status and output. */
export interface OneOff {
  command: string;
  taskId: string | null;
  status: string;
  /** Its last OUTPUT_SHOWN lines. */
  output: string[];
  /** Older lines were left out (all are in the service's logs). */
  cut: boolean;
  outcome: OneOffOutcome | null;
  failure: Failure | null;
}

export interface ServiceName {
  cluster: string;
  service: string;
}

export class ServiceDesk {
  services = $state<ServiceSummary[] | null>(null);
  loading = $state(false);
  open = $state<ServiceName | null>(null);
  view = $state<ServiceView | null>(null);
  busy = $state<'scale' | 'redeploy' | 'rollback' | null>(null);
  /** What the last change did, in words. */
  said = $state<string | null>(null);
  /** A change or a request the person made that failed: kept until the next one. */
  actionFailure = $state<Failure | null>(null);
  /** The last read failed (cleared by the next read that works). */
  readFailure = $state<Failure | null>(null);

  oneOff = $state<OneOff | null>(null);
  #run: Job<OneOffOutcome> | null = null;
  logs = $state<LogLine[] | null>(null);
  logsLoading = $state(false);

  #target: () => AwsTarget;
  #timer: ReturnType<typeof setTimeout> | null = null;
  /** The screen is in view: reads are scheduled only then. */
  #shown = true;
  #reads = 0;
  #lists = 0;

  constructor(target: () => AwsTarget) {
    this.#target = target;
  }

  /** Lists the region's services (the newest answer wins). */
  async list(): Promise<void> {
    const mine = ++this.#lists;
    this.loading = true;
    try {
      const services = await listServices(this.#target());
      if (mine !== this.#lists) return;
      this.services = services;
      this.readFailure = null;
    } catch (e) {
      if (mine === this.#lists) this.readFailure = failureOf(e);
    } finally {
      if (mine === this.#lists) this.loading = false;
    }
  }

  /** What went wrong last: a change refused, else a read that failed. */
  get failure(): Failure | null {
    return this.actionFailure ?? this.readFailure;
  }

  /** Shows one service and keeps it current (read again 10 s after each read ends). */
  async show(name: ServiceName): Promise<void> {
    this.#leave();
    this.open = name;
    await this.read();
  }

  /** Forgets everything read (another account or region was chosen). */
  reset(): void {
    this.#leave();
    this.#lists++;
    this.loading = false;
    this.services = null;
  }

  close(): void {
    this.#leave();
    void this.list();
  }

  /** Leaves the open service: its timer stopped, a one-off command of it stopped at AWS
   * (it would otherwise run, paid for, with no control left on screen). */
  #leave(): void {
    this.#stopTimer();
    this.#reads++;
    void this.#run?.cancel();
    this.open = null;
    this.view = null;
    this.logs = null;
    this.oneOff = null;
    this.said = null;
    this.actionFailure = null;
    this.readFailure = null;
  }

  #stopTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** The screen came into view (an open service is read at once) or left it (no more
   * reads until it is back). */
  setShown(shown: boolean): void {
    if (shown === this.#shown) return;
    this.#shown = shown;
    if (!shown) this.#stopTimer();
    else if (this.open) void this.read();
  }

  /** Reads the open service again (the newest read wins), then schedules the next read. */
  async read(): Promise<void> {
    const name = this.open;
    if (!name) return;
    this.#stopTimer();
    const mine = ++this.#reads;
    try {
      const view = await describeService(this.#target(), name.cluster, name.service);
      if (mine !== this.#reads || this.open !== name) return;
      this.view = view;
      this.readFailure = null;
    } catch (e) {
      if (mine !== this.#reads || this.open !== name) return;
      this.readFailure = failureOf(e);
    }
    if (this.#shown) this.#timer = setTimeout(() => void this.read(), REFRESH_MS);
  }

  /** The last hour of the service's log lines (its containers' awslogs stream). */
  async loadLogs(): Promise<void> {
    const name = this.open;
    if (!name || this.logsLoading) return;
    this.logsLoading = true;
    try {
      const page = await serviceLogs(this.#target(), name.cluster, name.service, {
        taskId: null,
        text: null,
        sinceSeconds: 3600,
        untilMs: null,
        limit: 200,
      });
      if (this.open === name) this.logs = page.lines;
    } catch (e) {
      if (this.open === name) this.actionFailure = failureOf(e);
    } finally {
      this.logsLoading = false;
    }
  }

  /** Runs `line` once on the service's task definition and network, its output streamed. */
  async runOnce(line: string): Promise<void> {
    const name = this.open;
    const command = splitCommand(line.trim());
    if (!name || this.#run !== null || command === null || command.length === 0) return;
    const run: OneOff = $state({ command: line.trim(), taskId: null, status: 'starting', output: [], cut: false, outcome: null, failure: null });
    this.oneOff = run;
    const job = runServiceTask(this.#target(), name.cluster, name.service, { command, container: null, deadlineSeconds: null }, (event) =>
      onOneOff(run, event),
    );
    this.#run = job;
    try {
      run.outcome = await job.promise;
      run.status = 'stopped';
    } catch (e) {
      run.failure = failureOf(e);
    } finally {
      this.#run = null;
      void this.read();
    }
  }

  get runningOnce(): boolean {
    return this.oneOff !== null && this.oneOff.outcome === null && this.oneOff.failure === null;
  }

  /** Stops the one-off task (it is stopped at AWS, not left running). */
  async stopOnce(): Promise<void> {
    await this.#run?.cancel();
  }

  async scale(desired: number): Promise<void> {
    await this.#change('scale', async (n) => {
      const changed = await scaleService(this.#target(), n.cluster, n.service, desired);
      return changed.changed
        ? `${n.service} now keeps ${changed.to} ${changed.to === 1 ? 'task' : 'tasks'} running (was ${changed.from}).`
        : `${n.service} already keeps ${changed.to} ${changed.to === 1 ? 'task' : 'tasks'} running.`;
    });
  }

  async redeploy(): Promise<void> {
    await this.#change('redeploy', async (n) => {
      const revision = await redeployService(this.#target(), n.cluster, n.service);
      return `A new deployment of revision ${revision} replaces every task, one by one.`;
    });
  }

  async rollBack(to: number | null): Promise<void> {
    await this.#change('rollback', async (n) => {
      const changed = await rollBackService(this.#target(), n.cluster, n.service, to);
      return changed.changed
        ? `${n.service} goes back from revision ${changed.from} to revision ${changed.to}.`
        : `${n.service} already runs revision ${changed.to}.`;
    });
  }

  async #change(kind: 'scale' | 'redeploy' | 'rollback', act: (n: ServiceName) => Promise<string>): Promise<void> {
    const name = this.open;
    if (!name || this.busy) return;
    this.busy = kind;
    this.said = null;
    this.actionFailure = null;
    try {
      this.said = await act(name);
    } catch (e) {
      this.actionFailure = failureOf(e);
    } finally {
      this.busy = null;
      await this.read();
    }
  }
}

function onOneOff(run: OneOff, event: OneOffEvent): void {
  switch (event.type) {
    case 'TaskStarted':
      run.taskId = event.data.taskId;
      run.status = 'provisioning';
      break;
    case 'StatusChanged':
      run.status = event.data.status.toLowerCase();
      break;
    case 'Output':
      run.output.push(...event.data.lines);
      if (run.output.length > OUTPUT_SHOWN) {
        run.output.splice(0, run.output.length - OUTPUT_SHOWN);
        run.cut = true;
      }
      break;
    case 'Retrying':
      run.status = `retrying (${event.data.reason})`;
      break;
    case 'TaskStopping':
      run.status = `stopping: ${event.data.reason}`;
      break;
  }
}
