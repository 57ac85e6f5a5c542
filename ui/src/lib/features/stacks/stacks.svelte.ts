// A vendor's CloudFormation stacks: which account and region, the stacks there, a template
// opened into a form (checked as typed by the engine, AWS-specific parameters offered as
// choices), the review before anything changes, the create or update followed event by
// event, and a stack's outputs, events and deletion. A NoEcho value lives in the form only
// until it is reviewed: the engine keeps the review, the window keeps its id.
import {
  applyStack,
  awsProfiles,
  checkStackValues,
  connectAccount,
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

type Choices = { state: 'loading' } | { state: 'ready'; choices: Choice[] } | { state: 'failed'; failure: Failure };

export class StackDesk {
  place = $state<Place>({ profile: null, region: '' });
  profileNames = $state<string[]>([]);
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
  problems = $state<FieldProblem[]>([]);
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
  deleting = $state(false);

  #checks = 0;

  /** The region's ECS services, and the one open. */
  readonly services = new ServiceDesk(() => this.target);

  get target(): AwsTarget {
    return targetOf(this.place);
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

  /** Proves the chosen account and region, and lists its stacks. */
  async connect(): Promise<void> {
    if (this.connecting) return;
    this.connecting = true;
    this.failure = null;
    this.identity = null;
    this.stacks = null;
    this.services.reset();
    if (this.view === 'service' || this.view === 'stack') this.close();
    try {
      this.identity = await connectAccount(this.target);
      [this.stacks] = await Promise.all([listStacks(this.target), this.services.list()]);
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

  async refresh(): Promise<void> {
    try {
      this.stacks = await listStacks(this.target);
    } catch (e) {
      this.failure = failureOf(e);
    }
  }

  /** Asks for a template file, then opens it. */
  async chooseTemplate(forStack: string | null = null): Promise<void> {
    const path = await pickTemplate();
    if (path !== null) await this.openTemplate(path, forStack);
  }

  /** Reads the template at `path` into the form (for `forStack`, an update of it). */
  async openTemplate(path: string, forStack: string | null = null): Promise<void> {
    if (this.opening || path.trim() === '') return;
    this.opening = true;
    this.failure = null;
    try {
      const template = await openTemplate(path.trim());
      this.path = path.trim();
      this.template = template;
      this.stackName = forStack ?? stackNameFrom(path);
      this.values = Object.fromEntries(template.parameters.map((p) => [p.name, p.default ?? '']));
      this.problems = [];
      this.choices = {};
      this.view = 'form';
      await this.fillSaved();
      void this.loadChoices();
      void this.check();
    } catch (e) {
      this.failure = failureOf(e);
    } finally {
      this.opening = false;
    }
  }

  /** An existing stack's values as last given from this computer (NoEcho ones never kept). */
  async fillSaved(): Promise<void> {
    if (!this.existing) return;
    try {
      const saved = await savedStackValues(this.target, this.stackName.trim());
      for (const [name, value] of Object.entries(saved)) {
        if (name in this.values) this.values[name] = value;
      }
    } catch {
      // Only a convenience: the form keeps the template's defaults.
    }
  }

  /** Loads the choices of every AWS-specific parameter (subnets and groups of the chosen VPC). */
  async loadChoices(only?: (p: Parameter) => boolean): Promise<void> {
    const template = this.template;
    if (!template) return;
    const vpcParam = vpcParameter(template);
    const vpc = vpcParam ? this.values[vpcParam.name] || null : null;
    const wanted = template.parameters.filter((p) => p.picker !== null && (only?.(p) ?? true));
    await Promise.all(
      wanted.map(async (p) => {
        this.choices[p.name] = { state: 'loading' };
        try {
          const choices = await stackChoices(this.target, p.picker!, vpc);
          if (this.template !== template) return;
          this.choices[p.name] = { state: 'ready', choices };
        } catch (e) {
          this.choices[p.name] = { state: 'failed', failure: failureOf(e) };
        }
      }),
    );
  }

  /** Sets a value and checks the form again (a new VPC reloads the subnets and groups). */
  setValue(name: string, value: string): void {
    this.values[name] = value;
    const template = this.template;
    if (template && vpcParameter(template)?.name === name) {
      const inVpc = (p: Parameter) =>
        p.picker !== null && ['subnet', 'subnets', 'securityGroup', 'securityGroups', 'securityGroupName', 'securityGroupNames'].includes(p.picker);
      for (const p of template.parameters.filter(inVpc)) this.values[p.name] = '';
      void this.loadChoices(inVpc);
    }
    void this.check();
  }

  /** The engine's verdict on the values as they are now (the newest check wins). */
  async check(): Promise<void> {
    if (!this.template) return;
    const mine = ++this.#checks;
    try {
      const problems = await checkStackValues(this.path, { ...this.values });
      if (mine === this.#checks) this.problems = problems;
    } catch (e) {
      if (mine === this.#checks) this.failure = failureOf(e);
    }
  }

  problemsOf(name: string): string[] {
    return this.problems.filter((p) => p.field === name).map((p) => p.message);
  }

  /** Asks AWS what the values would do; nothing changes yet. */
  async startReview(): Promise<void> {
    if (this.reviewing || !this.template) return;
    this.reviewing = true;
    this.failure = null;
    try {
      this.review = await reviewStack(this.target, this.path, this.stackName.trim(), { ...this.values });
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
    this.view = 'form';
    if (review) await discardStackReview(review.id).catch(() => undefined);
  }

  /** Creates or updates the stack as reviewed, following its events. */
  async apply(): Promise<void> {
    const review = this.review;
    if (!review) return;
    this.review = null;
    this.view = 'running';
    this.events = [];
    this.status = null;
    this.failure = null;
    this.selected = review.review.stack;
    // The form forgets its values: a NoEcho one is not kept in the window past its use.
    this.values = {};
    const job = applyStack(review.id, (event) => this.#onProgress(event));
    this.#job = job;
    this.following = true;
    try {
      const outcome = await job.promise;
      this.outputs = outcome.outputs;
      this.template = null;
      this.view = 'stack';
      void this.openStack(outcome.stack);
    } catch (e) {
      this.failure = failureOf(e);
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

  /** Shows one stack: its outputs and events. */
  async openStack(name: string): Promise<void> {
    this.selected = name;
    this.view = 'stack';
    this.deletion = null;
    this.failure = null;
    const target = this.target;
    try {
      const [outputs, history] = await Promise.all([stackOutputs(target, name), stackEvents(target, name)]);
      if (this.selected !== name) return;
      this.outputs = outputs;
      this.history = history;
    } catch (e) {
      this.failure = failureOf(e);
    }
  }

  close(): void {
    this.view = 'list';
    this.selected = null;
    this.outputs = null;
    this.history = null;
    this.deletion = null;
    this.template = null;
    this.events = [];
    this.status = null;
    void this.refresh();
  }

  /** What deleting the selected stack leaves behind; nothing is deleted yet. */
  async reviewDelete(): Promise<void> {
    if (!this.selected) return;
    this.failure = null;
    try {
      this.deletion = await reviewStackDelete(this.target, this.selected);
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
    const job = deleteStack(this.target, review, (event) => this.#onProgress(event));
    this.#job = job;
    this.following = true;
    try {
      await job.promise;
      this.close();
    } catch (e) {
      this.failure = failureOf(e);
    } finally {
      this.#job = null;
      this.following = false;
      this.deleting = false;
    }
  }
}
