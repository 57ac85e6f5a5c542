import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// The OS side of notifications (Tauri's plugin) is replaced here; what is checked is when
// Slipway asks for one.
const plugin = vi.hoisted(() => ({
  isPermissionGranted: vi.fn(async () => true),
  requestPermission: vi.fn(async () => 'granted'),
  sendNotification: vi.fn(),
}));
vi.mock('@tauri-apps/plugin-notification', () => plugin);

import { notifyInBackground } from './notify';

describe('OS notifications', () => {
  let focused = true;
  beforeEach(() => {
    focused = true;
    vi.spyOn(document, 'hasFocus').mockImplementation(() => focused);
    plugin.sendNotification.mockClear();
  });
  afterEach(() => vi.restoreAllMocks());

  it('are sent only while the window is in the background', async () => {
    expect(await notifyInBackground({ title: 'hello-site is live', body: 'Deploy answered.' })).toBe(false);
    expect(plugin.sendNotification).not.toHaveBeenCalled();
    focused = false;
    expect(await notifyInBackground({ title: 'hello-site is live', body: 'Deploy answered.' })).toBe(true);
    expect(plugin.sendNotification).toHaveBeenCalledWith({ title: 'hello-site is live', body: 'Deploy answered.' });
  });

  it('never fail the action they tell about', async () => {
    focused = false;
    plugin.sendNotification.mockImplementationOnce(() => {
      throw new Error('no notification server');
    });
    expect(await notifyInBackground({ title: 't', body: 'b' })).toBe(false);
    expect(await notifyInBackground(null)).toBe(false);
  });
});
