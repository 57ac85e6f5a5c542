// The services part of the screen against answers that fail, come late, or outlive the
// service they were about (the IPC is mocked).
import { beforeEach, describe, expect, it, vi } from 'vitest';

const pending: Record<string, ((v: unknown) => void)[]> = {};
function later(name: string) {
  return new Promise((resolve) => (pending[name] ??= []).push(resolve));
}
const cancel = vi.fn(async () => true);

vi.mock('../../ipc', () => ({
  describeService: vi.fn((_t: unknown, _c: string, service: string) => later(`describe:${service}`)),
  listServices: vi.fn(async () => []),
  scaleService: vi.fn(async () => {
    throw Object.assign(new Error('The desired count: 150 is more than 100'), { code: 'InvalidInput' });
  }),
  redeployService: vi.fn(),
  rollBackService: vi.fn(),
  serviceLogs: vi.fn(),
  runServiceTask: vi.fn(() => ({ promise: new Promise(() => {}), cancel })),
  IpcFailure: class {},
}));

import { OUTPUT_SHOWN, ServiceDesk } from './services.svelte';

const target = { source: { kind: 'default' as const }, region: 'us-east-1', endpointUrl: null };
const view = (name: string) => ({ name, desired: 1, running: 1, tasks: [], deployments: [], events: [], stopped: [] });
const tick = () => new Promise((r) => setTimeout(r, 0));

beforeEach(() => {
  for (const key of Object.keys(pending)) delete pending[key];
  vi.clearAllMocks();
});

describe('a service on the screen', () => {
  it('keeps a refused change said after the next read works', async () => {
    const desk = new ServiceDesk(() => target);
    const shown = desk.show({ cluster: 'c', service: 'a' });
    pending['describe:a'].shift()!(view('a'));
    await shown;
    const scaling = desk.scale(150);
    await tick();
    pending['describe:a'].shift()!(view('a'));
    await scaling;
    expect(desk.failure?.message).toContain('more than 100');
    desk.close();
  });

  it("drops a service's answer that comes after another was opened", async () => {
    const desk = new ServiceDesk(() => target);
    void desk.show({ cluster: 'c', service: 'a' });
    const second = desk.show({ cluster: 'c', service: 'b' });
    pending['describe:b'].shift()!(view('b'));
    await second;
    pending['describe:a'].shift()!(view('a'));
    await tick();
    expect(desk.view?.name).toBe('b');
    desk.close();
  });

  it('stops a command still running when its service is left', async () => {
    const desk = new ServiceDesk(() => target);
    const shown = desk.show({ cluster: 'c', service: 'a' });
    pending['describe:a'].shift()!(view('a'));
    await shown;
    void desk.runOnce('sleep 600');
    expect(desk.runningOnce).toBe(true);
    desk.close();
    expect(cancel).toHaveBeenCalled();
  });
});

describe('a command run once', () => {
  it('keeps only its last lines on screen, and says so', async () => {
    const { runServiceTask } = await import('../../ipc');
    let emit: (event: unknown) => void = () => {};
    vi.mocked(runServiceTask).mockImplementationOnce((_t, _c, _s, _r, onEvent) => {
      emit = onEvent as (event: unknown) => void;
      return { promise: new Promise(() => {}), cancel };
    });
    const desk = new ServiceDesk(() => target);
    const shown = desk.show({ cluster: 'c', service: 'a' });
    pending['describe:a'].shift()!(view('a'));
    await shown;
    void desk.runOnce('yes');
    const lines = Array.from({ length: OUTPUT_SHOWN + 5 }, (_, i) => `line ${i}`);
    emit({ type: 'Output', data: { lines } });
    expect(desk.oneOff?.output.length).toBe(OUTPUT_SHOWN);
    expect(desk.oneOff?.output[0]).toBe('line 5');
    expect(desk.oneOff?.cut).toBe(true);
    desk.close();
  });
});
