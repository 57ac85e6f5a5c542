// The app-wide AWS endpoint override: every AWS call goes there instead of AWS when set
// (an emulator such as moto or LocalStack). Changing it makes every connected identity
// doubtful, so the account banner is cleared and checks again on the next connect.
import { appSettings, saveAppSettings, type AppSettings } from '../../ipc';
import { failureOf, type Failure } from '../../ui/failure';
import { account } from '../aws/aws.svelte';

/** Where AWS calls go, in one sentence. */
export function endpointStatus(url: string | null): string {
  return url ? `AWS calls go to ${url} (an emulator), not AWS` : 'AWS calls go to AWS';
}

export class EndpointSetting {
  /** What is saved; null until read. */
  saved = $state<AppSettings | null>(null);
  /** The input's text. */
  text = $state('');
  saving = $state(false);
  failure = $state<Failure | null>(null);
  /** When the last save finished, for the confirmation. */
  savedAt = $state<number | null>(null);
  current = $derived(this.saved?.awsEndpointUrl ?? null);
  changed = $derived(this.saved !== null && this.text.trim() !== (this.saved.awsEndpointUrl ?? ''));

  async load(): Promise<void> {
    try {
      this.saved = await appSettings();
      this.text = this.saved.awsEndpointUrl ?? '';
    } catch (e) {
      this.failure = failureOf(e);
    }
  }

  /** Saves the input (empty means AWS itself); an invalid address is refused and says why. */
  async save(): Promise<void> {
    if (this.saving) return;
    this.saving = true;
    this.failure = null;
    const url = this.text.trim();
    try {
      this.saved = await saveAppSettings({ awsEndpointUrl: url === '' ? null : url });
      this.text = this.saved.awsEndpointUrl ?? '';
      this.savedAt = Date.now();
      account.forget();
    } catch (e) {
      this.failure = failureOf(e);
    } finally {
      this.saving = false;
    }
  }

  /** Back to AWS itself. */
  async clear(): Promise<void> {
    this.text = '';
    await this.save();
  }
}
