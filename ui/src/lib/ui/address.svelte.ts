// Open and Copy for an address the window shows (a preview's, a deploy's, the app's live
// one): opening goes to the user's browser, never this window; copying says that it did,
// or that the system refused the clipboard and what to do then.
import { openInBrowser } from '../ipc';
import { failureOf, type Failure } from './failure';

/** How long "Copied" stays beside the button. */
const NOTE_MS = 4000;

export class AddressActions {
  /** "Copied", or why the clipboard refused, for a few seconds after Copy. */
  copyNote = $state<string | null>(null);
  /** Why the browser could not be opened, until the next Open. */
  openFailure = $state<Failure | null>(null);
  #timer: ReturnType<typeof setTimeout> | undefined;

  async copy(url: string): Promise<void> {
    try {
      await navigator.clipboard.writeText(url);
      this.copyNote = 'Copied';
    } catch {
      this.copyNote = 'The system refused the clipboard: select the address and copy it yourself.';
    }
    // Cleared here, after the await, so two quick copies leave one timer.
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => (this.copyNote = null), NOTE_MS);
  }

  async open(url: string): Promise<void> {
    this.openFailure = null;
    try {
      await openInBrowser(url);
    } catch (e) {
      this.openFailure = failureOf(e);
    }
  }

  dispose(): void {
    clearTimeout(this.#timer);
  }
}
