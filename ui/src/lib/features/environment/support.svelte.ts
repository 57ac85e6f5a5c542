// The support bundle, from the Environment screen: ask where to save it, write it, and
// say where it went (or why it could not be written).
import { exportSupportBundle, pickSavePath, type SupportBundle } from '../../ipc';
import { failureOf, type Failure } from '../../ui/failure';

const ARCHIVE = { name: 'Compressed archive', extensions: ['tar.gz', 'tgz'] };

/** The name the save dialog proposes: "slipway-support-20261122-0146.tar.gz". */
export function bundleFileName(nowMs: number): string {
  const at = new Date(nowMs);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `slipway-support-${at.getFullYear()}${pad(at.getMonth() + 1)}${pad(at.getDate())}-${pad(at.getHours())}${pad(at.getMinutes())}.tar.gz`;
}

export class SupportBundleExport {
  exporting = $state(false);
  written = $state<SupportBundle | null>(null);
  failure = $state<Failure | null>(null);

  /** Asks where to save, then writes the bundle there; closing the dialog does nothing. */
  async export(): Promise<void> {
    if (this.exporting) return;
    this.failure = null;
    this.written = null;
    let path: string | null;
    try {
      path = await pickSavePath('Save a support bundle', bundleFileName(Date.now()), ARCHIVE);
    } catch (e) {
      this.failure = failureOf(e);
      return;
    }
    if (path === null) return;
    this.exporting = true;
    try {
      this.written = await exportSupportBundle(path);
    } catch (e) {
      this.failure = failureOf(e);
    } finally {
      this.exporting = false;
    }
  }
}
