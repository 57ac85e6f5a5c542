// Deploys the journal shows as started and never finished (Slipway closed mid-deploy),
// for every app, read once when the window opens: each may have left tasks running that
// cost money until someone decides to stop them or keep them.
import { settleDeploy, unfinishedDeploys, type JournalEntry } from '../../ipc';
import { failureOf, type Failure } from '../../ui/failure';
import { formatAgo } from '../../ui/format';
import { taskCount } from './status.svelte';

/** The banner's sentence for one unfinished deploy. */
export function unfinishedText(entry: JournalEntry, nowMs: number): string {
  if (entry.outcome === 'needs attention' && entry.summary) {
    return `A deploy of ${entry.app} (${entry.version}, ${entry.region}) could not stop everything it started. ${entry.summary}`;
  }
  const tasks = entry.startedTasks.length;
  const left =
    tasks > 0
      ? `It started ${taskCount(tasks)} that may still run and cost money.`
      : 'It had not started a task yet, as far as Slipway knows.';
  const service = entry.service ? ` It also changed service ${entry.service}.` : '';
  const when = entry.startedAt === null ? '' : ` started ${formatAgo(entry.startedAt, nowMs)}`;
  return `A deploy of ${entry.app} (${entry.version}, ${entry.region})${when} did not finish. ${left}${service}`;
}

export class UnfinishedDeploys {
  entries = $state<JournalEntry[]>([]);
  /** The deploy being settled, and how. */
  settling = $state<{ id: string; stop: boolean } | null>(null);
  failure = $state<Failure | null>(null);
  /** What the last settle did, in the engine's words. */
  settled = $state<{ app: string; summary: string } | null>(null);

  async load(): Promise<void> {
    try {
      this.entries = await unfinishedDeploys();
    } catch (e) {
      this.failure = failureOf(e);
    }
  }

  /** Closes one: `stop` stops the tasks it started; otherwise they keep running. */
  async settle(id: string, stop: boolean): Promise<void> {
    if (this.settling) return;
    this.settling = { id, stop };
    this.failure = null;
    try {
      const entry = await settleDeploy(id, stop);
      if (entry.finishedAt === null) {
        // Not everything could be stopped: it stays, saying what still runs.
        this.entries = this.entries.map((e) => (e.id === id ? entry : e));
        return;
      }
      this.entries = this.entries.filter((e) => e.id !== id);
      this.settled = { app: entry.app, summary: entry.summary ?? (stop ? 'its tasks were stopped' : 'its tasks kept running') };
    } catch (e) {
      this.failure = failureOf(e);
    } finally {
      this.settling = null;
    }
  }
}
