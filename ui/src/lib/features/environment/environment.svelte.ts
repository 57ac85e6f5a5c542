// The Environment screen's state: the latest probe results as they stream in, which
// credentials to check, and the running check (cancellable).
import {
  appInfo,
  checkEnvironment,
  IpcFailure,
  type AwsProfiles,
  type AwsTarget,
  type CredentialSource,
  type DockerStatus,
  type EnvironmentEvent,
  type IdentityStatus,
  type Job,
  type EnvironmentReport,
  type AppInfo,
} from '../../ipc';

export class EnvironmentCheck {
  docker = $state<DockerStatus | null>(null);
  aws = $state<AwsProfiles | null>(null);
  identity = $state<IdentityStatus>({ state: 'notChecked' });
  app = $state<AppInfo | null>(null);
  running = $state(false);
  checkingIdentity = $state(false);
  error = $state<string | null>(null);
  source = $state<CredentialSource>({ kind: 'default' });
  #job: Job<EnvironmentReport> | null = null;
  #endpoint: () => string | null;

  /** `endpoint` is the saved AWS endpoint override, which the identity check goes to too. */
  constructor(endpoint: () => string | null = () => null) {
    this.#endpoint = endpoint;
  }

  /** Probes Docker and reads the profiles; with `withIdentity`, also asks AWS who we are. */
  async run(withIdentity: boolean): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.checkingIdentity = withIdentity;
    this.error = null;
    if (withIdentity) this.identity = { state: 'notChecked' };
    const target: AwsTarget | null = withIdentity
      ? { source: this.source, region: null, endpointUrl: this.#endpoint() }
      : null;
    const job = checkEnvironment({ identity: target }, (event) => this.#apply(event, withIdentity));
    this.#job = job;
    try {
      const report = await job.promise;
      this.app = report.app;
    } catch (e) {
      this.error = e instanceof IpcFailure && e.code === 'Cancelled' ? 'Check cancelled.' : String(e instanceof Error ? e.message : e);
    } finally {
      this.running = false;
      this.checkingIdentity = false;
      this.#job = null;
    }
  }

  async loadApp(): Promise<void> {
    this.app = await appInfo();
  }

  cancel(): void {
    void this.#job?.cancel();
  }

  #apply(event: EnvironmentEvent, withIdentity: boolean): void {
    switch (event.type) {
      case 'DockerProbed':
        this.docker = event.data;
        break;
      case 'ProfilesRead':
        this.aws = event.data;
        this.#keepSourceValid(event.data);
        break;
      case 'IdentityChecked':
        if (withIdentity) this.identity = event.data;
        break;
    }
  }

  /** After the files change, a selected profile that vanished falls back to the default. */
  #keepSourceValid(aws: AwsProfiles): void {
    const source = this.source;
    if (source.kind === 'profile' && !aws.profiles.some((p) => p.name === source.name)) {
      this.source = { kind: 'default' };
    }
    if (source.kind === 'environment' && !aws.environment) {
      this.source = { kind: 'default' };
    }
  }
}

export function sourceKey(source: CredentialSource): string {
  return source.kind === 'profile' ? `profile:${source.name}` : source.kind;
}

export function sourceFromKey(key: string): CredentialSource {
  if (key.startsWith('profile:')) return { kind: 'profile', name: key.slice('profile:'.length) };
  return key === 'environment' ? { kind: 'environment' } : { kind: 'default' };
}
