// The AWS card's state: the profiles on this computer, connecting the open project with the
// profile and region it chose, and adding an access-key profile. Keys go straight to the
// AWS CLI's own files through the engine; nothing here keeps or logs a secret.
import {
  addAccessKeyProfile,
  awsProfiles,
  type AwsProfile,
  type AwsProfiles,
  type ErrorCode,
  type NewAccessKeyProfile,
} from '../../ipc';
import { failureOf, type Failure } from '../../ui/failure';
import { profileKindLabel } from '../environment/labels';
import type { ProjectSession } from '../project/project.svelte';
import { account } from './aws.svelte';
import { SsoSignIn } from './sso.svelte';

export interface ProfileChoice {
  /** The profile name, or '' for the AWS CLI's default choice. */
  value: string;
  label: string;
}

/** The profile select's choices: the default, every profile (kind, region), and the saved one if it is gone. */
export function profileChoices(profiles: AwsProfiles | null, current: string | null): ProfileChoice[] {
  const defaultLabel = profiles?.environment
    ? 'Default (environment credentials)'
    : `Default (profile “${profiles?.selectedProfile ?? 'default'}”)`;
  const choices: ProfileChoice[] = [{ value: '', label: defaultLabel }];
  for (const profile of profiles?.profiles ?? []) {
    const region = profile.region ? `, ${profile.region}` : '';
    choices.push({ value: profile.name, label: `${profile.name} — ${profileKindLabel[profile.kind]}${region}` });
  }
  if (current && profiles && !profiles.profiles.some((p) => p.name === current)) {
    choices.push({ value: current, label: `${current} — not found on this computer` });
  }
  return choices;
}

/** The region the chosen profile would use when the project names none. */
export function profileRegion(profiles: AwsProfiles | null, profile: string | null): string | null {
  if (!profiles) return null;
  if (profile) return profiles.profiles.find((p) => p.name === profile)?.region ?? null;
  if (profiles.environment) return profiles.environmentRegion;
  return profiles.profiles.find((p) => p.name === profiles.selectedProfile)?.region ?? profiles.environmentRegion;
}

/** What to do next when connecting failed for want of credentials; null when the message says it all. */
export function connectHint(code: ErrorCode | null): string | null {
  if (code === 'NoCredentials' || code === 'ProfileNotFound') {
    return 'Pick another profile, or use “Add an access key…” to add one for an IAM user.';
  }
  if (code === 'SsoSessionExpired') {
    return 'Sign in again with “Sign in again…”, then press Connect.';
  }
  if (code === 'ConsoleSignInMissing') {
    return 'Pick another profile, or use “Sign in with AWS SSO…” or “Add an access key…”.';
  }
  if (code === 'CredentialsRejected') {
    return 'The key may have been deactivated or deleted: create a new one in the IAM console and add it with “Add an access key…”.';
  }
  return null;
}

export class AwsAccess {
  profiles = $state<AwsProfiles | null>(null);
  failure = $state<Failure | null>(null);
  /** The access-key form is open. */
  adding = $state(false);
  savingKey = $state(false);
  keyFailure = $state<Failure | null>(null);
  /** The profile just added, for the confirmation. */
  added = $state<AwsProfile | null>(null);
  connecting = $derived(account.connecting);
  /** The SSO sign-in in progress (the form is open), if any. */
  sso = $state<SsoSignIn | null>(null);
  /** The profile just signed in again, for the confirmation. */
  signedInAgain = $state<string | null>(null);

  #session: ProjectSession;

  constructor(session: ProjectSession) {
    this.#session = session;
  }

  async loadProfiles(): Promise<void> {
    try {
      this.profiles = await awsProfiles();
    } catch (e) {
      this.failure = failureOf(e);
    }
  }

  /** Saves the chosen profile and region to slipway.toml if they changed, then asks AWS who they are. */
  async connect(): Promise<void> {
    if (account.connecting) return;
    this.failure = null;
    this.added = null;
    try {
      const project = await this.#session.saveAws();
      await account.connect(project.dir, project.config.aws);
    } catch (e) {
      this.failure = failureOf(e);
    }
  }

  /** Opens the SSO sign-in; with `again`, for that existing profile whose session ended. */
  async openSso(again: string | null = null): Promise<void> {
    if (this.sso?.waiting) return;
    this.added = null;
    this.signedInAgain = null;
    const flow = new SsoSignIn(
      (profile) => void this.#ssoSaved(profile),
      (profile) => {
        this.signedInAgain = profile;
        this.failure = null;
        this.sso = null;
      },
    );
    // A profile whose sign-in cannot be found opens the form empty, saying so.
    if (again !== null) await flow.prepareAgain(again);
    this.adding = false;
    this.sso = flow;
  }

  closeSso(): void {
    void this.sso?.cancel();
    this.sso = null;
  }

  async #ssoSaved(profile: AwsProfile): Promise<void> {
    this.added = profile;
    this.sso = null;
    await this.loadProfiles();
    const draft = this.#session.draft;
    if (draft) draft.aws.profile = profile.name;
  }

  openKeyForm(): void {
    this.closeSso();
    this.adding = true;
    this.added = null;
    this.keyFailure = null;
  }

  closeKeyForm(): void {
    this.adding = false;
    this.keyFailure = null;
  }

  /**
   * Writes the profile to the AWS CLI's files, then lists the profiles again and picks the
   * new one for the project. The caller clears its copy of the secret whatever happens.
   */
  async addKey(request: NewAccessKeyProfile): Promise<AwsProfile | null> {
    if (this.savingKey) return null;
    this.savingKey = true;
    this.keyFailure = null;
    try {
      const profile = await addAccessKeyProfile(request);
      this.added = profile;
      this.adding = false;
      await this.loadProfiles();
      const draft = this.#session.draft;
      if (draft) draft.aws.profile = profile.name;
      return profile;
    } catch (e) {
      this.keyFailure = failureOf(e);
      return null;
    } finally {
      this.savingKey = false;
    }
  }
}

/**
 * Why AWS actions cannot start now, in words; null when they can. They read the saved
 * slipway.toml, so a proposal must be saved first and the [aws] settings must be valid.
 */
export function awsBlocker(session: ProjectSession): string | null {
  if (session.project && !session.project.saved) return 'Save the settings first: AWS reads them from slipway.toml.';
  if (session.problems.some((p) => p.field.startsWith('aws.'))) return 'Fix the AWS settings marked in red first.';
  return null;
}
