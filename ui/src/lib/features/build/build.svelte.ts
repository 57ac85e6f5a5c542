// A build of the open project: the engine's event stream folded into what the Build card
// shows (step N of M, base-layer downloads, output), the running clock, and the outcome.
import { buildProject, IpcFailure, type BuildEvent, type BuildOutcome, type Finding, type Job } from '../../ipc';
import { failureOf, type Failure } from '../../ui/failure';
import { formatBytes, formatDuration } from '../../ui/format';

/** The output box keeps this many lines; the failing step's own lines are kept apart. */
export const OUTPUT_CAP = 5000;

export interface LayerProgress {
  id: string;
  status: string;
  current: number | null;
  total: number | null;
}

export interface OutputLine {
  /** Increasing number, a stable key for the line. */
  n: number;
  line: string;
}

export interface BuildProgress {
  step: number;
  total: number;
  instruction: string | null;
  /** Every output line, oldest first (capped). */
  output: OutputLine[];
  /** Output lines seen so far, kept or dropped. */
  seen: number;
  /** The lines since the current step started: what a failure shows. */
  stepOutput: string[];
  layers: LayerProgress[];
  findings: Finding[];
  context: { files: number; bytes: number | null; skipped: string[] } | null;
  /** What reached Docker: only the changed files (a BuildKit session) or the whole folder. */
  sent: { files: number; bytes: number | null; changedOnly: boolean } | null;
  /** The builder the engine uses, and why when it is not BuildKit. */
  builder: { name: 'BuildKit' | 'Legacy'; note: string | null } | null;
  /** Steps that finished, and how many of them came from the build cache. */
  finished: number;
  cached: number;
  /** The version of an identical release, when the engine found one and built nothing. */
  upToDate: string | null;
  tags: string[];
}

export function newProgress(): BuildProgress {
  return {
    step: 0,
    total: 0,
    instruction: null,
    output: [],
    seen: 0,
    stepOutput: [],
    layers: [],
    findings: [],
    context: null,
    sent: null,
    builder: null,
    finished: 0,
    cached: 0,
    upToDate: null,
    tags: [],
  };
}

/** Folds one build event into `progress` (in place, so a $state proxy updates finely). */
export function applyBuildEvent(progress: BuildProgress, event: BuildEvent): void {
  switch (event.type) {
    case 'PreflightChecked':
      progress.findings = event.data.findings;
      break;
    case 'BuilderChosen':
      progress.builder = { name: event.data.builder, note: event.data.note };
      break;
    case 'ContextPacked':
      progress.context = { files: event.data.files, bytes: event.data.bytes, skipped: event.data.skipped };
      break;
    case 'ContextSent':
      progress.sent = { files: event.data.files, bytes: event.data.bytes, changedOnly: event.data.changedOnly };
      break;
    case 'UpToDate':
      progress.upToDate = event.data.version;
      break;
    case 'StepStarted': {
      const stage = event.data.stage ? `${event.data.stage} ` : '';
      progress.step = event.data.step;
      progress.total = event.data.total;
      progress.instruction = event.data.instruction;
      progress.stepOutput = [];
      logLine(progress, `${stage}Step ${event.data.step}/${event.data.total} : ${event.data.instruction}`);
      break;
    }
    case 'StepFinished': {
      const stage = event.data.stage ? `${event.data.stage} ` : '';
      progress.finished += 1;
      if (event.data.cached) progress.cached += 1;
      const how = event.data.cached ? 'cached' : `done in ${formatDuration(event.data.stepMs ?? 0)}`;
      logLine(progress, `${stage}Step ${event.data.step}/${event.data.total} ${how}`);
      break;
    }
    case 'OutputLogged':
      logLine(progress, event.data.line);
      pushCapped(progress.stepOutput, event.data.line);
      break;
    case 'LayerProgressed': {
      const { id, status, current, total } = event.data;
      const layer = progress.layers.find((l) => l.id === id);
      if (layer) {
        layer.status = status;
        layer.current = current;
        layer.total = total;
      } else {
        progress.layers.push({ id, status, current, total });
      }
      break;
    }
    case 'ImageTagged':
      progress.tags = event.data.tags;
      break;
  }
}

function logLine(progress: BuildProgress, line: string): void {
  pushCapped(progress.output, { n: progress.seen, line });
  progress.seen += 1;
}

function pushCapped<T>(lines: T[], line: T): void {
  lines.push(line);
  if (lines.length > OUTPUT_CAP) lines.splice(0, lines.length - OUTPUT_CAP);
}

/** What reached Docker, in words (the engine's `sent_words` says the same for the CLI). */
export function sentText(sent: NonNullable<BuildProgress['sent']>): string {
  const files = `${sent.files} file${sent.files === 1 ? '' : 's'} (${formatBytes(sent.bytes)})`;
  if (!sent.changedOnly) return `Sent the whole folder to Docker: ${files}.`;
  if (sent.files === 0) return 'Sent no files: Docker had everything it needed from an earlier build.';
  return `Sent ${files} to Docker: only what it did not have from an earlier build.`;
}

/** A layer's completion in percent, or null while its size is unknown. */
export function layerPercent(layer: LayerProgress): number | null {
  if (!layer.total || layer.current === null) return null;
  return Math.min(100, Math.round((layer.current / layer.total) * 100));
}

/** The finished build in one sentence, naming the release. */
export function resultText(outcome: BuildOutcome): string {
  const version = outcome.release.version;
  if (outcome.upToDate) return `Release ${version} is up to date — nothing changed`;
  return outcome.elapsedMs === null ? `Release ${version} built` : `Release ${version} built in ${formatDuration(outcome.elapsedMs)}`;
}

export type BuildPhase = 'idle' | 'running' | 'done' | 'failed' | 'cancelled';

export class BuildRun {
  phase = $state<BuildPhase>('idle');
  progress = $state<BuildProgress>(newProgress());
  outcome = $state<BuildOutcome | null>(null);
  failure = $state<Failure | null>(null);
  startedAt = $state(0);
  now = $state(0);
  elapsedMs = $derived(this.phase === 'running' ? this.now - this.startedAt : 0);

  #dir: string;
  #onBuilt: () => void;
  #job: Job<BuildOutcome> | null = null;
  #running: Promise<BuildOutcome | null> | null = null;
  #clock: ReturnType<typeof setInterval> | null = null;

  /** `onBuilt` runs after a build that produced or found a release. */
  constructor(dir: string, onBuilt: () => void) {
    this.#dir = dir;
    this.#onBuilt = onBuilt;
  }

  /**
   * Builds the folder as it is now (finding the release that has exactly this content
   * when there is one). Resolves with that release's outcome, or null when the build
   * failed or was cancelled. While a build runs, every caller shares its outcome.
   */
  start(force = false): Promise<BuildOutcome | null> {
    if (this.#running) return this.#running;
    this.#running = this.#run(force).finally(() => (this.#running = null));
    return this.#running;
  }

  async #run(force: boolean): Promise<BuildOutcome | null> {
    this.phase = 'running';
    this.progress = newProgress();
    this.outcome = null;
    this.failure = null;
    this.startedAt = Date.now();
    this.now = this.startedAt;
    this.#clock = setInterval(() => (this.now = Date.now()), 1000);
    const job = buildProject(this.#dir, { force }, (event) => applyBuildEvent(this.progress, event));
    this.#job = job;
    try {
      const outcome = await job.promise;
      this.outcome = outcome;
      this.phase = 'done';
      this.#onBuilt();
      return outcome;
    } catch (e) {
      this.failure = failureOf(e);
      this.phase = e instanceof IpcFailure && e.code === 'Cancelled' ? 'cancelled' : 'failed';
      return null;
    } finally {
      this.#job = null;
      this.#stopClock();
    }
  }

  cancel(): void {
    this.#job?.cancel().catch((e: unknown) => (this.failure = failureOf(e)));
  }

  /** The project closed: a build still running is asked to stop. */
  dispose(): void {
    this.cancel();
    this.#stopClock();
  }

  #stopClock(): void {
    if (this.#clock !== null) clearInterval(this.#clock);
    this.#clock = null;
  }
}
