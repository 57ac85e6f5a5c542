// The stacks screen's store against answers that come late or out of order (the IPC is
// mocked; each answer is released by the test): an answer to an older question never
// overwrites a newer one, and calls go to the account and region connected.
import { beforeEach, describe, expect, it, vi } from 'vitest';

const pending: Record<string, ((v: unknown) => void)[]> = {};
function later(name: string) {
  return new Promise((resolve) => (pending[name] ??= []).push(resolve));
}
function release(name: string, value: unknown) {
  const next = pending[name]?.shift();
  if (!next) throw new Error(`nothing waits for ${name}`);
  next(value);
}

vi.mock('../../ipc', () => ({
  accountSecrets: vi.fn(async () => []),
  awsProfiles: vi.fn(),
  checkStackValues: vi.fn(async () => []),
  connectAccount: vi.fn(async (target: { region: string }) => ({ account: '123456789012', region: target.region })),
  currentStackValues: vi.fn(async () => ({ Tag: 'v2', Secret: 'leaked?' })),
  listStacks: vi.fn(async () => []),
  openTemplate: vi.fn(),
  pickTemplate: vi.fn(),
  savedStackValues: vi.fn(async () => ({})),
  stackChoices: vi.fn((_t: unknown, picker: string, vpc: string | null) => later(`${picker}:${vpc}`)),
  reviewStack: vi.fn(() => later('review').then(() => ({ id: 'review-1', review: {} }))),
  discardStackReview: vi.fn(async () => null),
  applyStack: vi.fn(),
  deleteStack: vi.fn(),
  reviewStackDelete: vi.fn((_t: unknown, stack: string) =>
    later(`delete:${stack}`).then(() => ({ stack, stackId: stack, removed: 1, retained: [], unknown: null })),
  ),
  stackEvents: vi.fn(async () => []),
  stackOutputs: vi.fn(async () => []),
  listServices: vi.fn(async () => []),
  IpcFailure: class {},
}));

import * as ipc from '../../ipc';
import { StackDesk } from './stacks.svelte';
import { parameter, template } from './fixtures';


const tick = () => new Promise((r) => setTimeout(r, 0));

async function connected(region = 'us-east-1'): Promise<StackDesk> {
  const desk = new StackDesk();
  desk.place = { profile: null, region };
  await desk.connect();
  return desk;
}

beforeEach(() => {
  for (const key of Object.keys(pending)) delete pending[key];
  vi.clearAllMocks();
});

describe('the stacks screen', () => {
  it('drops subnets listed for a VPC no longer chosen', async () => {
    const desk = await connected();
    desk.template = template([parameter('Vpc', { picker: 'vpc' }), parameter('Subnets', { picker: 'subnets', list: true })]);
    desk.values = { Vpc: '', Subnets: '' };
    desk.setValue('Vpc', 'vpc-a');
    desk.setValue('Vpc', 'vpc-b');
    release('subnets:vpc-b', [{ value: 'subnet-b', label: 'b', detail: null }]);
    await tick();
    release('subnets:vpc-a', [{ value: 'subnet-a', label: 'a', detail: null }]);
    await tick();
    expect(desk.choices.Subnets).toEqual({ state: 'ready', choices: [{ value: 'subnet-b', label: 'b', detail: null }] });
  });

  it('discards a review that arrives after the form was left', async () => {
    const desk = await connected();
    desk.template = template([]);
    desk.view = 'form';
    const reviewing = desk.startReview();
    desk.close();
    release('review', null);
    await reviewing;
    expect(desk.view).toBe('list');
    expect(desk.review).toBeNull();
    expect(ipc.discardStackReview).toHaveBeenCalledWith('review-1');
  });

  it("never shows a stack's deletion on another stack", async () => {
    const desk = await connected();
    desk.selected = 'A';
    desk.view = 'stack';
    const reviewing = desk.reviewDelete();
    desk.close();
    void desk.openStack('B');
    release('delete:A', null);
    await reviewing;
    expect(desk.selected).toBe('B');
    expect(desk.deletion).toBeNull();
  });

  it('calls the account and region connected, not one typed since', async () => {
    const desk = await connected('us-east-1');
    desk.place.region = 'eu-west-1';
    expect(desk.placeChanged).toBe(true);
    await desk.refresh();
    expect(vi.mocked(ipc.listStacks).mock.calls.at(-1)![0].region).toBe('us-east-1');
  });

  it("fills an update's form from the stack, never its secret, and keeps it by leaving it out", async () => {
    const desk = await connected();
    desk.stacks = [{ name: 'server', status: 'CREATE_COMPLETE', state: 'created', description: null, updatedAt: null, outputs: [] }];
    vi.mocked(ipc.openTemplate).mockResolvedValue(template([parameter('Tag', { default: 'v1' }), parameter('Secret', { noEcho: true, minLength: 12 })]));
    await desk.openTemplate('/t/server.yaml');
    await tick();
    expect(desk.values).toEqual({ Tag: 'v2', Secret: '' });
    expect(desk.sending).toEqual({ Tag: 'v2' });
    desk.setValue('Secret', 'a-new-secret-value');
    expect(desk.sending).toEqual({ Tag: 'v2', Secret: 'a-new-secret-value' });
  });

  it('forgets the values (secrets among them) when the form is left', async () => {
    const desk = await connected();
    vi.mocked(ipc.openTemplate).mockResolvedValue(template([parameter('Secret', { noEcho: true })]));
    await desk.openTemplate('/t/new.yaml');
    desk.setValue('Secret', 'typed-secret');
    desk.close();
    expect(desk.values).toEqual({});
    expect(desk.template).toBeNull();
  });
});
