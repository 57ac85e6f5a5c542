// The previews running on this computer, for the sidebar: a preview keeps its port and
// memory after the window moves to another project, so it stays in view until stopped.
import { runningPreviews, stopPreview, type RunningPreview } from '../../ipc';
import { failureOf, type Failure } from '../../ui/failure';

/** How often the list is read again (a preview can exit, or the CLI can start one). */
export const PREVIEWS_REFRESH_MS = 10_000;

export class RunningPreviews {
  list = $state<RunningPreview[]>([]);
  /** The app whose preview is being stopped from the sidebar. */
  stopping = $state<string | null>(null);
  failure = $state<Failure | null>(null);
  /** The app the failure is about: it goes once that preview is no longer listed. */
  #failedFor: string | null = null;
  /** The open project's folder: its preview is shown on its own page. */
  openDir = $state<string | null>(null);
  /** A folder the sidebar asked to open; the project screen takes it (and clears it). */
  wanted = $state<string | null>(null);

  #reading = 0;

  /** Reads the list again. Docker not answering empties it: nothing is known to run. */
  async refresh(): Promise<void> {
    const ticket = ++this.#reading;
    try {
      const list = await runningPreviews();
      if (ticket !== this.#reading) return;
      this.list = list;
      if (this.#failedFor !== null && !list.some((p) => p.app === this.#failedFor)) {
        this.failure = null;
        this.#failedFor = null;
      }
    } catch {
      if (ticket === this.#reading) this.list = [];
    }
  }

  async stop(app: string): Promise<void> {
    if (this.stopping) return;
    this.stopping = app;
    this.failure = null;
    try {
      await stopPreview(app);
    } catch (e) {
      this.failure = failureOf(e);
      this.#failedFor = app;
    } finally {
      this.stopping = null;
      await this.refresh();
    }
  }

  /** Polls while the window is open; returns the function that stops it. */
  follow(): () => void {
    void this.refresh();
    const timer = setInterval(() => void this.refresh(), PREVIEWS_REFRESH_MS);
    return () => clearInterval(timer);
  }
}

export const previews = new RunningPreviews();
