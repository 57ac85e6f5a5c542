// Any ECS service of the account (one Slipway deployed or a vendor's stack made): the list,
// one service's tasks with their IPs and cost, its rollout and events, and what a person
// does with it: scale, a new deployment, a rollback to an earlier revision. What the
// screen shows is read again after each change and every 10 s while a service is open.
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
  output: string[];
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
  failure = $state<Failure | null>(null);

  oneOff = $state<OneOff | null>(null);
  #run: Job<OneOffOutcome> | null = null;
  logs = $state<LogLine[] | null>(null);
  logsLoading = $state(false);

  #target: () => AwsTarget;
  #timer: ReturnType<typeof setInterval> | null = null;
  #reads = 0;

  constructor(target: () => AwsTarget) {
    this.#target = target;
  }

  async list(): Promise<void> {
    this.loading = true;
    try {
      this.services = await listServices(this.#target());
      this.failure = null;
    } catch (e) {
      this.failure = failureOf(e);
    } finally {
      this.loading = false;
    }
  }

  /** Shows one service and keeps it current. */
  async show(name: ServiceName): Promise<void> {
    this.open = name;
    this.view = null;
    this.logs = null;
    this.oneOff = null;
    this.said = null;
    this.failure = null;
    this.#stopTimer();
    await this.read();
    this.#timer = setInterval(() => void this.read(), REFRESH_MS);
  }

  /** Forgets everything read (another account or region was chosen). */
  reset(): void {
    this.#stopTimer();
    this.#reads++;
    this.open = null;
    this.view = null;
    this.said = null;
    this.services = null;
    this.failure = null;
  }

  close(): void {
    this.#stopTimer();
    this.open = null;
    this.view = null;
    this.said = null;
    void this.list();
  }

  #stopTimer(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  /** Reads the open service again (the newest read wins). */
  async read(): Promise<void> {
    const name = this.open;
    if (!name) return;
    const mine = ++this.#reads;
    try {
      const view = await describeService(this.#target(), name.cluster, name.service);
      if (mine !== this.#reads || this.open !== name) return;
      this.view = view;
      this.failure = null;
    } catch (e) {
      if (mine === this.#reads) this.failure = failureOf(e);
    }
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
      if (this.open === name) this.failure = failureOf(e);
    } finally {
      this.logsLoading = false;
    }
  }

  /** Runs `line` once on the service's task definition and network, its output streamed. */
  async runOnce(line: string): Promise<void> {
    const name = this.open;
    const command = splitCommand(line.trim());
    if (!name || this.#run !== null || command === null || command.length === 0) return;
    const run: OneOff = $state({ command: line.trim(), taskId: null, status: 'starting', output: [], outcome: null, failure: null });
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
    this.failure = null;
    try {
      this.said = await act(name);
    } catch (e) {
      this.failure = failureOf(e);
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
      break;
    case 'Retrying':
      run.status = `retrying (${event.data.reason})`;
      break;
    case 'TaskStopping':
      run.status = `stopping: ${event.data.reason}`;
      break;
  }
}
