// The AWS account the open project connects as, shared by every screen: the account banner
// reads it, the AWS, setup and teardown cards fill it. An identity belongs to one project
// folder, profile and region (and to the endpoint override, which is app-wide): when any of
// these change, it is forgotten rather than shown for credentials it no longer describes.
import { untrack } from 'svelte';
import { connectProjectAws, projectConnectsAgain, reconnectProjectAws, type AwsSettings, type CallerIdentity } from '../../ipc';
import { failureOf, type Failure } from '../../ui/failure';

/** Which project settings an identity was found for. */
export function connectionKey(dir: string, aws: Pick<AwsSettings, 'profile' | 'region'>): string {
  return JSON.stringify([dir, aws.profile ?? null, aws.region ?? null]);
}

export class AccountStore {
  #connected = $state<{ key: string; identity: CallerIdentity } | null>(null);
  /** The open project's saved settings, as a connection key; null when none is open. */
  #context = $state<string | null>(null);
  /** The connection keys being asked about now, once per call (a Connect and a reconnect may overlap). */
  #asking = $state<string[]>([]);
  /** The key whose record is being read on opening (does it connect again?), while it is. */
  #checkingKey = $state<string | null>(null);
  /** The key connecting again on opening, while it does. */
  #reconnectingKey = $state<string | null>(null);
  /** The open project's settings are being asked about now. */
  connecting = $derived(this.#context !== null && this.#asking.includes(this.#context));
  /** Opening the open project, Slipway reads whether it connected before (a local record,
   * read in a moment): whether it connects again is not known yet. */
  checking = $derived(this.#context !== null && this.#checkingKey === this.#context);
  /** The open project connects again on opening (it connected before; no click asked for it). */
  reconnecting = $derived(this.#context !== null && this.#reconnectingKey === this.#context);
  /** Why connecting again on opening failed (credentials expired, say), for those settings. */
  #reconnectFailed = $state<{ key: string; failure: Failure } | null>(null);

  /** The connected identity, only while it still describes the open project's settings. */
  identity = $derived(
    this.#connected !== null && this.#connected.key === this.#context ? this.#connected.identity : null,
  );

  /** The open project (or its saved AWS settings) changed; null when no project is open. */
  follow(dir: string | null, aws: AwsSettings | null): void {
    const key = dir !== null && aws !== null ? connectionKey(dir, aws) : null;
    // Called from an effect: it depends on the project's settings, not on this store.
    untrack(() => {
      if (key === this.#context) return;
      this.#context = key;
      if (this.#connected?.key !== key) this.#connected = null;
    });
  }

  /** Why the open project could not connect again on opening; null when it did or never tried. */
  reconnectFailure = $derived(
    this.#reconnectFailed !== null && this.#reconnectFailed.key === this.#context ? this.#reconnectFailed.failure : null,
  );

  /** Asks AWS who the saved settings of the project in `dir` connect as, and remembers it. */
  async connect(dir: string, aws: AwsSettings): Promise<CallerIdentity> {
    const key = connectionKey(dir, aws);
    this.#asking = [...this.#asking, key];
    try {
      const identity = await connectProjectAws(dir);
      this.#connected = { key, identity };
      this.#reconnectFailed = null;
      return identity;
    } catch (e) {
      if (this.#connected?.key === key) this.#connected = null;
      throw e;
    } finally {
      this.#done(key);
    }
  }

  /** The identity for `dir` and `aws`, connecting first when there is none yet. */
  async ensure(dir: string, aws: AwsSettings): Promise<CallerIdentity> {
    const known = this.#connected;
    if (known !== null && known.key === connectionKey(dir, aws)) return known.identity;
    return this.connect(dir, aws);
  }

  /** On opening a project that connected from this computer before: connects it again
   * without a click (a project that never connected stays as it is). Whether it connected
   * before is read first, so "connecting as before" is said only when that is what happens. */
  async reconnect(dir: string, aws: AwsSettings): Promise<void> {
    const key = connectionKey(dir, aws);
    if (this.#connected?.key === key || this.#asking.includes(key)) return;
    this.#asking = [...this.#asking, key];
    this.#checkingKey = key;
    try {
      const again = await projectConnectsAgain(dir);
      if (this.#checkingKey === key) this.#checkingKey = null;
      if (!again || this.#connected !== null) return;
      this.#reconnectingKey = key;
      const identity = await reconnectProjectAws(dir);
      // Never over a connection made meanwhile (a Connect pressed, here or in another project).
      if (identity !== null && this.#connected === null) this.#connected = { key, identity };
    } catch (e) {
      if (this.#connected?.key !== key) this.#reconnectFailed = { key, failure: failureOf(e) };
    } finally {
      if (this.#checkingKey === key) this.#checkingKey = null;
      if (this.#reconnectingKey === key) this.#reconnectingKey = null;
      this.#done(key);
    }
  }

  /** One ask about `key` ended. */
  #done(key: string): void {
    const i = this.#asking.indexOf(key);
    if (i >= 0) this.#asking = [...this.#asking.slice(0, i), ...this.#asking.slice(i + 1)];
  }

  /** Something every identity depends on changed (the endpoint override): check again. */
  forget(): void {
    this.#connected = null;
  }
}

/** The one account store of the window. */
export const account = new AccountStore();
