import { afterEach, describe, expect, it } from 'vitest';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { SlipwayUpdate } from './update.svelte';

afterEach(() => clearMocks());

describe('SlipwayUpdate', () => {
  const offer = { version: '9.9.9', current: '0.1.0', notes: null };

  it('offers what the feed has, and keeps quiet when the check fails', async () => {
    mockIPC((cmd) => (cmd === 'check_update' ? offer : null));
    const update = new SlipwayUpdate();
    await update.check();
    expect(update.offer).toEqual(offer);
    mockIPC(() => Promise.reject({ code: 'UpdateFailed', message: 'Could not check for a newer Slipway: offline.' }));
    await update.check();
    expect([update.offer, update.failure]).toEqual([null, null]);
  });

  it('says why an install failed, and can be tried again', async () => {
    const message = 'Slipway 9.9.9 was not installed: the signature does not match. This version goes on running.';
    mockIPC((cmd) => (cmd === 'check_update' ? offer : Promise.reject({ code: 'UpdateFailed', message })));
    const update = new SlipwayUpdate();
    await update.check();
    await update.install();
    expect([update.failure?.message, update.installing]).toEqual([message, false]);
  });
});
