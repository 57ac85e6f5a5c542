// Stands in for Tauri's IPC inside a plain browser, so the built UI can be driven by
// Playwright. Installed with page.addInitScript(installTauriMock, scenario); the scenario
// says what each command answers. Channel events are delivered exactly as Tauri does:
// `{ message, index }` to the callback registered by the Channel.
export function installTauriMock(scenario) {
  const callbacks = new Map();
  let nextId = 1;
  /** Jobs waiting to be cancelled, by job id: resolves their wait. */
  const cancellable = new Map();
  const calls = [];
  window.__SLIPWAY_CALLS__ = calls;
  const wait = (ms) => new Promise((r) => setTimeout(r, ms));
  const untilCancelled = (jobId) => new Promise((resolve) => cancellable.set(jobId, resolve));
  const channel = (onEvent) => {
    let index = 0;
    return (type, data) => callbacks.get(onEvent.id)?.({ message: { type, data }, index: index++ });
  };

  async function checkEnvironment({ jobId, request, onEvent }) {
    const send = channel(onEvent);
    await wait(scenario.delayMs ?? 30);
    send('DockerProbed', scenario.docker);
    send('ProfilesRead', scenario.aws);
    if (request.identity && scenario.hangIdentity) {
      await untilCancelled(jobId);
      throw refusals.messages.cancelled;
    }
    const identity = request.identity ? scenario.identity : { state: 'notChecked' };
    await wait(scenario.delayMs ?? 30);
    send('IdentityChecked', identity);
    return { app: scenario.app, docker: scenario.docker, aws: scenario.aws, identity };
  }

  // The Project screen's world: one project (the sample), its releases and its preview.
  const project = scenario.project ?? {};
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const aged = ({ ageSeconds, ...release }) => ({ ...release, createdAt: nowSeconds() - ageSeconds });
  const world = {
    saved: project.sample ? structuredClone(project.sample) : null,
    releases: (scenario.releases ?? project.releases ?? []).map(aged),
    running: scenario.runningVersion ?? null,
  };
  /** Lets a flow hold a build or a setup half-way and look at it: `window.__SLIPWAY_MOCK__.resumeBuild()`. */
  let resumeBuild = null;
  let resumeSetup = null;
  window.__SLIPWAY_MOCK__ = { resumeBuild: () => resumeBuild?.(), resumeSetup: () => resumeSetup?.() };

  // The engine's own answers to "validate" (tests/fixtures/validation.json, written by
  // slipway-core's tests): for each value a field takes, what the engine says of the sample
  // with only that value changed. Nothing here knows a rule; a value the fixture lacks fails
  // loudly, naming where to add it.
  const validation = scenario.validation;
  /** A fixture's answer, or a loud failure naming what to add where. */
  function fromFixture(answer, missing) {
    if (answer === undefined) {
      // Also uncaught, so a flow that checks the page's errors fails even where the window
      // shows the refusal quietly.
      setTimeout(() => {
        throw new Error(missing);
      });
      throw { code: 'Internal', message: missing };
    }
    return answer;
  }
  function answerFor(field, value) {
    return fromFixture(
      validation.cases[`${field}:${value}`],
      `tests/fixtures/validation.json has no answer for ${field} = "${value}": add it to VALUES in slipway-core's project/validate.rs tests and run them.`,
    );
  }
  // The engine's own refusals of the endpoint override, an access key and a rollback
  // (tests/fixtures/refusals.json, written by the desktop crate's refusals_fixture test):
  // null where the engine accepts.
  const refusals = scenario.refusals;
  function refusalOf(kind, key) {
    return fromFixture(
      refusals[kind][key],
      `tests/fixtures/refusals.json has no ${kind} answer for "${key}": add it to src-tauri/refusals_fixture.rs and run it.`,
    );
  }
  function validate(config) {
    const asks = [
      ['name', config.name, 0],
      ['port', String(config.port), 0],
      ['task', `${config.task.cpu}/${config.task.memory}`, 0],
      ...(config.image ? [['image', config.image, 0]] : []),
    ];
    for (const [section, pairs] of [['build_args', config.buildArgs], ['env', config.env], ['secrets', config.secrets]]) {
      pairs.forEach((pair, index) => asks.push([section, pair.name, index]));
    }
    // The fixture's rows sit first in their list; a row's place is its own here.
    return asks.flatMap(([field, value, index]) =>
      answerFor(field, value).map((p) => ({ ...p, field: p.field === `${field}[1]` ? `${field}[${index + 1}]` : p.field })),
    );
  }

  const opened = (p) => ({ ...structuredClone(p), problems: validate(p.config) });
  const previewOf = (version) => {
    const release = world.releases.find((r) => r.version === version);
    return { ...project.preview, version, imageId: release.imageId };
  };
  const releaseList = () => ({ app: project.sample.config.name, releases: world.releases, running: world.running });

  async function buildProject({ jobId, onEvent }) {
    const send = channel(onEvent);
    const plan = scenario.buildFails ? project.failingBuild : project.build;
    const pauseAfter = scenario.pauseBuild ? project.build.pauseAfter : -1;
    const cancelled = untilCancelled(jobId).then(() => 'cancelled');
    for (const [index, event] of plan.events.entries()) {
      if (index === pauseAfter) {
        const resumed = new Promise((resolve) => (resumeBuild = () => resolve('resumed')));
        if ((await Promise.race([resumed, cancelled])) === 'cancelled') {
          throw refusals.messages.cancelled;
        }
      }
      await wait(scenario.delayMs ?? 15);
      send(event.type, event.data);
    }
    cancellable.delete(jobId);
    if (scenario.buildFails) throw project.failingBuild.error;
    const release = aged(project.build.release);
    // The folder does not change between builds here: the second build finds the first.
    if (world.releases[0]?.version === release.version) return { release: world.releases[0], upToDate: true, elapsedMs: 40 };
    world.releases = [release, ...world.releases.map((r) => ({ ...r, latest: false }))];
    return { release, upToDate: false, elapsedMs: project.build.elapsedMs };
  }

  async function watchPreview({ jobId, onEvent }) {
    const send = channel(onEvent);
    const stopped = untilCancelled(jobId);
    for (const event of project.previewEvents) {
      await wait(scenario.delayMs ?? 15);
      send(event.type, event.data);
    }
    if (scenario.previewExits) {
      send('Exited', scenario.previewExits);
      cancellable.delete(jobId);
      return null;
    }
    await stopped;
    return null;
  }


  // The AWS side: the profiles on this computer, Slipway's app settings, and one account
  // (tests/fixtures/aws.json) in which setup creates, and teardown removes, the app's resources.
  const cloud = scenario.cloud ?? {};
  const noFile = (path) => ({ path, exists: false });
  const cloudWorld = {
    profiles: structuredClone(scenario.aws ?? {
      configFile: noFile('/home/ana/.aws/config'), credentialsFile: noFile('/home/ana/.aws/credentials'),
      profiles: [], selectedProfile: 'default', environment: null, environmentRegion: null, problems: [],
    }),
    settings: { awsEndpointUrl: scenario.endpointUrl ?? null },
    setUp: scenario.setUp ?? false,
    tornDown: false,
    /** The folders that connected from this computer before (the engine's connected_projects
     * record): opening one connects it again. `scenario.connectedBefore` starts with the sample. */
    connectedDirs: new Set(scenario.connectedBefore && project.sample ? [project.sample.dir] : []),
  };

  function identity() {
    if (scenario.connectFails) throw scenario.connectFails;
    const settings = world.saved?.config.aws ?? {};
    const name = settings.profile ?? cloudWorld.profiles.selectedProfile;
    const profile = cloudWorld.profiles.profiles.find((p) => p.name === name);
    // The worlds' projects name profiles that exist: anything else is a flow's own mistake.
    if (settings.profile && !profile) throw { code: 'Internal', message: `the mock's world has no profile "${name}"` };
    return {
      ...cloud.identity,
      source: settings.profile ? `profile "${settings.profile}"` : cloud.identity.source,
      region: settings.region ?? profile?.region ?? cloud.identity.region,
      endpointUrl: cloudWorld.settings.awsEndpointUrl,
    };
  }

  /** The fixture's plan, as the saved options (allowed range, log retention, the stable
   * address and its domain) shape it. */
  function setupPlan() {
    const who = identity();
    const config = world.saved.config;
    const allowFrom = config.aws.allowFrom ?? '0.0.0.0/0';
    const days = config.aws.logRetentionDays ?? 30;
    const balanced = config.aws.loadBalancer === true;
    const plan = structuredClone(
      balanced ? (cloudWorld.setUp ? cloud.balancedReadyPlan : cloud.balancedPlan) : cloudWorld.setUp ? cloud.readyPlan : cloud.setupPlan,
    );
    if (balanced && !config.aws.domain) {
      // Without a domain: no certificate, no records, no HTTPS.
      plan.resources = plan.resources.filter((r) => !['certificate', 'dnsRecords', 'httpsListener'].includes(r.kind));
      plan.changes = plan.changes.filter((c) => c.action !== 'requestCertificate');
      plan.dnsRecords = [];
    }
    plan.account = who.account;
    plan.region = who.region;
    if (allowFrom !== '0.0.0.0/0') plan.warnings = [];
    for (const resource of plan.resources) {
      if (resource.kind === 'logGroup') resource.facts = [`keeps logs ${days} days`];
      if (resource.kind === 'securityGroup') resource.facts = [`allows TCP ${config.port} from ${allowFrom}`];
    }
    return plan;
  }

  async function applySetup({ jobId, onEvent }) {
    const send = channel(onEvent);
    const plan = setupPlan();
    send('Planned', plan);
    if (plan.changes.length === 0) return plan;
    const cancelled = untilCancelled(jobId).then(() => 'cancelled');
    const config = world.saved.config;
    const said = (data) =>
      'change' in data
        ? { ...data, change: data.change.replace('0.0.0.0/0', config.aws.allowFrom ?? '0.0.0.0/0').replace('30 days', `${config.aws.logRetentionDays ?? 30} days`) }
        : data;
    const events = config.aws.loadBalancer
      ? [...cloud.setupEvents, ...cloud.balancedEvents.filter((e) => config.aws.domain || e.data.kind !== 'certificate')]
      : cloud.setupEvents;
    for (const [index, event] of events.entries()) {
      await wait(scenario.delayMs ?? 15);
      send(event.type, said(event.data));
      if (scenario.setupFails && event.type === 'ResourceStarted' && event.data.kind === 'executionRole') {
        cancellable.delete(jobId);
        throw cloud.setupFailure;
      }
      if (scenario.pauseSetup && index === 0) {
        const resumed = new Promise((resolve) => (resumeSetup = () => resolve('resumed')));
        if ((await Promise.race([resumed, cancelled])) === 'cancelled') {
          throw refusals.messages.cancelled;
        }
      }
    }
    cancellable.delete(jobId);
    cloudWorld.setUp = true;
    cloudWorld.tornDown = false;
    return setupPlan();
  }

  function teardownPlan() {
    const who = identity();
    const plan = structuredClone(cloudWorld.tornDown ? cloud.teardownLeft : cloud.teardownPlan);
    return { ...plan, account: who.account, region: who.region };
  }

  async function applyTeardown({ onEvent }) {
    const send = channel(onEvent);
    const plan = teardownPlan();
    send('Planned', plan);
    for (const item of plan.items.filter((i) => i.action.action === 'remove')) {
      await wait(scenario.delayMs ?? 15);
      send('StepStarted', { step: item.step });
      const what = cloud.teardownWaits?.[item.step];
      if (what) {
        send('Waiting', { step: item.step, what });
        await wait(scenario.delayMs ?? 15);
      }
      send('StepDone', { step: item.step });
    }
    cloudWorld.tornDown = true;
    cloudWorld.setUp = false;
    return teardownPlan();
  }

  function addAccessKeyProfile({ request }) {
    const { name, accessKeyId, secretAccessKey, region } = request;
    const files = cloudWorld.profiles;
    const refused = refusalOf('accessKey', `${name}|${accessKeyId}|${secretAccessKey}|${region ?? ''}`);
    if (refused) throw refused;
    const profile = { name, kind: 'AccessKeys', region, definedIn: [files.credentialsFile.path, files.configFile.path], ssoSession: null, endpointUrl: null };
    files.profiles = [...files.profiles, profile];
    files.credentialsFile.exists = true;
    files.configFile.exists = true;
    return profile;
  }

  function saveAppSettings({ settings }) {
    const url = settings.awsEndpointUrl?.trim() || null;
    const refused = url === null ? null : refusalOf('endpoint', url);
    if (refused) throw refused;
    cloudWorld.settings = { awsEndpointUrl: url };
    return cloudWorld.settings;
  }

  // Deploying (tests/fixtures/deploy.json): a task-mode deploy that answers or one whose
  // task stops, what runs on AWS before and after, and unfinished deploys from a past run.
  const deploys = scenario.deploy ?? {};
  const dated = ({ ageSeconds, ...entry }) => {
    const startedAt = nowSeconds() - ageSeconds;
    return { ...entry, startedAt, finishedAt: entry.finishedAt === null ? null : startedAt + 60 };
  };
  const statusOf = (status) => status && { balancer: null, ...structuredClone(status), history: status.history.map(dated) };
  const deployWorld = {
    status: statusOf(deploys.statusBefore),
    unfinished: scenario.unfinished ? (deploys.unfinished ?? []).map(dated) : [],
  };
  let resumeDeploy = null;
  window.__SLIPWAY_MOCK__.resumeDeploy = () => resumeDeploy?.();

  async function runDeploy({ jobId, request, onEvent }) {
    if (!cloudWorld.setUp) {
      throw refusals.messages.setupNeeded;
    }
    if (request.rollback) return rollBack({ jobId, request, onEvent });
    const send = channel(onEvent);
    // The stable address is always a service behind the load balancer, whatever was asked.
    const balanced = world.saved?.config.aws.loadBalancer === true;
    const plan = scenario.deployFails ? deploys.failure : balanced ? deploys.balanced : request.mode === 'service' ? deploys.service : deploys.success;
    const pauseAfter = scenario.pauseDeploy ? deploys.success.pauseAfter : -1;
    const cancelled = untilCancelled(jobId).then(() => 'cancelled');
    for (const [index, event] of plan.events.entries()) {
      if (index === pauseAfter) {
        const resumed = new Promise((resolve) => (resumeDeploy = () => resolve('resumed')));
        if ((await Promise.race([resumed, cancelled])) === 'cancelled') {
          throw refusals.messages.deployCancelled;
        }
      }
      await wait(scenario.delayMs ?? 15);
      send(event.type, event.data);
    }
    cancellable.delete(jobId);
    if (scenario.deployFails) throw plan.error;
    if (balanced) {
      deployWorld.status = statusOf(deploys.balanced.status);
      releaseWorld.list = releasesOf(operate.afterDeploy);
      releaseWorld.latestRevision = 4;
      return plan.outcome;
    }
    deployWorld.status = statusOf(deploys.statusAfter);
    if (request.mode === 'service') {
      // What runs is the service's task, the one the outcome names.
      const o = plan.outcome;
      const status = deployWorld.status;
      status.tasks = status.tasks.map((t) => ({ ...t, taskId: o.taskIds[0], taskArn: t.taskArn.replace(t.taskId, o.taskIds[0]), url: o.url, publicIp: o.publicIp, fromService: true }));
      status.service = { name: o.app, desired: 1, running: 1, revision: o.revision, rollout: 'COMPLETED' };
    }
    releaseWorld.list = releasesOf(operate.afterDeploy);
    releaseWorld.latestRevision = 4;
    return plan.outcome;
  }

  /** The service runs `tasks` (the least, with scaling), as slipway.toml now says: the load
   * balancer's targets follow, each new one first checked, then healthy at the next reading. */
  function scaleApp({ request }) {
    identity();
    const { tasks, maxTasks, cpuTarget, requestsTarget = null } = request;
    // `scenario.scaleRefused`: the engine's refusal of the numbers (nothing is saved then).
    if (scenario.scaleRefused) throw scenario.scaleRefused;
    world.saved = structuredClone(world.saved);
    Object.assign(world.saved.config.aws, { tasks: tasks !== 1 || maxTasks !== null ? tasks : null, maxTasks, cpuTarget: maxTasks === null ? null : cpuTarget, requestsTarget: maxTasks === null ? null : requestsTarget });
    const status = deployWorld.status;
    if (!status?.service) {
      throw { code: 'InvalidInput', message: `Number of tasks: ${status?.app ?? 'the app'} has no service in ${status?.region ?? 'the region'} yet. The number is saved: the next deploy with the stable address starts that many tasks.` };
    }
    const was = status.service.desired;
    const desired = maxTasks === null ? tasks : Math.min(Math.max(was, tasks), maxTasks);
    const scaling =
      maxTasks === null
        ? null
        : { min: tasks, max: maxTasks, cpuTarget: requestsTarget === null ? (cpuTarget ?? 60) : null, requestsTarget };
    const changes = [];
    if (desired !== was) changes.push(`runs ${desired} task${desired === 1 ? '' : 's'} (was ${was})`);
    const hadScaling = status.balancer?.scaling ?? null;
    if (JSON.stringify(hadScaling) !== JSON.stringify(scaling)) {
      // The engine's words, a change each (scaling.rs).
      if (scaling === null) changes.push('turned auto scaling off');
      else {
        if (hadScaling?.min !== scaling.min || hadScaling?.max !== scaling.max) changes.push(`scales between ${scaling.min} and ${scaling.max} tasks`);
        if (scaling.requestsTarget !== null && hadScaling?.requestsTarget !== scaling.requestsTarget) {
          changes.push(`keeps each task near ${scaling.requestsTarget} requests a minute`);
        }
        if (scaling.cpuTarget !== null && hadScaling?.cpuTarget !== scaling.cpuTarget) changes.push(`keeps average CPU near ${scaling.cpuTarget}%`);
      }
    }
    const running = status.service.running;
    const template = status.tasks.find((t) => t.fromService) ?? status.tasks[0];
    const cost = status.cost.tasks[0];
    status.tasks = Array.from({ length: desired }, (_, i) => {
      if (i < status.tasks.length) return status.tasks[i];
      const taskId = `${template.taskId.slice(0, 30)}${String(i).padStart(2, '0')}`;
      return { ...template, taskId, taskArn: template.taskArn.replace(template.taskId, taskId), privateIp: `10.0.2.${60 + i}`, costSoFar: 0 };
    });
    status.service = { ...status.service, desired, running: desired };
    status.cost = { ...status.cost, tasks: status.tasks.map((t) => ({ ...cost, taskId: t.taskId })), perHour: status.tasks.length * (template.costPerHour ?? 0) };
    if (status.balancer) {
      status.balancer.scaling = scaling;
      status.balancer.targets = status.tasks.map((t) => ({ ip: t.privateIp, port: 8080, taskId: t.taskId, state: 'healthy', reason: null, description: null, said: 'healthy: the load balancer sends it visitors' }));
    }
    return { service: status.service.name, desired, running, scaling, changes };
  }

  function stopApp() {
    const status = deployWorld.status;
    const stopped = { stoppedTasks: status.tasks.map((t) => t.taskId), serviceScaledDown: status.service?.desired ? status.service.name : null, failed: [] };
    if (status.balancer) status.balancer.targets = [];
    status.tasks = [];
    status.cost = { ...status.cost, tasks: [], perHour: 0, soFar: 0 };
    if (status.service) status.service = { ...status.service, desired: 0, running: 0 };
    return { stopped, settled: [], unsettled: [] };
  }

  function stopTask({ taskId }) {
    const status = deployWorld.status;
    const task = status.tasks.find((t) => t.taskId === taskId);
    if (!task) throw { code: 'Internal', message: `the mock's world runs no task ${taskId}` };
    status.tasks = status.tasks.filter((t) => t !== task);
    const perHour = status.tasks.reduce((sum, t) => sum + (t.costPerHour ?? 0), 0);
    status.cost = { ...status.cost, tasks: status.cost.tasks.filter((t) => t.taskId !== taskId), perHour };
    return { stopped: { stoppedTasks: [taskId], serviceScaledDown: null, failed: [] }, settled: [], unsettled: [] };
  }

  function settleDeploy({ deployId, stop }) {
    const entry = deployWorld.unfinished.find((e) => e.id === deployId);
    if (!entry) throw { code: 'Internal', message: `the mock's world has no unfinished deploy ${deployId}` };
    deployWorld.unfinished = deployWorld.unfinished.filter((e) => e !== entry);
    const count = entry.startedTasks.length;
    const summary = stop ? `closed after a restart; stopped ${count} task(s) it had started` : `closed after a restart; ${count} task(s) it started kept running`;
    return { ...entry, finishedAt: nowSeconds(), outcome: 'abandoned', summary };
  }

  // Cost (tests/fixtures/cost.json): sheets the engine computed for a few sizes and a demo
  // schedule. An estimate for other choices is refused, so no flow shows made-up figures.
  const costs = scenario.cost ?? { sheets: [] };
  const costWorld = {
    settings: { tasks: 1, hoursPerWeek: null, logGbPerMonth: 1, loadBalancer: false, autoStopHours: null, remindAfterHours: null, ...scenario.costSettings },
    /** The prices "Refresh prices" fetched, which later estimates use (the engine caches them). */
    fetched: null,
  };
  const sameSize = (a, b) => a.cpu === b.cpu && a.memory === b.memory;

  function costSheet(inputs) {
    const sheet = costs.sheets.find(
      (s) =>
        sameSize(s.inputs.task, inputs.task) &&
        ['tasks', 'hoursPerWeek', 'logGbPerMonth', 'loadBalancer'].every((key) => s.inputs[key] === inputs[key]) &&
        (s.inputs.maxTasks ?? null) === (inputs.maxTasks ?? null),
    );
    if (!sheet) throw { code: 'Internal', message: `the mock has no cost sheet for ${JSON.stringify(inputs)}` };
    const copy = structuredClone(sheet);
    if (costWorld.fetched) copy.prices = structuredClone(costWorld.fetched);
    return copy;
  }

  async function projectCost({ refresh }) {
    await wait(scenario.delayMs ?? 15);
    const task = world.saved?.config.task ?? { cpu: 256, memory: 512 };
    // A size the fixture has no sheet for (a flow saved another) is shown as the first one the engine priced.
    const priced = costs.sheets.some((s) => sameSize(s.inputs.task, task)) ? task : costs.sheets[0].inputs.task;
    const { tasks, hoursPerWeek, logGbPerMonth, loadBalancer } = costWorld.settings;
    const inputs = { task: priced, tasks, hoursPerWeek, logGbPerMonth, loadBalancer };
    if (refresh === 'Now' || (refresh === 'IfStale' && scenario.pricesStale)) {
      if (scenario.priceListFails) {
        const sheet = costSheet(inputs);
        sheet.prices.notes = [`Prices were not refreshed: Slipway could not connect to AWS (${scenario.priceListFails})`];
        return sheet;
      }
      costWorld.fetched = { ...structuredClone(costs.sheets[0].prices), source: 'PriceList', sourceText: 'AWS Price List API', asOf: new Date().toISOString() };
    }
    return costSheet(inputs);
  }

  function saveCostSettings({ settings }) {
    const { tasks, hoursPerWeek, autoStopHours, remindAfterHours } = settings;
    const refused = refusalOf('costSettings', `${tasks}|${hoursPerWeek}|${autoStopHours}|${remindAfterHours}`);
    if (refused) throw refused;
    costWorld.settings = structuredClone(settings);
    return costWorld.settings;
  }

  /** Meters what runs now (the deploy world's status), then `scenario.costEvents`, until cancelled. */
  async function watchCosts({ jobId, onEvent }) {
    identity();
    const send = channel(onEvent);
    const stopped = untilCancelled(jobId).then(() => 'stopped');
    const reading = () =>
      structuredClone(deployWorld.status?.cost ?? { tasks: [], perHour: 0, soFar: 0, prices: costs.sheets[0]?.prices });
    send('Metered', reading());
    for (const event of scenario.costEvents ?? []) {
      await wait(scenario.delayMs ?? 15);
      send(event.type, event.data);
    }
    while ((await Promise.race([stopped, wait(scenario.meterEveryMs ?? 250)])) !== 'stopped') send('Metered', reading());
    return null;
  }

  // Operating what runs (tests/fixtures/operate.json): the releases on AWS (revision 3 runs
  // before the deploy of revision 4; 2 is the rollback target; 1's image is gone), a rollback
  // to revision 2 or its refusal, deregistering, the next deploy's changes, and the app's
  // logs: the fixture's lines, or `scenario.logLines` generated ones (one of them the needle),
  // followed with the fixture's new lines, saved to the path the save dialog gives.
  const operate = scenario.operate ?? { releases: { releases: [] }, logs: { lines: [], follow: [], generated: {} } };
  const releasesOf = (list) =>
    list && {
      ...structuredClone(list),
      releases: list.releases.map(({ pushedAgeSeconds, deploys, ...release }) => ({
        ...structuredClone(release),
        pushedAt: pushedAgeSeconds === null ? null : new Date((nowSeconds() - pushedAgeSeconds) * 1000).toISOString(),
        deploys: deploys.map(({ ageSeconds, ...d }) => ({ ...d, startedAt: nowSeconds() - ageSeconds })),
      })),
    };
  const releaseWorld = { list: releasesOf(operate.releases), latestRevision: 3 };
  const inactive = (revision) => `Revision ${revision} is deregistered (INACTIVE); ECS no longer runs it.`;

  function awsReleases() {
    identity();
    if (!cloudWorld.setUp) return { app: 'hello-site', repository: 'hello-site', releases: [], rollbackTarget: null, lifecycle: null, mode: 'task' };
    return structuredClone(releaseWorld.list);
  }

  /** The engine's rule: every active revision but the newest `keep`, one that runs and the rollback target. */
  function deregisterPlan(keep) {
    const plan = { deregister: [], kept: [] };
    releaseWorld.list.releases
      .filter((r) => r.active)
      .forEach((r, i) => {
        const why = r.running ? 'it is running' : releaseWorld.list.rollbackTarget === r.revision ? 'it is the rollback target' : i < keep ? `among the newest ${keep}` : null;
        if (why) plan.kept.push([r.revision, why]);
        else plan.deregister.push(r.revision);
      });
    return plan;
  }

  function deregisterRevisions({ keep, revisions }) {
    const plan = deregisterPlan(keep);
    plan.deregister = plan.deregister.filter((r) => revisions.includes(r));
    for (const release of releaseWorld.list.releases) {
      if (!plan.deregister.includes(release.revision)) continue;
      release.active = false;
      release.rollback = { possible: false, problems: [...release.rollback.problems, inactive(release.revision)], warning: release.rollback.warning };
    }
    return plan;
  }

  /** A rollback to revision 2: checked first (refused, nothing changes, when its image is gone), then the deploy's steps. */
  async function rollBack({ jobId, request, onEvent }) {
    const { revision, retag } = request.rollback;
    const plan = operate.rollback;
    await wait(scenario.delayMs ?? 15);
    const target = releaseWorld.list.releases.find((r) => r.revision === revision);
    if (scenario.rollbackRefused) {
      // Someone deleted its image since the list was read: the list says so from now on.
      target.imageInRepository = false;
      target.tags = [];
      target.pushedAt = null;
      // The release list's reason is the engine's for an image gone (revision 1 gives it).
      target.rollback = { possible: false, problems: operate.releases.releases.find((r) => r.revision === 1).rollback.problems.map((p) => p.replace(/sha256:[0-9a-f]+/, target.image.split('@')[1])), warning: null };
      releaseWorld.list.rollbackTarget = null;
      throw plan.refused;
    }
    if (!target?.rollback.possible) throw refusalOf('rollback', String(revision));
    const send = channel(onEvent);
    const cancelled = untilCancelled(jobId).then(() => 'cancelled');
    for (const event of plan.events) {
      if ((await Promise.race([cancelled, wait(scenario.delayMs ?? 15)])) === 'cancelled') {
        throw refusals.messages.deployCancelled;
      }
      const data = retag && event.type === 'StepDone' && event.data.step === 'push' ? { ...event.data, detail: plan.retaggedDetail } : event.data;
      send(event.type, data);
    }
    cancellable.delete(jobId);
    deployWorld.status = statusOf(plan.status);
    releaseWorld.list = releasesOf(operate.afterRollback);
    if (retag) {
      for (const release of releaseWorld.list.releases) release.tags = release.tags.filter((t) => t !== 'latest');
      const rolled = releaseWorld.list.releases.find((r) => r.revision === revision);
      rolled.tags.push('latest');
      rolled.deploys[0].retagged = true;
    }
    return plan.outcome;
  }

  /** What the saved settings would change against the current revision (a few of the engine's lines). */
  function taskDefinitionChanges() {
    identity();
    if (!cloudWorld.setUp) return { family: 'hello-site', revision: null, changes: ['first revision'] };
    const was = project.sample.config;
    const now = world.saved.config;
    const changes = [];
    if (now.task.cpu !== was.task.cpu) changes.push(`CPU units: ${was.task.cpu} → ${now.task.cpu}`);
    if (now.task.memory !== was.task.memory) changes.push(`memory (MiB): ${was.task.memory} → ${now.task.memory}`);
    if (now.port !== was.port) changes.push(`port: ${was.port} → ${now.port}`);
    for (const { name, value } of now.env) {
      const old = was.env.find((e) => e.name === name);
      if (!old) changes.push(`variable ${name} added`);
      else if (old.value !== value) changes.push(`variable ${name} changed`);
    }
    for (const { name } of was.env) if (!now.env.some((e) => e.name === name)) changes.push(`variable ${name} removed`);
    return { family: 'hello-site', revision: releaseWorld.latestRevision, changes };
  }

  const logWorld = { lines: null, followed: 0, saved: [] };
  /** The world's lines, oldest first: made once, relative to when they are first asked for. */
  function logLines() {
    if (logWorld.lines) return logWorld.lines;
    const started = performance.now();
    const now = Date.now();
    if (scenario.logLines) {
      const { needle, errorEvery } = operate.logs.generated;
      const count = scenario.logLines;
      const tasks = ['8a7b6c5d4e3f4a2b9c1d0e8f7a6b5c4d', 'c3d4e5f6a7b84c9d0e1f2a3b4c5d6e7f'];
      const lines = new Array(count);
      for (let i = 0; i < count; i++) {
        let message;
        let error = false;
        if (i === Math.floor(count * 0.37)) message = needle;
        else if (i % errorEvery === 0) {
          message = `ERROR upstream timed out after 30000 ms (request ${i})`;
          error = true;
        } else if (i % 2 === 0) message = `[::ffff:10.0.${i % 250}.${i % 199}]:${40000 + (i % 20000)}: url:/api/items/${i % 5000}`;
        else message = `[::ffff:10.0.${(i - 1) % 250}.${(i - 1) % 199}]:${40000 + ((i - 1) % 20000)}: response:200 bytes:${512 + (i % 4096)}`;
        lines[i] = { id: `g${i}`, atMs: now - (count - i) * 25, taskId: tasks[i % 2], message, error };
      }
      logWorld.lines = lines;
    } else {
      logWorld.lines = operate.logs.lines.map(({ agoMs, ...line }, i) => ({ ...line, id: `l${i}`, atMs: now - agoMs }));
    }
    logWorld.generatedMs = performance.now() - started;
    window.__SLIPWAY_MOCK__.logsGeneratedMs = logWorld.generatedMs;
    return logWorld.lines;
  }

  const lineMatches = (query, since) => (line) =>
    (!query.taskId || line.taskId === query.taskId) &&
    (!query.text || line.message.toLowerCase().includes(query.text.toLowerCase())) &&
    line.atMs >= since &&
    (query.untilMs == null || line.atMs <= query.untilMs);

  function appLogs({ query }) {
    identity();
    const since = Date.now() - (query.sinceSeconds ?? 3600) * 1000;
    const limit = Math.min(Math.max(query.limit ?? 10000, 1), 100000);
    const found = logLines().filter(lineMatches(query, since));
    const lines = found.slice(Math.max(0, found.length - limit));
    return { group: operate.logs.group, lines, truncated: found.length > limit };
  }

  /** New lines every `followEveryMs`, those the query wants, until cancelled. */
  async function followLogs({ jobId, query, onEvent }) {
    identity();
    const send = channel(onEvent);
    const stopped = untilCancelled(jobId).then(() => 'stopped');
    if (scenario.followFails) send('PollFailed', { message: scenario.followFails });
    for (const line of operate.logs.follow) {
      if ((await Promise.race([stopped, wait(scenario.followEveryMs ?? 200)])) === 'stopped') return null;
      const made = { ...line, id: `f${logWorld.followed++}`, atMs: Date.now() };
      logLines().push(made);
      if (lineMatches(query, 0)(made)) send('Appended', { lines: [made] });
    }
    await stopped;
    return null;
  }

  const handlers = {
    app_info: async () => scenario.app,
    check_environment: checkEnvironment,
    cancel_job: async ({ jobId }) => {
      const resolve = cancellable.get(jobId);
      if (!resolve) return false;
      cancellable.delete(jobId);
      resolve();
      return true;
    },
    'plugin:dialog|open': async () => scenario.pickedFolder ?? null,
    'plugin:dialog|save': async () => (scenario.savePath === undefined ? '/home/ana/hello-site-logs.txt' : scenario.savePath),
    'plugin:opener|open_url': async () => null,
    open_sample: async () => opened(world.saved),
    open_project: async ({ dir }) => {
      if (dir === world.saved?.dir) return opened(world.saved);
      if (dir === project.picked?.dir) return opened(project.picked);
      const missing = refusals.messages.projectNotFound;
      throw { ...missing, message: missing.message.replace('{dir}', dir) };
    },
    // An image reference: the engine's problem with it (from the validation fixture), else
    // an app name from its last part and a folder under the user's home.
    image_project_defaults: async ({ image }) => {
      const problem = answerFor('image', image.trim())[0]?.message ?? null;
      if (problem) return { name: 'my-app', dir: '/home/ana/Slipway/my-app', problem };
      const name = image.trim().split('/').pop().split(/[:@]/)[0];
      return { name, dir: `/home/ana/Slipway/${name}`, problem: null };
    },
    create_image_project: async ({ request }) => {
      const config = { ...structuredClone(project.sample.config), name: request.name, image: request.image };
      world.saved = { dir: request.dir, config, saved: true, problems: [] };
      return opened(world.saved);
    },
    validate_project: async ({ config }) => validate(config),
    save_project: async ({ dir, config }) => {
      const problems = validate(config);
      if (problems.length > 0) {
        // The engine's sentence, one problem after another as it lists them.
        const refused = refusals.messages.invalidProjectConfig;
        const [lead, each] = refused.message.split(/(?=\{field\})/);
        const listed = problems.map((p) => each.replace('{field}', p.field).replace('{message}', p.message)).join(' ');
        throw { ...refused, message: lead + listed };
      }
      world.saved = { dir, config, saved: true, problems: [] };
      return opened(world.saved);
    },
    recent_projects: async () =>
      (scenario.recent ?? project.recent ?? []).map(({ ageSeconds, ...recent }) => ({ ...recent, openedAt: Date.now() - ageSeconds * 1000 })),
    forget_recent_project: async ({ dir }) => {
      scenario.recent = (scenario.recent ?? project.recent).filter((r) => r.dir !== dir);
      return null;
    },
    task_sizes: async () => project.taskSizes,
    check_project: async () => project.preflight,
    build_project: buildProject,
    start_preview: async ({ version }) => {
      const chosen = version ?? world.releases[0]?.version;
      if (!chosen) throw refusals.messages.noReleases;
      world.running = chosen;
      return previewOf(chosen);
    },
    preview_status: async ({ app }) => {
      const other = (scenario.otherPreviews ?? []).find((p) => p.app === app);
      if (other) return { ...project.preview, app, version: other.version, url: other.url };
      return app === project.sample.config.name && world.running ? previewOf(world.running) : null;
    },
    stop_preview: async ({ app }) => {
      const other = (scenario.otherPreviews ?? []).find((p) => p.app === app);
      if (other) {
        scenario.otherPreviews = scenario.otherPreviews.filter((p) => p !== other);
        return true;
      }
      const was = world.running !== null;
      world.running = null;
      return was;
    },
    // A newer Slipway when the scenario has one; installing fails as a bad signature does.
    check_update: async () => scenario.update ?? null,
    install_update: async () => {
      await wait(scenario.delayMs ?? 15);
      throw scenario.updateFails ?? { code: 'UpdateFailed', message: 'the mock installs nothing' };
    },
    // The sample's preview while it runs, and previews of other projects (scenario.otherPreviews).
    running_previews: async () => [
      ...(world.running ? [{ app: project.sample.config.name, projectDir: project.sample.dir, version: world.running, url: project.preview.url }] : []),
      ...(scenario.otherPreviews ?? []),
    ],
    watch_preview: watchPreview,
    local_releases: async () => releaseList(),
    rollback_local: async ({ to }) => {
      world.running = to;
      return previewOf(to);
    },
    aws_profiles: async () => cloudWorld.profiles,
    add_access_key_profile: async (args) => addAccessKeyProfile(args),
    connect_project_aws: async ({ dir }) => {
      await wait(scenario.delayMs ?? 15);
      const who = identity();
      cloudWorld.connectedDirs.add(dir);
      return who;
    },
    // On opening: null for a folder that never connected; else connecting again (which fails
    // as Connect would, when the credentials no longer work).
    project_connects_again: async ({ dir }) => cloudWorld.connectedDirs.has(dir),
    reconnect_project_aws: async ({ dir }) => {
      await wait(scenario.delayMs ?? 15);
      return cloudWorld.connectedDirs.has(dir) ? identity() : null;
    },
    app_settings: async () => cloudWorld.settings,
    save_app_settings: async (args) => saveAppSettings(args),
    find_my_ip: async () => {
      if (scenario.myIpFails) throw scenario.myIpFails;
      return cloud.myIp;
    },
    plan_setup: async () => {
      await wait(scenario.delayMs ?? 15);
      return setupPlan();
    },
    apply_setup: applySetup,
    plan_teardown: async () => {
      await wait(scenario.delayMs ?? 15);
      return teardownPlan();
    },
    apply_teardown: applyTeardown,
    deploy: runDeploy,
    app_status: async () => {
      await wait(scenario.delayMs ?? 15);
      identity();
      // `scenario.statusFailsOnce`: the first reading of what runs fails (a passing fault).
      if (scenario.statusFailsOnce && !deployWorld.statusFailed) {
        deployWorld.statusFailed = true;
        throw scenario.statusFailsOnce;
      }
      return structuredClone(deployWorld.status);
    },
    stop_app: async () => stopApp(),
    stop_task: async (args) => stopTask(args),
    scale_app: async (args) => {
      await wait(scenario.delayMs ?? 15);
      return scaleApp(args);
    },
    unfinished_deploys: async () => structuredClone(deployWorld.unfinished),
    settle_deploy: async (args) => {
      await wait(scenario.delayMs ?? 15);
      return settleDeploy(args);
    },
    project_cost: projectCost,
    estimate_cost: async ({ inputs }) => costSheet(inputs),
    cost_settings: async () => structuredClone(costWorld.settings),
    save_cost_settings: async (args) => saveCostSettings(args),
    watch_costs: watchCosts,
    aws_releases: async () => {
      await wait(scenario.delayMs ?? 15);
      return awsReleases();
    },
    deregister_plan: async ({ keep }) => {
      await wait(scenario.delayMs ?? 15);
      identity();
      return deregisterPlan(keep);
    },
    deregister_revisions: async (args) => {
      await wait(scenario.delayMs ?? 15);
      identity();
      return deregisterRevisions(args);
    },
    task_definition_changes: async () => {
      await wait(scenario.delayMs ?? 15);
      return taskDefinitionChanges();
    },
    app_logs: async (args) => {
      await wait(scenario.delayMs ?? 15);
      return appLogs(args);
    },
    follow_logs: followLogs,
    save_logs: async ({ query, path }) => {
      await wait(scenario.delayMs ?? 15);
      logWorld.saved.push(path);
      return appLogs({ query }).lines.length;
    },
  };

  const needsDocker = new Set(['check_project', 'build_project', 'start_preview', 'preview_status', 'running_previews', 'watch_preview', 'local_releases', 'rollback_local', 'deploy']);

  window.__TAURI_INTERNALS__ = {
    metadata: { currentWindow: { label: 'main' }, currentWebview: { windowLabel: 'main', label: 'main' } },
    transformCallback(callback) {
      const id = nextId++;
      callbacks.set(id, callback);
      return id;
    },
    unregisterCallback(id) {
      callbacks.delete(id);
    },
    convertFileSrc: (path) => path,
    async invoke(cmd, args) {
      calls.push({ cmd, args: JSON.parse(JSON.stringify(args ?? {})) });
      // A rollback runs an image already in ECR: it needs no Docker.
      if (scenario.dockerDown && needsDocker.has(cmd) && !args?.request?.rollback) throw scenario.dockerDown;
      const handler = handlers[cmd];
      if (!handler) throw { code: 'Internal', message: `the mock has no command ${cmd}` };
      return handler(args ?? {});
    },
  };
}
