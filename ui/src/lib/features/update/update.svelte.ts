// A newer Slipway: asked for once on start, offered in a banner, installed on request (the
// engine verifies the download's signature; a failure leaves this version running and says so).
import { checkUpdate, installUpdate, type UpdateOffer } from '../../ipc';
import { failureOf, type Failure } from '../../ui/failure';

export class SlipwayUpdate {
  offer = $state<UpdateOffer | null>(null);
  installing = $state(false);
  failure = $state<Failure | null>(null);
  /** The user chose Later: not offered again until the next start. */
  dismissed = $state(false);

  /** Asks the release feed. A failed check is not the user's business: it only goes to the log. */
  async check(): Promise<void> {
    try {
      this.offer = await checkUpdate();
    } catch {
      this.offer = null;
    }
  }

  async install(): Promise<void> {
    if (this.installing || !this.offer) return;
    this.installing = true;
    this.failure = null;
    try {
      await installUpdate();
    } catch (e) {
      this.failure = failureOf(e);
    } finally {
      this.installing = false;
    }
  }
}
