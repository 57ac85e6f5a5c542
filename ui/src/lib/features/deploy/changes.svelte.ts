// What the next deploy would change in the task definition (size, environment, secrets,
// health check, port) against the app's current revision, read while AWS is connected and
// again after the settings are saved or a deploy ends. The comparison is the engine's.
import { taskDefinitionChanges, type PendingChanges } from '../../ipc';
import { failureOf, type Failure } from '../../ui/failure';

/** The engine's word for "no revision yet": the whole definition is new. */
const FIRST = 'first revision';

/** The sentence above the list of changes. */
export function pendingHeadline(pending: PendingChanges): string {
  if (pending.revision === null) return `The first deploy registers ${pending.family} revision 1.`;
  if (pending.changes.length === 0) {
    return `Only the image can change: the size, environment, secrets, health check and port of ${pending.family} revision ${pending.revision} match the saved settings.`;
  }
  const n = pending.changes.length;
  return `The next deploy registers a new revision of ${pending.family}, with ${n === 1 ? 'this change' : `these ${n} changes`} from revision ${pending.revision}:`;
}

/** The changes worth listing (the first revision's single "first revision" says nothing the headline does not). */
export function listedChanges(pending: PendingChanges): string[] {
  return pending.revision === null ? pending.changes.filter((c) => c !== FIRST) : pending.changes;
}

export class NextDeployChanges {
  pending = $state<PendingChanges | null>(null);
  loading = $state(false);
  failure = $state<Failure | null>(null);

  #dir: string;
  #ticket = 0;
  /** The saved settings the last reading was for: showing the card again reads nothing new. */
  #readFor: string | null = null;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** Reads the changes for these saved settings, unless they were read already (and did not fail). */
  async ensure(savedKey: string): Promise<void> {
    if (savedKey === this.#readFor && this.failure === null) return;
    this.#readFor = savedKey;
    await this.refresh();
  }

  async refresh(): Promise<void> {
    const ticket = ++this.#ticket;
    this.loading = true;
    try {
      const pending = await taskDefinitionChanges(this.#dir);
      if (ticket !== this.#ticket) return;
      this.pending = pending;
      this.failure = null;
    } catch (e) {
      if (ticket === this.#ticket) this.failure = failureOf(e);
    } finally {
      if (ticket === this.#ticket) this.loading = false;
    }
  }
}
