// The local preview of the open project: the container the engine runs, and what its watch
// streams (health, logs, the exit). The preview outlives the window, so opening a project
// first asks whether one is already running and, if so, follows it.
import {
  previewStatus,
  startPreview,
  stopPreview,
  watchPreview,
  IpcFailure,
  type Health,
  type Job,
  type LogStream,
  type Preview,
  type PreviewEvent,
} from '../../ipc';
import { previews } from './running.svelte';
import { failureOf, type Failure } from '../../ui/failure';

/** The log box keeps the newest lines only; the container's own log keeps them all. */
export const LOG_CAP = 2000;

export interface LogLine {
  /** Increasing number, a stable key for the line. */
  n: number;
  stream: LogStream;
  line: string;
  /** The engine read it as an error (shown in red; other stderr lines are not). */
  error: boolean;
}

export interface Exit {
  exitCode: number;
  oomKilled: boolean;
  message: string;
}

export interface PreviewWatch {
  health: Health | null;
  logs: LogLine[];
  exited: Exit | null;
  /** Lines seen so far, kept or dropped. */
  seen: number;
}

export function newWatch(): PreviewWatch {
  return { health: null, logs: [], exited: null, seen: 0 };
}

/** Folds one preview event into `watch` (in place). */
export function applyPreviewEvent(watch: PreviewWatch, event: PreviewEvent): void {
  switch (event.type) {
    case 'LogLogged':
      watch.logs.push({ n: watch.seen, stream: event.data.stream, line: event.data.line, error: event.data.error });
      watch.seen += 1;
      if (watch.logs.length > LOG_CAP) watch.logs.splice(0, watch.logs.length - LOG_CAP);
      break;
    case 'HealthChanged':
      watch.health = event.data.health;
      break;
    case 'Exited':
      watch.exited = event.data;
      break;
  }
}

export type HealthTone = 'ok' | 'bad' | 'pending' | 'neutral';

/** The health in words: a label the pill shows and the detail beside it. */
export function describeHealth(health: Health | null): { tone: HealthTone; label: string; detail: string } {
  if (health === null) return { tone: 'pending', label: 'Starting', detail: 'waiting for the first report' };
  switch (health.state) {
    case 'healthy':
      return { tone: 'ok', label: 'Healthy', detail: health.detail };
    case 'starting':
      return { tone: 'pending', label: 'Starting', detail: health.detail };
    case 'unhealthy':
      return { tone: 'bad', label: 'Unhealthy', detail: health.detail };
    case 'notChecked':
      return { tone: 'neutral', label: 'Not checked', detail: 'the project has no health check' };
  }
}

export class PreviewSession {
  preview = $state<Preview | null>(null);
  watch = $state<PreviewWatch>(newWatch());
  busy = $state<'starting' | 'stopping' | null>(null);
  failure = $state<Failure | null>(null);
  running = $derived(this.preview !== null && this.preview.state.state === 'running' && this.watch.exited === null);

  #dir: string;
  #app: string;
  #onChanged: () => void;
  #ensureBuilt: () => Promise<string | null>;
  #disposed = false;
  #job: Job<null> | null = null;
  /** Which watch is current; events of an older one are dropped. */
  #following = 0;

  /**
   * `onChanged` runs after the preview started, stopped or switched release. `ensureBuilt`
   * builds the folder as it is now and names the release with exactly that content (null
   * when the build did not finish): the preview runs what the folder holds, never an
   * older or newer build.
   */
  constructor(dir: string, app: string, onChanged: () => void, ensureBuilt: () => Promise<string | null>) {
    this.#dir = dir;
    this.#app = app;
    this.#onChanged = onChanged;
    this.#ensureBuilt = ensureBuilt;
  }

  /** Shows the app's preview if one is running already (started earlier, or by the CLI). */
  async load(): Promise<void> {
    try {
      const preview = await previewStatus(this.#app);
      if (preview) this.show(preview);
    } catch (e) {
      this.failure = failureOf(e);
    }
  }

  /** Runs the release that matches the folder, building it first when there is none. */
  async start(): Promise<void> {
    if (this.busy) return;
    this.busy = 'starting';
    this.failure = null;
    try {
      const version = await this.#ensureBuilt();
      // The Build card shows why a build did not finish; a closed project starts nothing.
      if (version === null || this.#disposed) return;
      this.show(await startPreview(this.#dir, version));
      this.#onChanged();
      void previews.refresh();
    } catch (e) {
      this.failure = failureOf(e);
    } finally {
      this.busy = null;
    }
  }

  /** A preview the engine started (a rollback, say): show it and follow its logs afresh. */
  show(preview: Preview): void {
    this.preview = preview;
    this.watch = newWatch();
    if (preview.state.state === 'running') {
      this.#follow();
    } else {
      this.#unfollow();
    }
  }

  async stop(): Promise<void> {
    if (this.busy || !this.preview) return;
    this.busy = 'stopping';
    this.failure = null;
    try {
      await stopPreview(this.#app);
      this.#unfollow();
      this.preview = null;
      this.watch = newWatch();
      this.#onChanged();
      void previews.refresh();
    } catch (e) {
      this.failure = failureOf(e);
    } finally {
      this.busy = null;
    }
  }

  /** The project closed: stop following (the container itself keeps running). */
  dispose(): void {
    this.#disposed = true;
    this.#unfollow();
  }

  #follow(): void {
    this.#unfollow();
    const ticket = this.#following;
    const job = watchPreview(this.#dir, (event) => {
      if (ticket !== this.#following) return;
      // Stop removes the container; its exit is then expected, not news.
      if (event.type === 'Exited' && this.busy === 'stopping') return;
      applyPreviewEvent(this.watch, event);
      if (event.type === 'Exited') void previews.refresh();
    });
    this.#job = job;
    job.promise.then(
      () => {
        if (ticket === this.#following) this.#job = null;
      },
      (e: unknown) => {
        if (ticket !== this.#following) return;
        this.#job = null;
        if (!(e instanceof IpcFailure && e.code === 'Cancelled')) this.failure = failureOf(e);
      },
    );
  }

  #unfollow(): void {
    this.#following += 1;
    const job = this.#job;
    this.#job = null;
    job?.cancel().catch((e: unknown) => (this.failure = failureOf(e)));
  }
}
