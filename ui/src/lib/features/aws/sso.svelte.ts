// Signing in with AWS SSO (IAM Identity Center) from the AWS card: the engine runs the
// sign-in and says what the user has to do (finish in the browser, or confirm a code);
// then the user picks an account and a role and the engine saves them as a profile. A
// profile whose session ended signs in again with the same portal and nothing to save.
import {
  openSignInPage,
  saveSsoProfile,
  ssoSignIn,
  ssoSignInForProfile,
  type AwsProfile,
  type Job,
  type SignInMethod,
  type SsoAccount,
  type SsoSignedIn,
  type SsoSignInEvent,
} from '../../ipc';
import { failureOf, type Failure } from '../../ui/failure';

export type SsoPhase = 'form' | 'browser' | 'code' | 'finishing' | 'choose' | 'saving';

/** A profile name from the portal's and the account's names: `my-team-demo-apps`. */
export function suggestedProfileName(session: string, account: SsoAccount | undefined): string {
  const slug = (text: string) =>
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '');
  const name = [slug(session), account ? slug(account.name) : ''].filter((part) => part !== '').join('-');
  return name.slice(0, 64) || 'sso';
}

export class SsoSignIn {
  phase = $state<SsoPhase>('form');
  startUrl = $state('');
  ssoRegion = $state('us-east-1');
  method = $state<SignInMethod>('browser');
  /** The page to finish on (browser) or to confirm the code on. */
  pageUrl = $state<string | null>(null);
  userCode = $state<string | null>(null);
  /** The browser could not be opened by Slipway: the user opens the page themselves. */
  openFailed = $state(false);
  signedIn = $state<SsoSignedIn | null>(null);
  failure = $state<Failure | null>(null);
  /** Signing in again for this existing profile (nothing to save afterwards). */
  again = $state<string | null>(null);

  #job: Job<SsoSignedIn> | null = null;
  /** The session an existing profile renews (see prepareAgain). */
  #session: string | null = null;
  #attempt = 0;
  #onSaved: (profile: AwsProfile) => void;
  #onSignedInAgain: (profile: string) => void;

  constructor(onSaved: (profile: AwsProfile) => void, onSignedInAgain: (profile: string) => void) {
    this.#onSaved = onSaved;
    this.#onSignedInAgain = onSignedInAgain;
  }

  get waiting(): boolean {
    return this.phase === 'browser' || this.phase === 'code' || this.phase === 'finishing';
  }

  /** Prefills the form from `profile`'s session, to sign in again; false when it is not SSO. */
  async prepareAgain(profile: string): Promise<boolean> {
    let request = null;
    try {
      request = await ssoSignInForProfile(profile);
    } catch (e) {
      this.failure = failureOf(e);
    }
    if (!request) {
      this.failure ??= {
        code: 'InvalidInput',
        message: `Slipway found no AWS SSO sign-in for profile “${profile}” on this computer. Enter its access portal address and region to sign in.`,
      };
      return false;
    }
    this.startUrl = request.startUrl;
    this.ssoRegion = request.ssoRegion;
    this.#session = request.session ?? null;
    this.again = profile;
    return true;
  }

  async start(): Promise<void> {
    if (this.waiting) return;
    this.failure = null;
    this.openFailed = false;
    this.pageUrl = null;
    this.userCode = null;
    this.phase = this.method === 'code' ? 'code' : 'browser';
    const request = { startUrl: this.startUrl.trim(), ssoRegion: this.ssoRegion.trim(), method: this.method, session: this.#session };
    // What a sign-in already cancelled (or replaced) says or ends with changes nothing.
    const attempt = ++this.#attempt;
    const current = () => this.#attempt === attempt;
    const job = ssoSignIn(request, (event) => {
      if (current()) this.#onEvent(event);
    });
    this.#job = job;
    try {
      const signedIn = await job.promise;
      if (!current()) return;
      this.signedIn = signedIn;
      if (this.again) {
        this.#onSignedInAgain(this.again);
        this.phase = 'form';
      } else {
        this.phase = 'choose';
      }
    } catch (e) {
      if (!current()) return;
      const failure = failureOf(e);
      this.failure = failure.code === 'Cancelled' ? null : failure;
      this.phase = 'form';
    } finally {
      if (current()) this.#job = null;
    }
  }

  #onEvent(event: SsoSignInEvent): void {
    if (event.kind === 'openBrowser') {
      this.phase = 'browser';
      this.pageUrl = event.url;
      void this.openPage();
    } else if (event.kind === 'confirmCode') {
      this.phase = 'code';
      this.pageUrl = event.url;
      this.userCode = event.userCode;
    } else {
      this.phase = 'finishing';
    }
  }

  /** Opens the sign-in page (again); when that fails the page's address is shown to copy. */
  async openPage(): Promise<void> {
    if (!this.pageUrl) return;
    try {
      await openSignInPage(this.pageUrl);
      this.openFailed = false;
    } catch {
      this.openFailed = true;
    }
  }

  async cancel(): Promise<void> {
    const job = this.#job;
    this.#job = null;
    this.#attempt++;
    this.phase = 'form';
    if (job) await job.cancel();
  }

  async save(name: string, account: SsoAccount, role: string, region: string | null): Promise<AwsProfile | null> {
    const signedIn = this.signedIn;
    if (!signedIn || this.phase === 'saving') return null;
    this.phase = 'saving';
    this.failure = null;
    try {
      const profile = await saveSsoProfile({
        name: name.trim(),
        sessionName: signedIn.sessionName,
        startUrl: signedIn.startUrl,
        ssoRegion: signedIn.ssoRegion,
        accountId: account.accountId,
        roleName: role,
        region,
      });
      this.#onSaved(profile);
      return profile;
    } catch (e) {
      this.failure = failureOf(e);
      this.phase = 'choose';
      return null;
    }
  }
}
