// The "Use an existing image" form: the image reference (checked by the engine as it is
// typed), the app name and settings folder it proposes until the user changes them, and
// making the project. Opening the made project is the ProjectSession's.
import { createImageProject, imageProjectDefaults, pickFolder, type Project } from '../../ipc';
import { failureOf, type Failure } from '../../ui/failure';

/** How long the form waits after the last keystroke before asking the engine about the image. */
export const IMAGE_CHECK_DELAY_MS = 200;

/** `dir` with its last part replaced by `name`, in the separator `dir` uses. */
export function folderFor(dir: string, name: string): string {
  const cut = Math.max(dir.lastIndexOf('/'), dir.lastIndexOf('\\'));
  return cut < 0 ? name : `${dir.slice(0, cut + 1)}${name}`;
}

export class ImageProjectForm {
  image = $state('');
  name = $state('');
  dir = $state('');
  /** What is wrong with the image reference, in the engine's words; null while it is valid (or empty). */
  imageProblem = $state<string | null>(null);
  checking = $state(false);
  creating = $state(false);
  error = $state<Failure | null>(null);

  canCreate = $derived(
    this.image.trim() !== '' &&
      this.imageProblem === null &&
      this.name.trim() !== '' &&
      this.dir.trim() !== '' &&
      !this.checking &&
      !this.creating,
  );

  /** Once the user types a name or picks a folder, the image no longer proposes one. */
  #nameChosen = false;
  #dirChosen = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #ticket = 0;

  setImage(image: string): void {
    this.image = image;
    this.error = null;
    if (this.#timer !== null) clearTimeout(this.#timer);
    if (image.trim() === '') {
      this.imageProblem = null;
      this.checking = false;
      return;
    }
    this.checking = true;
    const ticket = ++this.#ticket;
    this.#timer = setTimeout(() => void this.#check(image, ticket), IMAGE_CHECK_DELAY_MS);
  }

  async #check(image: string, ticket: number): Promise<void> {
    this.#timer = null;
    try {
      const proposed = await imageProjectDefaults(image);
      if (ticket !== this.#ticket) return;
      this.imageProblem = proposed.problem;
      if (proposed.problem !== null) return;
      if (!this.#nameChosen) this.name = proposed.name;
      if (!this.#dirChosen) this.dir = this.#nameChosen ? folderFor(proposed.dir, this.name) : proposed.dir;
    } catch (e) {
      if (ticket === this.#ticket) this.error = failureOf(e);
    } finally {
      if (ticket === this.#ticket) this.checking = false;
    }
  }

  setName(name: string): void {
    this.name = name;
    this.#nameChosen = true;
    if (!this.#dirChosen && this.dir !== '') this.dir = folderFor(this.dir, name.trim());
  }

  setDir(dir: string): void {
    this.dir = dir;
    this.#dirChosen = true;
  }

  /** The system folder picker for where the settings go; closing it changes nothing. */
  async chooseDir(): Promise<void> {
    try {
      const chosen = await pickFolder('Choose the folder for the project’s settings');
      if (chosen !== null) this.setDir(chosen);
    } catch (e) {
      this.error = failureOf(e);
    }
  }

  /** Makes the project; resolves to it, or to null after showing what went wrong. */
  async create(): Promise<Project | null> {
    if (!this.canCreate) return null;
    this.creating = true;
    this.error = null;
    try {
      return await createImageProject({ image: this.image.trim(), name: this.name.trim(), dir: this.dir.trim() });
    } catch (e) {
      this.error = failureOf(e);
      return null;
    } finally {
      this.creating = false;
    }
  }

  dispose(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
