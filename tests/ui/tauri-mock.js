// Stands in for Tauri's IPC inside a plain browser, so the built UI can be driven by
// Playwright. Installed with page.addInitScript(installTauriMock, scenario); the scenario
// says what each command answers. Channel events are delivered exactly as Tauri does:
// `{ message, index }` to the callback registered by the Channel.
export function installTauriMock(scenario) {
  const callbacks = new Map();
  let nextId = 1;
  let cancelled = null;
  const calls = [];
  window.__SLIPWAY_CALLS__ = calls;
  const wait = (ms) => new Promise((r) => setTimeout(r, ms));

  async function checkEnvironment({ jobId, request, onEvent }) {
    let index = 0;
    const send = (type, data) => callbacks.get(onEvent.id)?.({ message: { type, data }, index: index++ });
    await wait(scenario.delayMs ?? 30);
    send('DockerProbed', scenario.docker);
    send('ProfilesRead', scenario.aws);
    if (request.identity && scenario.hangIdentity) {
      await new Promise((resolve) => (cancelled = { jobId, resolve }));
      throw { code: 'Cancelled', message: 'Cancelled.' };
    }
    const identity = request.identity ? scenario.identity : { state: 'notChecked' };
    await wait(scenario.delayMs ?? 30);
    send('IdentityChecked', identity);
    return { app: scenario.app, docker: scenario.docker, aws: scenario.aws, identity };
  }

  const handlers = {
    app_info: async () => scenario.app,
    check_environment: checkEnvironment,
    cancel_job: async ({ jobId }) => {
      if (cancelled?.jobId !== jobId) return false;
      cancelled.resolve();
      return true;
    },
  };

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
      const handler = handlers[cmd];
      if (!handler) throw { code: 'Internal', message: `the mock has no command ${cmd}` };
      return handler(args ?? {});
    },
  };
}
