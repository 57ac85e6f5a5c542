// A vendor's CloudFormation stacks: which account and region, the stacks there, a template
// opened into a form (checked as typed by the engine, AWS-specific parameters offered as
// choices), the review before anything changes, the create or update followed event by
// event, and a stack's outputs, events and deletion. A NoEcho value lives in the form only
// until it is reviewed: the engine keeps the review, the window keeps its id.
import {
  accountSecrets,
  applyStack,
  awsProfiles,
  checkStackValues,
  connectAccount,
  currentStackValues,
  deleteStack,
  discardStackReview,
  listStacks,
  openTemplate,
  pickTemplate,
  reviewStack,
  reviewStackDelete,
  savedStackValues,
  stackChoices,
  stackEvents,
  stackOutputs,
  type AwsTarget,
  type CallerIdentity,
  type Choice,
  type DeleteReview,
  type FieldProblem,
  type Job,
  type Parameter,
  type PendingReview,
  type SecretSummary,
  type StackEventLine,
  type StackOutput,
  type StackProgress,
  type StackSummary,
  type Template,
} from '../../ipc';
import { failureOf, type Failure } from '../../ui/failure';
import { ServiceDesk, type ServiceName } from './services.svelte';

/** Where the stacks are: an AWS profile (null: as the AWS CLI decides) and a region. */
export interface Place {
  profile: string | null;
  region: string;
}

export function targetOf(place: Place): AwsTarget {
  return {
    source: place.profile === null ? { kind: 'default' } : { kind: 'profile', name: place.profile },
    region: place.region.trim() || null,
    endpointUrl: null,
  };
}

/** A stack name from a template's file name: `tollgate-server.yaml` → `tollgate-server`. */
export function stackNameFrom(path: string): string {
  const file = path.split(/[\\/]/).pop() ?? '';
  const base = file.replace(/\.(ya?ml|json|template)$/i, '');
  const name = base.replace(/[^A-Za-z0-9-]+/g, '-').replace(/^[^A-Za-z]+/, '').replace(/-+$/, '');
  return name.slice(0, 128) || 'stack';
}

/** The form's parameters in the template's groups (Interface metadata), the rest last. */
export function grouped(template: Template): { label: string | null; parameters: Parameter[] }[] {
  const placed = new Set<string>();
  const groups: { label: string | null; parameters: Parameter[] }[] = [];
  for (const group of template.groups) {
    const parameters = group.parameters
      .map((name) => template.parameters.find((p) => p.name === name))
      .filter((p): p is Parameter => p !== undefined && !placed.has(p.name));
    for (const p of parameters) placed.add(p.name);
    if (parameters.length > 0) groups.push({ label: group.label, parameters });
  }
  const rest = template.parameters.filter((p) => !placed.has(p.name));
  if (rest.length > 0) groups.push({ label: groups.length > 0 ? 'Other settings' : null, parameters: rest });
  return groups;
}

/** A parameter that takes a secret's ARN or name (not the secret itself): a text field
 * whose name or description speaks of a secret. */
export function takesSecret(p: Parameter): boolean {
  if (p.noEcho || p.picker !== null || p.allowedValues.length > 0 || p.kind !== 'String') return false;
  return /secret/i.test(p.name) || /\bsecret'?s? (arn|name)\b|secrets manager|parameter store/i.test(p.description ?? '');
}

/** How a secret made from a stack's form is described at AWS: what finds it again when
 * the stack is deleted (the secret stays). */
export function secretDescription(stack: string): string {
  return `For the stack ${stack}`;
}

/** The parameter whose value decides which subnets and security groups are offered. */
export function vpcParameter(template: Template): Parameter | undefined {
  return template.parameters.find((p) => p.picker === 'vpc');
}

/** Outputs of the other stacks that a parameter of this name can take (same key, any case). */
export function offeredOutputs(
  stacks: StackSummary[] | null,
  parameter: string,
  except: string,
): { stack: string; output: StackOutput }[] {
  const key = parameter.toLowerCase();
  return (stacks ?? [])
    .filter((s) => s.name !== except)
    .flatMap((s) => s.outputs.filter((o) => o.key.toLowerCase() === key).map((output) => ({ stack: s.name, output })));
}

export type View = 'list' | 'form' | 'review' | 'running' | 'stack' | 'service';

/** The values a form sends: for an update, a NoEcho field left empty is left out (the stack
 * keeps its secret); every other value is sent as the form shows it (filled from the stack's
 * own values, so an untouched one sends what the stack has). */
export function valuesToSend(
  template: Template,
  values: Record<string, string>,
  update: boolean,
): Record<string, string> {
  const sent: Record<string, string> = {};
  for (const p of template.parameters) {
    const value = values[p.name] ?? '';
    if (update && p.noEcho && value === '') continue;
    sent[p.name] = value;
  }
  return sent;
}

type Choices = { state: 'loading' } | { state: 'ready'; choices: Choice[] } | { state: 'failed'; failure: Failure };

export class StackDesk {
  place = $state<Place>({ profile: null, region: '' });
  profileNames = $state<string[]>([]);
  /** The account and region connected: every call goes there. */
  connected = $state<AwsTarget | null>(null);
  identity = $state<CallerIdentity | null>(null);
  connecting = $state(false);
  failure = $state<Failure | null>(null);

  stacks = $state<StackSummary[] | null>(null);
  view = $state<View>('list');

  // The form.
  path = $state('');
  template = $state<Template | null>(null);
  opening = $state(false);
  stackName = $state('');
  values = $state<Record<string, string>>({});
  /** The fields the person changed (an update's others keep the stack's values). */
  touched = $state<Set<string>>(new Set());
  /** The stack the form was filled from (an update), if any. */
  filledFrom = $state<string | null>(null);
  problems = $state<FieldProblem[] | null>(null);
  choices = $state<Record<string, Choices>>({});

  // The review and the run.
  review = $state<PendingReview | null>(null);
  reviewing = $state(false);
  events = $state<StackEventLine[]>([]);
  status = $state<{ status: string; state: string } | null>(null);
  #job: Job<unknown> | null = null;
  /** A create, update or delete is being followed. */
  following = $state(false);

  // One stack.
  selected = $state<string | null>(null);
  outputs = $state<StackOutput[] | null>(null);
  history = $state<StackEventLine[] | null>(null);
  deletion = $state<DeleteReview | null>(null);
  /** The secrets made from this screen for the stack under review for deletion: they stay
   * (null: the account's secrets could not be listed to tell). */
  deletionSecrets = $state<SecretSummary[] | null>([]);
  deleting = $state(false);

  /** Answers to an older question are dropped: each kind counts its questions. */
  #checks = 0;
  #forms = 0;
  #lists = 0;
  #opens = 0;
  #choiceAsked: Record<string, number> = {};

  /** The screen is in view (polls run only then). */
  shown = $state(true);

  setShown(shown: boolean): void {
    this.shown = shown;
    this.services.setShown(shown);
  }

  /** The region's ECS services, and the one open. */
  readonly services = new ServiceDesk(() => this.target);

  /** Where calls go: the account and region connected (the typed one before any). */
  get target(): AwsTarget {
    return this.connected ?? targetOf(this.place);
  }

  /** The typed account or region differs from the one connected. */
  get placeChanged(): boolean {
    return this.connected !== null && JSON.stringify(targetOf(this.place)) !== JSON.stringify(this.connected);
  }

  get existing(): StackSummary | undefined {
    return this.stacks?.find((s) => s.name === this.stackName.trim());
  }

  /** The AWS profiles, the selected one and its region; then connects. */
  async load(): Promise<void> {
    try {
      const aws = await awsProfiles();
      this.profileNames = aws.profiles.map((p) => p.name);
      const chosen = aws.profiles.find((p) => p.name === aws.selectedProfile);
      this.place = {
        profile: chosen ? chosen.name : null,
        region: chosen?.region ?? aws.environmentRegion ?? 'us-east-1',
      };
    } catch (e) {
      this.failure = failureOf(e);
      return;
    }
    await this.connect();
  }

  /** Proves the typed account and region, and lists its stacks and services. */
  async connect(): Promise<void> {
    if (this.connecting || this.following) return;
    const target = targetOf(this.place);
    this.connecting = true;
    this.failure = null;
    this.identity = null;
    this.connected = null;
    this.stacks = null;
    this.services.reset();
    this.leave();
    const mine = ++this.#lists;
    try {
      const identity = await connectAccount(target);
      this.connected = target;
      this.identity = identity;
      const [stacks] = await Promise.all([listStacks(target), this.services.list()]);
      if (mine === this.#lists) this.stacks = stacks;
    } catch (e) {
      this.failure = failureOf(e);
    } finally {
      this.connecting = false;
    }
  }

  /** Shows one ECS service of the region (a stack's, or any). */
  async showService(name: ServiceName): Promise<void> {
    this.view = 'service';
    await this.services.show(name);
  }

  closeService(): void {
    this.services.close();
    this.view = this.selected !== null ? 'stack' : 'list';
  }

  /** Reads the stacks again (the newest answer wins). */
  async refresh(): Promise<void> {
    if (!this.connected) return;
    const target = this.connected;
    const mine = ++this.#lists;
    try {
      const stacks = await listStacks(target);
      if (mine === this.#lists && this.connected === target) this.stacks = stacks;
    } catch (e) {
      if (mine === this.#lists) this.failure = failureOf(e);
    }
  }

  /** Asks for a template file, then opens it. */
  async chooseTemplate(forStack: string | null = null): Promise<void> {
    const path = await pickTemplate();
    if (path !== null) await this.openTemplate(path, forStack);
  }

  /** Reads the template at `path` into the form; for a stack that exists, an update filled
   * from the values it runs with now. */
  async openTemplate(path: string, forStack: string | null = null): Promise<void> {
    if (this.opening || path.trim() === '' || !this.connected) return;
    this.opening = true;
    this.failure = null;
    const form = ++this.#forms;
    try {
      const template = await openTemplate(path.trim());
      if (form !== this.#forms) return;
      this.path = path.trim();
      this.template = template;
      this.stackName = forStack ?? stackNameFrom(path);
      this.values = Object.fromEntries(template.parameters.map((p) => [p.name, p.default ?? '']));
      this.touched = new Set();
      this.filledFrom = null;
      this.problems = null;
      this.choices = {};
      this.review = null;
      this.view = 'form';
      await this.fillFromStack();
      void this.loadChoices();
      void this.check();
    } catch (e) {
      this.failure = failureOf(e);
    } finally {
      this.opening = false;
    }
  }

  /** Fills the fields not touched for the stack named: an existing stack's values as it
   * runs now, else the values this computer last gave a stack of that name. A NoEcho value
   * is never read: left empty in an update, the stack keeps it. */
  async fillFromStack(): Promise<void> {
    const name = this.stackName.trim();
    const template = this.template;
    if (!template || name === '' || this.filledFrom === name) return;
    const form = this.#forms;
    const update = this.existing !== undefined;
    try {
      const known = update
        ? await currentStackValues(this.target, name, this.path)
        : await savedStackValues(this.target, name);
      if (form !== this.#forms || this.stackName.trim() !== name) return;
      this.filledFrom = name;
      for (const p of template.parameters) {
        if (this.touched.has(p.name)) continue;
        if (p.noEcho) this.values[p.name] = '';
        else if (known[p.name] !== undefined) this.values[p.name] = known[p.name]!;
      }
      void this.loadChoices();
      void this.check();
    } catch (e) {
      // Only a convenience when nothing exists yet; an update's form must show its values.
      if (update) this.failure = failureOf(e);
    }
  }

  /** Loads the choices of the AWS-specific parameters (subnets and groups of the VPC chosen
   * now; an answer for a VPC no longer chosen is dropped). */
  async loadChoices(only?: (p: Parameter) => boolean): Promise<void> {
    const template = this.template;
    if (!template) return;
    const vpcParam = vpcParameter(template);
    const vpcNow = () => (vpcParam ? this.values[vpcParam.name] || null : null);
    const vpc = vpcNow();
    const wanted = template.parameters.filter((p) => p.picker !== null && (only?.(p) ?? true));
    await Promise.all(
      wanted.map(async (p) => {
        const mine = (this.#choiceAsked[p.name] = (this.#choiceAsked[p.name] ?? 0) + 1);
        const current = () => this.template === template && this.#choiceAsked[p.name] === mine && vpcNow() === vpc;
        this.choices[p.name] = { state: 'loading' };
        try {
          const choices = await stackChoices(this.target, p.picker!, vpc);
          if (current()) this.choices[p.name] = { state: 'ready', choices };
        } catch (e) {
          if (current()) this.choices[p.name] = { state: 'failed', failure: failureOf(e) };
        }
      }),
    );
  }

  /** Sets a value and checks the form again (a new VPC reloads the subnets and groups). */
  setValue(name: string, value: string): void {
    this.values[name] = value;
    this.touched = new Set(this.touched).add(name);
    const template = this.template;
    if (template && vpcParameter(template)?.name === name) {
      const inVpc = (p: Parameter) =>
        p.picker !== null && ['subnet', 'subnets', 'securityGroup', 'securityGroups', 'securityGroupName', 'securityGroupNames'].includes(p.picker);
      for (const p of template.parameters.filter(inVpc)) this.values[p.name] = '';
      void this.loadChoices(inVpc);
    }
    void this.check();
  }

  /** The values the review gets: an update leaves out a secret not typed again. */
  get sending(): Record<string, string> {
    return this.template ? valuesToSend(this.template, this.values, this.existing !== undefined) : {};
  }

  /** The engine's verdict on the values as they are now (the newest check wins). For an
   * update, a secret left out is kept, not missing. */
  async check(): Promise<void> {
    const template = this.template;
    if (!template) return;
    const mine = ++this.#checks;
    const sent = this.sending;
    try {
      const problems = await checkStackValues(this.path, sent);
      if (mine !== this.#checks || this.template !== template) return;
      this.problems = this.existing ? problems.filter((p) => p.field in sent) : problems;
      if (this.failure?.code === 'InvalidInput') this.failure = null;
    } catch (e) {
      if (mine === this.#checks) this.failure = failureOf(e);
    }
  }

  problemsOf(name: string): string[] {
    return (this.problems ?? []).filter((p) => p.field === name).map((p) => p.message);
  }

  /** Asks AWS what the values would do; nothing changes yet. */
  async startReview(): Promise<void> {
    if (this.reviewing || !this.template) return;
    this.reviewing = true;
    this.failure = null;
    const form = this.#forms;
    try {
      const review = await reviewStack(this.target, this.path, this.stackName.trim(), this.sending);
      if (form !== this.#forms || this.view !== 'form') {
        // The form was left meanwhile: its review is dropped, change set and all.
        await discardStackReview(review.id).catch(() => undefined);
        return;
      }
      this.review = review;
      this.view = 'review';
    } catch (e) {
      this.failure = failureOf(e);
    } finally {
      this.reviewing = false;
    }
  }

  /** Back to the form; an update's change set is deleted. */
  async backToForm(): Promise<void> {
    const review = this.review;
    this.review = null;
    this.failure = null;
    this.view = this.template ? 'form' : 'list';
    if (review) await discardStackReview(review.id).catch(() => undefined);
  }

  /** Creates or updates the stack as reviewed, following its events. The form is kept
   * until the stack is made, so a refusal is fixed without typing everything again. */
  async apply(): Promise<void> {
    const review = this.review;
    if (!review) return;
    this.review = null;
    this.view = 'running';
    this.events = [];
    this.status = null;
    this.failure = null;
    this.selected = review.review.stack;
    const job = applyStack(review.id, (event) => this.#onProgress(event));
    this.#job = job;
    this.following = true;
    try {
      const outcome = await job.promise;
      this.#forgetForm();
      this.events = [];
      this.outputs = outcome.outputs;
      void this.openStack(outcome.stack);
    } catch (e) {
      const failure = failureOf(e);
      if (failure.code === 'Cancelled') {
        // Only the following stopped: the stack goes on changing at AWS.
        this.#forgetForm();
        this.events = [];
        void this.openStack(review.review.stack);
      } else {
        this.failure = failure;
      }
    } finally {
      this.#job = null;
      this.following = false;
      void this.refresh();
    }
  }

  #onProgress(event: StackProgress): void {
    if (event.type === 'Event') this.events = [event.data, ...this.events];
    else if (event.type === 'Status') this.status = event.data;
  }

  /** Stops following (the change goes on at AWS). */
  async stopFollowing(): Promise<void> {
    await this.#job?.cancel();
  }

  /** Shows one stack: its outputs and events (`quiet`: read again in place, keeping what
   * is shown until the new answer is in). */
  async openStack(name: string, { quiet = false } = {}): Promise<void> {
    if (quiet && (this.selected !== name || this.view !== 'stack')) return;
    this.selected = name;
    this.view = 'stack';
    if (!quiet) {
      this.deletion = null;
      this.outputs = null;
      this.history = null;
    }
    const target = this.target;
    const mine = ++this.#opens;
    try {
      const [outputs, history] = await Promise.all([stackOutputs(target, name), stackEvents(target, name)]);
      if (mine !== this.#opens) return;
      this.outputs = outputs;
      this.history = history;
    } catch (e) {
      if (mine !== this.#opens) return;
      if (!quiet) {
        this.outputs = [];
        this.history = [];
      }
      this.failure = failureOf(e);
    }
  }

  /** Back to the list of stacks and services. */
  close(): void {
    this.leave();
    void this.refresh();
  }

  /** Leaves whatever is open: a review not applied is discarded, the form's values
   * (secrets among them) forgotten. */
  leave(): void {
    const review = this.review;
    if (review) void discardStackReview(review.id).catch(() => undefined);
    this.#forgetForm();
    this.view = 'list';
    this.selected = null;
    this.outputs = null;
    this.history = null;
    this.deletion = null;
    this.events = [];
    this.status = null;
  }

  #forgetForm(): void {
    this.#forms++;
    this.review = null;
    this.template = null;
    this.values = {};
    this.touched = new Set();
    this.filledFrom = null;
    this.problems = null;
    this.choices = {};
  }

  /** What deleting the selected stack leaves behind; nothing is deleted yet. */
  async reviewDelete(): Promise<void> {
    const name = this.selected;
    if (!name) return;
    this.failure = null;
    try {
      const [review, secrets] = await Promise.all([
        reviewStackDelete(this.target, name),
        accountSecrets(this.target).catch(() => null),
      ]);
      if (this.selected === name && this.view === 'stack') {
        this.deletion = review;
        this.deletionSecrets = secrets?.filter((s) => s.description === secretDescription(name)) ?? null;
      }
    } catch (e) {
      this.failure = failureOf(e);
    }
  }

  async confirmDelete(): Promise<void> {
    const review = this.deletion;
    if (!review || this.deleting) return;
    this.deleting = true;
    this.events = [];
    this.status = null;
    this.failure = null;
    const job = deleteStack(this.target, $state.snapshot(review), (event) => this.#onProgress(event));
    this.#job = job;
    this.following = true;
    let gone = false;
    try {
      await job.promise;
      gone = true;
    } catch (e) {
      const failure = failureOf(e);
      if (failure.code !== 'Cancelled') this.failure = failure;
    } finally {
      this.#job = null;
      this.following = false;
      this.deleting = false;
      this.deletion = null;
    }
    if (gone) this.close();
    else {
      // Failed or no longer followed: the stack as it stands now.
      void this.refresh();
      void this.openStack(review.stack);
    }
  }
}
