// The Project screen's state: which project is open, the settings as edited (validated by
// the engine as they change), saving them, the recent list and the pre-flight findings.
// Building, the preview and releases keep their own state in their features.
import {
  checkProject,
  forgetRecentProject,
  openProject,
  openSample,
  pickFolder,
  recentProjects,
  saveProject,
  taskSizes,
  validateProject,
  type FieldProblem,
  type Preflight,
  type Project,
  type ProjectConfig,
  type RecentProject,
  type TaskSizeOption,
} from '../../ipc';
import { failureOf, type Failure } from '../../ui/failure';
import { memoryAfterCpuChange, placeProblems, sameAws, sameConfig } from './fields';

/** How long the form waits after the last keystroke before asking the engine. */
export const VALIDATE_DELAY_MS = 150;
/** u32 on the Rust side. */
const MAX_NUMBER = 4_294_967_295;

export class ProjectSession {
  project = $state<Project | null>(null);
  /** The settings as the form shows them; the saved ones are `project.config`. */
  draft = $state<ProjectConfig | null>(null);
  problems = $state<FieldProblem[]>([]);
  /** Number fields whose text is not a number yet, by field; the config keeps its last number. */
  inputProblems = $state<Record<string, string>>({});
  validating = $state(false);
  opening = $state(false);
  saving = $state(false);
  /** When the last save finished, for the confirmation. */
  savedAt = $state<number | null>(null);
  error = $state<Failure | null>(null);
  recent = $state<RecentProject[] | null>(null);
  sizes = $state<TaskSizeOption[]>([]);
  preflight = $state<Preflight | null>(null);
  checking = $state(false);
  preflightError = $state<Failure | null>(null);

  dirty = $derived(this.project !== null && this.draft !== null && !sameConfig(this.project.config, this.draft));
  placed = $derived(this.draft ? placeProblems(this.problems, this.draft) : null);
  hasProblems = $derived(this.problems.length > 0 || Object.keys(this.inputProblems).length > 0);
  canSave = $derived(
    this.project !== null &&
      (this.dirty || !this.project.saved) &&
      !this.hasProblems &&
      !this.validating &&
      !this.saving,
  );

  #timer: ReturnType<typeof setTimeout> | null = null;
  #validation = 0;
  #validatedKey = '';
  #recheckAgain = false;

  /** The welcome panel's data: recent projects and Fargate's task sizes. */
  async loadWelcome(): Promise<void> {
    await Promise.all([this.loadRecent(), this.#loadSizes()]);
  }

  async loadRecent(): Promise<void> {
    try {
      this.recent = await recentProjects();
    } catch (e) {
      this.error = failureOf(e);
    }
  }

  async #loadSizes(): Promise<void> {
    try {
      this.sizes = await taskSizes();
    } catch (e) {
      this.error = failureOf(e);
    }
  }

  /** Asks for a folder and opens it; closing the picker changes nothing. */
  async openFolder(): Promise<void> {
    let dir: string | null;
    try {
      dir = await pickFolder();
    } catch (e) {
      this.error = failureOf(e);
      return;
    }
    if (dir !== null) await this.open(dir);
  }

  open(dir: string): Promise<void> {
    return this.#adopt(() => openProject(dir));
  }

  openSample(): Promise<void> {
    return this.#adopt(openSample);
  }

  /** Shows a project made elsewhere (the "Use an existing image" form) like an opened one. */
  adopt(project: Project): Promise<void> {
    return this.#adopt(() => Promise.resolve(project));
  }

  async #adopt(load: () => Promise<Project>): Promise<void> {
    if (this.opening) return;
    this.opening = true;
    this.error = null;
    try {
      const project = await load();
      this.#clearTimer();
      this.#show(project);
      this.preflight = null;
      this.preflightError = null;
      this.savedAt = null;
      if (this.sizes.length === 0) await this.#loadSizes();
      void this.recheck();
    } catch (e) {
      this.error = failureOf(e);
    } finally {
      this.opening = false;
    }
  }

  #show(project: Project): void {
    this.project = project;
    this.draft = structuredClone(project.config);
    this.problems = project.problems;
    this.inputProblems = {};
    this.validating = false;
    this.#validatedKey = JSON.stringify(project.config);
  }

  /** Back to the welcome panel. */
  close(): void {
    this.#clearTimer();
    this.#validation += 1;
    this.project = null;
    this.draft = null;
    this.problems = [];
    this.inputProblems = {};
    this.validating = false;
    this.preflight = null;
    this.preflightError = null;
    this.savedAt = null;
    this.error = null;
    void this.loadRecent();
  }

  /** The form changed: validate `config` once the typing pauses. Unchanged settings are not re-asked. */
  edited(config: ProjectConfig): void {
    const key = JSON.stringify(config);
    if (key === this.#validatedKey) return;
    this.#validatedKey = key;
    this.savedAt = null;
    this.#clearTimer();
    this.validating = true;
    const ticket = ++this.#validation;
    this.#timer = setTimeout(() => void this.#validate(config, ticket), VALIDATE_DELAY_MS);
  }

  async #validate(config: ProjectConfig, ticket: number): Promise<void> {
    this.#timer = null;
    try {
      const problems = await validateProject(config);
      if (ticket === this.#validation) this.problems = problems;
    } catch (e) {
      if (ticket === this.#validation) this.error = failureOf(e);
    } finally {
      if (ticket === this.#validation) this.validating = false;
    }
  }

  /** A number field's new value, or null when its text is not a whole number. */
  setNumber(field: string, value: number | null, apply: (n: number) => void): void {
    const next = { ...this.inputProblems };
    if (value === null || value > MAX_NUMBER) {
      next[field] = 'Enter a whole number.';
    } else {
      delete next[field];
      apply(value);
    }
    this.inputProblems = next;
  }

  /** A new CPU setting, with the memory moved to the smallest valid size if it no longer fits. */
  setCpu(cpu: number): void {
    if (!this.draft) return;
    this.draft.task = { cpu, memory: memoryAfterCpuChange(this.sizes, cpu, this.draft.task.memory) };
  }

  async save(): Promise<void> {
    if (!this.project || !this.draft || !this.canSave) return;
    const sent = $state.snapshot(this.draft);
    this.saving = true;
    this.error = null;
    try {
      const saved = await saveProject(this.project.dir, sent);
      const editedMeanwhile = !sameConfig(sent, $state.snapshot(this.draft));
      if (editedMeanwhile) {
        this.project = saved;
      } else {
        this.#show(saved);
      }
      this.savedAt = Date.now();
      void this.recheck();
    } catch (e) {
      // The draft stays as the user left it; only the banner says what went wrong.
      this.error = failureOf(e);
    } finally {
      this.saving = false;
    }
  }

  /**
   * Writes the form's `[aws]` settings to slipway.toml on top of the saved settings, leaving
   * every other edit unsaved: AWS commands read the saved file, and connecting should not
   * also publish a half-finished port or secret. Resolves to the saved project (unchanged
   * when the AWS settings already were saved); rejects with what went wrong, for the caller
   * to show where the user acted.
   */
  async saveAws(): Promise<Project> {
    if (!this.project || !this.draft) throw new Error('Open a project first.');
    if (!this.project.saved) throw new Error('Save the settings first: AWS reads them from slipway.toml.');
    const aws = $state.snapshot(this.draft.aws);
    if (sameAws(aws, this.project.config.aws)) return this.project;
    const sent = { ...$state.snapshot(this.project.config), aws };
    this.saving = true;
    try {
      const saved = await saveProject(this.project.dir, sent);
      if (sameConfig(saved.config, $state.snapshot(this.draft))) {
        this.#show(saved);
        this.savedAt = Date.now();
      } else {
        this.project = saved;
      }
      return saved;
    } finally {
      this.saving = false;
    }
  }

  /**
   * Reads slipway.toml's `[aws]` section again after the engine wrote it (a scale from the
   * Running on AWS card): the saved settings take it, and so does the form's `[aws]` when it
   * had no unsaved change; every other unsaved edit stays as it is.
   */
  async reloadAws(): Promise<void> {
    if (!this.project) return;
    const dir = this.project.dir;
    try {
      const fresh = await openProject(dir);
      if (this.project?.dir !== dir) return;
      const untouched = this.draft !== null && sameAws($state.snapshot(this.draft.aws), this.project.config.aws);
      this.project = { ...this.project, config: { ...this.project.config, aws: fresh.config.aws } };
      if (this.draft && untouched) this.draft.aws = structuredClone(fresh.config.aws);
    } catch (e) {
      this.error = failureOf(e);
    }
  }

  /** Pre-flight for the settings as the form has them. */
  async recheck(): Promise<void> {
    if (this.checking) {
      this.#recheckAgain = true;
      return;
    }
    if (!this.project || !this.draft) return;
    const dir = this.project.dir;
    this.checking = true;
    this.preflightError = null;
    try {
      const preflight = await checkProject(dir, $state.snapshot(this.draft));
      if (this.project?.dir === dir) this.preflight = preflight;
    } catch (e) {
      if (this.project?.dir === dir) this.preflightError = failureOf(e);
    } finally {
      this.checking = false;
    }
    if (this.#recheckAgain) {
      this.#recheckAgain = false;
      await this.recheck();
    }
  }

  async forget(dir: string): Promise<void> {
    try {
      await forgetRecentProject(dir);
      await this.loadRecent();
    } catch (e) {
      this.error = failureOf(e);
    }
  }

  dispose(): void {
    this.#clearTimer();
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
