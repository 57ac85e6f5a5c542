// The only module that talks to the Rust side. Features call these functions; they never
// import @tauri-apps/* or the generated bindings themselves.
import { Channel } from '@tauri-apps/api/core';
import { open as openDialog, save as saveDialog } from '@tauri-apps/plugin-dialog';
import { openUrl } from '@tauri-apps/plugin-opener';
import { commands } from './bindings';
import type {
  AppInfo,
  AppSettings,
  AppStatus,
  AwsProfile,
  AwsProfiles,
  AwsReleases,
  AwsTarget,
  Choice,
  DeleteReview,
  PendingReview,
  Picker,
  StackEventLine,
  StackOutcome,
  StackOutput,
  StackProgress,
  StackSummary,
  Template,
  ServiceSummary,
  ServiceView,
  Changed,
  OneOffEvent,
  OneOffOutcome,
  OneOffRequest,
  BuildEvent,
  BuildOutcome,
  BuildRequest,
  CallerIdentity,
  CheckRequest,
  CostEvent,
  CostInputs,
  CostSettings,
  CostSheet,
  DeployEvent,
  DeployOutcome,
  DeployRequest,
  DeregisterPlan,
  EnvironmentEvent,
  EnvironmentReport,
  FieldProblem,
  ImageProjectDefaults,
  ImportOutcome,
  IpcError,
  JournalEntry,
  LogEvent,
  LogPage,
  LogQuery,
  NewAccessKeyProfile,
  NewSecret,
  NewSsoProfile,
  NewImageProject,
  PendingChanges,
  Preflight,
  Preview,
  PreviewEvent,
  PriceRefresh,
  Project,
  ProjectConfig,
  RecentProject,
  ReleaseList,
  RunningPreview,
  UpdateOffer,
  SecretStore,
  SecretSummary,
  SetupEvent,
  SsoSignedIn,
  SsoSignInEvent,
  SsoSignInRequest,
  SetupPlan,
  ScaleOutcome,
  ScaleRequest,
  StopOutcome,
  StopReport,
  SupportBundle,
  TaskSizeOption,
  TeardownEvent,
  TeardownPlan,
} from './bindings';

export type * from './bindings';

/** A failed command: `code` is for branching, `message` is for people. */
export class IpcFailure extends Error {
  readonly code: IpcError['code'];
  constructor(error: IpcError) {
    super(error.message);
    this.code = error.code;
  }
}

/** A long job: its result, and a way to ask it to stop. */
export interface Job<T> {
  promise: Promise<T>;
  cancel: () => Promise<boolean>;
}

type Outcome<T> = { status: 'ok'; data: T } | { status: 'error'; error: IpcError };

function newJobId(prefix: string): string {
  return `${prefix}-${crypto.randomUUID()}`;
}

function startJob<T, E>(
  prefix: string,
  onEvent: (event: E) => void,
  run: (jobId: string, channel: Channel<E>) => Promise<Outcome<T>>,
): Job<T> {
  const jobId = newJobId(prefix);
  const channel = new Channel<E>(onEvent);
  const promise = run(jobId, channel).then((outcome) => {
    if (outcome.status === 'error') throw new IpcFailure(outcome.error);
    return outcome.data;
  });
  return { promise, cancel: () => commands.cancelJob(jobId) };
}

export function appInfo(): Promise<AppInfo> {
  return commands.appInfo();
}

/** Writes the support bundle (logs, deploy journal, versions; redacted) to `path`. */
export const exportSupportBundle = (path: string): Promise<SupportBundle> =>
  unwrap(commands.exportSupportBundle(path));

export function checkEnvironment(
  request: CheckRequest,
  onEvent: (event: EnvironmentEvent) => void,
): Job<EnvironmentReport> {
  return startJob('environment', onEvent, (jobId, channel) =>
    commands.checkEnvironment(jobId, request, channel),
  );
}

/** Unwraps a command's `{status, data | error}` into a value or a thrown IpcFailure. */
async function unwrap<T>(outcome: Promise<Outcome<T>>): Promise<T> {
  const result = await outcome;
  if (result.status === 'error') throw new IpcFailure(result.error);
  return result.data;
}

/** The system folder picker; null when the user closes it without choosing. */
export async function pickFolder(title = 'Open a folder with a Dockerfile'): Promise<string | null> {
  const chosen = await openDialog({ directory: true, multiple: false, title });
  return typeof chosen === 'string' ? chosen : null;
}

/** A kind of file the save dialog offers, e.g. `{ name: 'Text', extensions: ['txt', 'log'] }`. */
export interface FileKind {
  name: string;
  extensions: string[];
}

const TEXT: FileKind = { name: 'Text', extensions: ['txt', 'log'] };

/** The system open dialog for one file; null when the user closes it without choosing. */
export async function pickFile(title: string): Promise<string | null> {
  const chosen = await openDialog({ directory: false, multiple: false, title });
  return typeof chosen === 'string' ? chosen : null;
}

/** The system save dialog (for a text file unless `kind` says); null when the user closes it without choosing. */
export async function pickSavePath(title: string, defaultPath: string, kind: FileKind = TEXT): Promise<string | null> {
  const chosen = await saveDialog({ title, defaultPath, filters: [kind] });
  return typeof chosen === 'string' ? chosen : null;
}

/** Opens a URL in the user's browser. */
export function openInBrowser(url: string): Promise<void> {
  return openUrl(url);
}

export const openProject = (dir: string): Promise<Project> => unwrap(commands.openProject(dir));
export const openSample = (): Promise<Project> => unwrap(commands.openSample());
export const validateProject = (config: ProjectConfig): Promise<FieldProblem[]> => commands.validateProject(config);
export const saveProject = (dir: string, config: ProjectConfig): Promise<Project> =>
  unwrap(commands.saveProject(dir, config));
export const recentProjects = (): Promise<RecentProject[]> => unwrap(commands.recentProjects());
export const forgetRecentProject = (dir: string): Promise<null> => unwrap(commands.forgetRecentProject(dir));
export const taskSizes = (): Promise<TaskSizeOption[]> => commands.taskSizes();
export const checkProject = (dir: string, config: ProjectConfig): Promise<Preflight> =>
  unwrap(commands.checkProject(dir, config));
/** The app name and settings folder proposed for an image, and what is wrong with the reference if anything. */
export const imageProjectDefaults = (image: string): Promise<ImageProjectDefaults> => commands.imageProjectDefaults(image);
/** Makes a project that deploys `request.image` (its folder holds only slipway.toml) and opens it. */
export const createImageProject = (request: NewImageProject): Promise<Project> =>
  unwrap(commands.createImageProject(request));

export function buildProject(
  dir: string,
  request: BuildRequest,
  onEvent: (event: BuildEvent) => void,
): Job<BuildOutcome> {
  return startJob('build', onEvent, (jobId, channel) => commands.buildProject(jobId, dir, request, channel));
}

export const startPreview = (dir: string, version: string | null): Promise<Preview> =>
  unwrap(commands.startPreview(dir, version));
export const previewStatus = (app: string): Promise<Preview | null> => unwrap(commands.previewStatus(app));
export const stopPreview = (app: string): Promise<boolean> => unwrap(commands.stopPreview(app));
/** A newer Slipway from this build's release feed; null when none (or the build has no feed). */
export const checkUpdate = (): Promise<UpdateOffer | null> => unwrap(commands.checkUpdate());
/** Downloads, verifies and installs the update the last check found, then restarts Slipway. */
export const installUpdate = (): Promise<null> => unwrap(commands.installUpdate());
/** The previews running on this computer, whichever project they belong to. */
export const runningPreviews = (): Promise<RunningPreview[]> => unwrap(commands.runningPreviews());

/** Streams the preview's logs and health until it exits or `cancel` is called. */
export function watchPreview(dir: string, onEvent: (event: PreviewEvent) => void): Job<null> {
  return startJob('preview', onEvent, (jobId, channel) => commands.watchPreview(jobId, dir, channel));
}

export const localReleases = (dir: string): Promise<ReleaseList> => unwrap(commands.localReleases(dir));
export const rollbackLocal = (dir: string, to: string | null): Promise<Preview> =>
  unwrap(commands.rollbackLocal(dir, to));

// AWS: every command below works on the project's saved slipway.toml ([aws] profile,
// region, vpc, allow_from, log_retention_days) and the app-wide endpoint override.

export const awsProfiles = (): Promise<AwsProfiles> => unwrap(commands.awsProfiles());
/** Writes an access-key profile to the AWS CLI's own files; Slipway keeps no copy of the key. */
export const addAccessKeyProfile = (request: NewAccessKeyProfile): Promise<AwsProfile> =>
  unwrap(commands.addAccessKeyProfile(request));
/** Signs in with AWS SSO; its events say when to open the browser or which code to confirm. */
export function ssoSignIn(request: SsoSignInRequest, onEvent: (event: SsoSignInEvent) => void): Job<SsoSignedIn> {
  return startJob('sso', onEvent, (jobId, channel) => commands.ssoSignIn(jobId, request, channel));
}
export const saveSsoProfile = (request: NewSsoProfile): Promise<AwsProfile> => unwrap(commands.saveSsoProfile(request));
/** The portal and region an SSO profile signs in again with; null when it is not one. */
export const ssoSignInForProfile = (profile: string): Promise<SsoSignInRequest | null> =>
  unwrap(commands.ssoSignInForProfile(profile));
/** Opens a sign-in page in the user's browser (through the engine, which tests can watch). */
export const openSignInPage = async (url: string): Promise<void> => {
  await unwrap(commands.openInBrowser(url));
};
/** The secrets of the project's account and region (names and ARNs, never values). */
export const appSecrets = (dir: string): Promise<SecretSummary[]> => unwrap(commands.appSecrets(dir));
/** Creates a secret per variable of a `.env` file, named after the app; stops at a refusal. */
export const importAppSecrets = (dir: string, file: string, store: SecretStore): Promise<ImportOutcome> =>
  unwrap(commands.importAppSecrets(dir, file, store));
/** Creates a secret on AWS; the value goes straight there. */
export const createAppSecret = (dir: string, request: NewSecret): Promise<SecretSummary> =>
  unwrap(commands.createAppSecret(dir, request));
export const connectProjectAws = (dir: string): Promise<CallerIdentity> => unwrap(commands.connectProjectAws(dir));
/** Who the project connects as, when it connected from this computer before; null when it never did. */
export const projectConnectsAgain = (dir: string): Promise<boolean> => unwrap(commands.projectConnectsAgain(dir));
export const reconnectProjectAws = (dir: string): Promise<CallerIdentity | null> => unwrap(commands.reconnectProjectAws(dir));
export const appSettings = (): Promise<AppSettings> => unwrap(commands.appSettings());
export const saveAppSettings = (settings: AppSettings): Promise<AppSettings> =>
  unwrap(commands.saveAppSettings(settings));
/** This computer's public IPv4 as a /32. */
export const findMyIp = (): Promise<string> => unwrap(commands.findMyIp());

export const planSetup = (dir: string): Promise<SetupPlan> => unwrap(commands.planSetup(dir));

/**
 * Creates or completes the app's AWS resources as `plan` (the one shown) lists them, and no
 * more if the account changed since; resolves to the plan observed afterwards.
 */
export function applySetup(dir: string, plan: SetupPlan, onEvent: (event: SetupEvent) => void): Job<SetupPlan> {
  return startJob('setup', onEvent, (jobId, channel) => commands.applySetup(jobId, dir, plan, channel));
}

export const planTeardown = (dir: string): Promise<TeardownPlan> => unwrap(commands.planTeardown(dir));

/**
 * Removes what `plan` (the one shown) lists for removal, never more; resolves to what is
 * left (the kept items).
 */
export function applyTeardown(dir: string, plan: TeardownPlan, onEvent: (event: TeardownEvent) => void): Job<TeardownPlan> {
  return startJob('teardown', onEvent, (jobId, channel) => commands.applyTeardown(jobId, dir, plan, channel));
}

/** Pushes a local release and runs it on Fargate; resolves once its URL answers. */
export function deploy(dir: string, request: DeployRequest, onEvent: (event: DeployEvent) => void): Job<DeployOutcome> {
  return startJob('deploy', onEvent, (jobId, channel) => commands.deploy(jobId, dir, request, channel));
}

export const appStatus = (dir: string): Promise<AppStatus> => unwrap(commands.appStatus(dir));
/** What the next deploy would change in the task definition, against the current revision (no change). */
export const taskDefinitionChanges = (dir: string): Promise<PendingChanges> => unwrap(commands.taskDefinitionChanges(dir));
/** Stops every task of the app and scales its service to zero. */
export const stopApp = (dir: string): Promise<StopReport> => unwrap(commands.stopApp(dir));
/** Stops one of the app's standalone tasks (a service's task is refused: scale the service instead). */
export const stopTask = (dir: string, taskId: string): Promise<StopReport> => unwrap(commands.stopTask(dir, taskId));
/** How many tasks the app's service runs behind its load balancer, and its auto scaling:
 * saved in slipway.toml first (refused there when not allowed), then applied to the service. */
export const scaleApp = (dir: string, request: ScaleRequest): Promise<ScaleOutcome> => unwrap(commands.scaleApp(dir, request));
/** Deploys of any app that started and never finished (the window closed mid-deploy). */
export const unfinishedDeploys = (): Promise<JournalEntry[]> => unwrap(commands.unfinishedDeploys());
/** Closes an unfinished deploy; `stop` stops the tasks it started first. */
export const settleDeploy = (deployId: string, stop: boolean): Promise<JournalEntry> =>
  unwrap(commands.settleDeploy(deployId, stop));

// Cost: the estimate for the project's saved settings (and for choices being tried), the
// app's cost choices, and the watch that meters what runs and applies the idle guard.

/** Never fails for want of the Price List API: the sheet's `prices.notes` say why prices were not refreshed. */
export const projectCost = (dir: string, refresh: PriceRefresh): Promise<CostSheet> =>
  unwrap(commands.projectCost(dir, refresh));
/** The sheet for choices being tried, at cached or bundled prices (no network). */
export const estimateCost = (inputs: CostInputs): Promise<CostSheet> => unwrap(commands.estimateCost(inputs));
export const costSettings = (dir: string): Promise<CostSettings> => unwrap(commands.costSettings(dir));
/** Validates and saves the app's cost choices; nothing is written when one is invalid. */
export const saveCostSettings = (dir: string, settings: CostSettings): Promise<CostSettings> =>
  unwrap(commands.saveCostSettings(dir, settings));

/** Meters what the app runs every 30 s and applies its auto-stop and reminder, until `cancel` is called. */
export function watchCosts(dir: string, onEvent: (event: CostEvent) => void): Job<null> {
  return startJob('costs', onEvent, (jobId, channel) => commands.watchCosts(jobId, dir, channel));
}

// Operating what runs: releases on AWS (a rollback is `deploy` with `request.rollback`),
// deregistering old revisions, and the app's CloudWatch logs.

/** The app's task definition revisions, their images and deploys, and whether each can be rolled back to. */
export const awsReleases = (dir: string): Promise<AwsReleases> => unwrap(commands.awsReleases(dir));
/** Which revisions deregistering would remove, keeping the newest `keep` (no change). */
export const deregisterPlan = (dir: string, keep: number): Promise<DeregisterPlan> => unwrap(commands.deregisterPlan(dir, keep));
/** Deregisters what `deregisterPlan` chose; resolves to the plan it applied. */
/** Deregisters the confirmed `revisions` (from a plan) that a fresh plan still allows. */
export const deregisterRevisions = (dir: string, keep: number, revisions: number[]): Promise<DeregisterPlan> =>
  unwrap(commands.deregisterRevisions(dir, keep, revisions));

/** The lines `query` finds, oldest first. */
export const appLogs = (dir: string, query: LogQuery): Promise<LogPage> => unwrap(commands.appLogs(dir, query));

/** Streams the app's new log lines until `cancel` is called. */
export function followLogs(dir: string, query: LogQuery, onEvent: (event: LogEvent) => void): Job<null> {
  return startJob('logs', onEvent, (jobId, channel) => commands.followLogs(jobId, dir, query, channel));
}

/** Writes the lines `query` finds to `path` as text; resolves to how many. */
export const saveLogs = (dir: string, query: LogQuery, path: string): Promise<number> =>
  unwrap(commands.saveLogs(dir, query, path));

/** The system open dialog for a CloudFormation template; null when closed without choosing. */
export async function pickTemplate(): Promise<string | null> {
  const chosen = await openDialog({
    directory: false,
    multiple: false,
    title: 'Open a CloudFormation template',
    filters: [
      { name: 'CloudFormation template', extensions: ['yaml', 'yml', 'json', 'template'] },
      { name: 'Any file', extensions: ['*'] },
    ],
  });
  return typeof chosen === 'string' ? chosen : null;
}

/** Who `target`'s credentials belong to, proven now. */
export const connectAccount = (target: AwsTarget): Promise<CallerIdentity> => unwrap(commands.connectAccount(target));
export const listStacks = (target: AwsTarget): Promise<StackSummary[]> => unwrap(commands.listStacks(target));
/** The template at `path`, read into what its form needs. */
export const openTemplate = (path: string): Promise<Template> => unwrap(commands.openTemplate(path));
/** The form's values checked as CloudFormation will; empty when all are fine. */
export const checkStackValues = (path: string, values: Record<string, string>): Promise<FieldProblem[]> =>
  unwrap(commands.checkStackValues(path, values));
export const stackChoices = (target: AwsTarget, picker: Picker, vpc: string | null): Promise<Choice[]> =>
  unwrap(commands.stackChoices(target, picker, vpc));
/** The values this computer last gave a stack of that name (never NoEcho ones). */
export const savedStackValues = (target: AwsTarget, stack: string): Promise<Record<string, string>> =>
  unwrap(commands.savedStackValues(target, stack));
/** An existing stack's values as it runs now (never NoEcho ones), for an update's form. */
export const currentStackValues = (target: AwsTarget, stack: string, path: string): Promise<Record<string, string>> =>
  unwrap(commands.currentStackValues(target, stack, path));
/** What creating or updating the stack will do; nothing changes until it is applied. */
export const reviewStack = (
  target: AwsTarget,
  path: string,
  stack: string,
  values: Record<string, string>,
): Promise<PendingReview> => unwrap(commands.reviewStack(target, path, stack, values));
export function applyStack(review: string, onEvent: (event: StackProgress) => void): Job<StackOutcome> {
  return startJob('stack', onEvent, (jobId, channel) => commands.applyStack(jobId, review, channel));
}
export const discardStackReview = (review: string): Promise<null> => unwrap(commands.discardStackReview(review));
export const stackOutputs = (target: AwsTarget, stack: string): Promise<StackOutput[]> =>
  unwrap(commands.stackOutputs(target, stack));
export const stackEvents = (target: AwsTarget, stack: string): Promise<StackEventLine[]> =>
  unwrap(commands.stackEvents(target, stack));
export const reviewStackDelete = (target: AwsTarget, stack: string): Promise<DeleteReview> =>
  unwrap(commands.reviewStackDelete(target, stack));
export function deleteStack(
  target: AwsTarget,
  review: DeleteReview,
  onEvent: (event: StackProgress) => void,
): Job<null> {
  return startJob('stack-delete', onEvent, (jobId, channel) => commands.deleteStack(jobId, target, review, channel));
}

export const listServices = (target: AwsTarget): Promise<ServiceSummary[]> => unwrap(commands.listServices(target));
/** One service: its tasks with their IPs and cost, its rollout and its events. */
export const describeService = (target: AwsTarget, cluster: string, service: string): Promise<ServiceView> =>
  unwrap(commands.describeService(target, cluster, service));
export const scaleService = (target: AwsTarget, cluster: string, service: string, desired: number): Promise<Changed> =>
  unwrap(commands.scaleService(target, cluster, service, desired));
export const redeployService = (target: AwsTarget, cluster: string, service: string): Promise<number> =>
  unwrap(commands.redeployService(target, cluster, service));
export const rollBackService = (
  target: AwsTarget,
  cluster: string,
  service: string,
  to: number | null,
): Promise<Changed> => unwrap(commands.rollBackService(target, cluster, service, to));
/** Runs a one-off command on the service's task definition and network; cancelling stops its task. */
export function runServiceTask(
  target: AwsTarget,
  cluster: string,
  service: string,
  request: OneOffRequest,
  onEvent: (event: OneOffEvent) => void,
): Job<OneOffOutcome> {
  return startJob('one-off', onEvent, (jobId, channel) =>
    commands.runServiceTask(jobId, target, cluster, service, request, channel),
  );
}
export const serviceLogs = (target: AwsTarget, cluster: string, service: string, query: LogQuery): Promise<LogPage> =>
  unwrap(commands.serviceLogs(target, cluster, service, query));
/** The account's secrets in both stores (names and ARNs, never values). */
export const accountSecrets = (target: AwsTarget): Promise<SecretSummary[]> => unwrap(commands.accountSecrets(target));
/** Creates a secret in the account; its value goes to AWS and nowhere else. */
export const createAccountSecret = (target: AwsTarget, request: NewSecret): Promise<SecretSummary> =>
  unwrap(commands.createAccountSecret(target, request));
