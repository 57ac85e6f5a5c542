// The open project's local releases (images Slipway built, newest first), which one the
// preview runs, and the one-click local rollback: run an older release in the preview.
import { localReleases, rollbackLocal, type LocalRelease, type Preview, type ReleaseList } from '../../ipc';
import { failureOf, type Failure } from '../../ui/failure';

export interface ReleaseRow {
  release: LocalRelease;
  shortId: string;
  running: boolean;
  /** What its button does: run a release newer than the running one (or when none runs), or go back to an older one. */
  action: 'run' | 'rollback' | null;
}

/** The 12 hex digits Docker shows for an image id. */
export function shortImageId(imageId: string): string {
  return imageId.replace(/^sha256:/, '').slice(0, 12);
}

export function releaseRows(list: ReleaseList): ReleaseRow[] {
  const runningAt = list.releases.findIndex((r) => r.version === list.running);
  return list.releases.map((release, index) => {
    const running = index === runningAt;
    let action: ReleaseRow['action'] = 'run';
    if (running) action = null;
    else if (runningAt !== -1 && index > runningAt) action = 'rollback';
    return { release, shortId: shortImageId(release.imageId), running, action };
  });
}

export class ReleaseShelf {
  list = $state<ReleaseList | null>(null);
  loading = $state(false);
  /** The version being started by a rollback. */
  switching = $state<string | null>(null);
  failure = $state<Failure | null>(null);
  rows = $derived(this.list ? releaseRows(this.list) : []);

  #dir: string;
  #generation = 0;

  constructor(dir: string) {
    this.#dir = dir;
  }

  async refresh(): Promise<void> {
    const generation = ++this.#generation;
    this.loading = true;
    try {
      const list = await localReleases(this.#dir);
      if (generation === this.#generation) {
        this.list = list;
        this.failure = null;
      }
    } catch (e) {
      if (generation === this.#generation) this.failure = failureOf(e);
    } finally {
      if (generation === this.#generation) this.loading = false;
    }
  }

  /** Runs `version` in the preview in place of what runs now; the new preview, or null on failure. */
  async run(version: string): Promise<Preview | null> {
    if (this.switching) return null;
    this.switching = version;
    this.failure = null;
    let preview: Preview | null = null;
    let failure: Failure | null = null;
    try {
      preview = await rollbackLocal(this.#dir, version);
    } catch (e) {
      failure = failureOf(e);
    }
    this.switching = null;
    await this.refresh();
    // After the refresh, which clears the listing's own error.
    if (failure) this.failure = failure;
    return preview;
  }
}
