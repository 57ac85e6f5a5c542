// Secrets on AWS from the settings form: pick one the account has, or create one whose
// value goes straight to AWS. Either way the Secrets table gets a row naming it by ARN;
// this window never keeps a value.
import { appSecrets, createAppSecret, importAppSecrets, pickFile, type SecretStore, type SecretSummary } from '../../ipc';
import { failureOf, type Failure } from '../../ui/failure';
import type { ProjectSession } from './project.svelte';

/** What keeping one secret costs a month, as the store's choice says it. */
export const storeChoices: { store: SecretStore; label: string; cost: string }[] = [
  { store: 'parameterStore', label: 'Parameter Store', cost: 'free' },
  { store: 'secretsManager', label: 'Secrets Manager', cost: '$0.40 a month' },
];

/** The name a secret gets on AWS from the app's and the variable's: `hello-site/database-url`. */
export function awsSecretName(app: string, variable: string, store: SecretStore): string {
  const slug = variable.trim().toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  const name = `${app}/${slug || 'secret'}`;
  return store === 'parameterStore' ? `/${name}` : name;
}

export class AppSecrets {
  mode = $state<'closed' | 'pick' | 'create' | 'import'>('closed');
  /** The .env file chosen to import. */
  file = $state<string | null>(null);
  listed = $state<SecretSummary[] | null>(null);
  loading = $state(false);
  saving = $state(false);
  failure = $state<Failure | null>(null);
  /** The variables just added, for the confirmation. */
  added = $state<string | null>(null);

  #sessionOf: () => ProjectSession;

  /** `session` is read at each use: the form may be given another project's. */
  constructor(session: () => ProjectSession) {
    this.#sessionOf = session;
  }

  get #session(): ProjectSession {
    return this.#sessionOf();
  }

  async openPicker(): Promise<void> {
    this.mode = 'pick';
    this.added = null;
    this.failure = null;
    const dir = this.#session.project?.dir;
    if (!dir || this.loading) return;
    this.loading = true;
    try {
      this.listed = await appSecrets(dir);
    } catch (e) {
      this.failure = failureOf(e);
    } finally {
      this.loading = false;
    }
  }

  /** Asks for a .env file; the import itself waits for the user's store choice. */
  async chooseFile(): Promise<void> {
    this.added = null;
    this.failure = null;
    const file = await pickFile('Import secrets from a .env file');
    if (file === null) return;
    this.file = file;
    this.mode = 'import';
  }

  /** Creates a secret per variable of the chosen file and adds them all to the draft. */
  async importFile(store: SecretStore): Promise<void> {
    const dir = this.#session.project?.dir;
    if (!dir || !this.file || this.saving) return;
    this.saving = true;
    this.failure = null;
    try {
      const outcome = await importAppSecrets(dir, this.file, store);
      for (const item of outcome.imported) this.#name(item.variable, item.secret);
      const names = outcome.imported.map((i) => i.variable);
      this.added = names.length > 0 ? names.join(', ') : null;
      if (outcome.stopped) {
        const made = names.length > 0 ? ` The ones before it were created and added: ${names.join(', ')}.` : ' Nothing was created.';
        this.failure = { code: 'InvalidInput', message: `The import stopped at ${outcome.stopped}${made}` };
      } else {
        this.mode = 'closed';
        this.file = null;
      }
    } catch (e) {
      this.failure = failureOf(e);
    } finally {
      this.saving = false;
    }
  }

  openCreate(): void {
    this.mode = 'create';
    this.added = null;
    this.failure = null;
  }

  close(): void {
    this.mode = 'closed';
    this.failure = null;
  }

  /** Adds `variable` = the secret's ARN to the draft's secrets (replacing that variable's row). */
  use(variable: string, secret: SecretSummary): void {
    this.#name(variable, secret);
    this.added = variable.trim();
    this.mode = 'closed';
  }

  #name(variable: string, secret: SecretSummary): void {
    const draft = this.#session.draft;
    if (!draft) return;
    const name = variable.trim();
    const row = draft.secrets.find((r) => r.name === name);
    if (row) row.value = secret.arn;
    else draft.secrets.push({ name, value: secret.arn });
  }

  /** Creates the secret on AWS, then uses it; false (with the failure shown) when AWS refused. */
  async create(variable: string, awsName: string, store: SecretStore, value: string): Promise<boolean> {
    const dir = this.#session.project?.dir;
    if (!dir || this.saving) return false;
    this.saving = true;
    this.failure = null;
    try {
      const secret = await createAppSecret(dir, { name: awsName.trim(), store, value, description: `${variable.trim()} of ${this.#session.draft?.name ?? 'the app'}` });
      this.use(variable, secret);
      return true;
    } catch (e) {
      this.failure = failureOf(e);
      return false;
    } finally {
      this.saving = false;
    }
  }
}
