import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import SupportCard from './SupportCard.svelte';
import { SupportBundleExport, bundleFileName } from './support.svelte';

afterEach(() => {
  cleanup();
  clearMocks();
});

/** The window's IPC: the save dialog answers `chosen`; the export answers with the files or fails. */
function supportWorld(chosen: string | null, fail = false) {
  const world = { dialogs: [] as unknown[], exported: [] as string[] };
  mockIPC((cmd, args) => {
    switch (cmd) {
      case 'plugin:dialog|save':
        world.dialogs.push(args);
        return chosen;
      case 'export_support_bundle': {
        const path = (args as { path: string }).path;
        world.exported.push(path);
        if (fail) return Promise.reject({ code: 'FileSystem', message: `Could not read or write ${path}: permission denied` });
        return { path, files: ['README.txt', 'about.json', 'journal.json', 'logs/slipway.log'] };
      }
      default:
        return null;
    }
  });
  return world;
}

describe('SupportBundleExport', () => {
  it('proposes a dated .tar.gz name', () => {
    expect(bundleFileName(new Date(2026, 10, 22, 1, 46).getTime())).toBe('slipway-support-20261122-0146.tar.gz');
  });

  it('writes nothing when the save dialog is closed', async () => {
    const world = supportWorld(null);
    const bundle = new SupportBundleExport();
    await bundle.export();
    expect(world.dialogs).toHaveLength(1);
    expect(world.exported, 'no path chosen, no file written').toEqual([]);
    expect([bundle.written, bundle.failure]).toEqual([null, null]);
  });

  it('says why the bundle could not be written', async () => {
    supportWorld('/read-only/b.tar.gz', true);
    const bundle = new SupportBundleExport();
    await bundle.export();
    expect(bundle.failure).toEqual({ code: 'FileSystem', message: 'Could not read or write /read-only/b.tar.gz: permission denied' });
    expect(bundle.exporting).toBe(false);
  });
});

describe('SupportCard', () => {
  it('exports through the save dialog and says where the bundle was written', async () => {
    const world = supportWorld('/home/ana/slipway-support.tar.gz');
    render(SupportCard);
    await fireEvent.click(screen.getByRole('button', { name: 'Export a support bundle' }));
    const written = await screen.findByTestId('support-bundle-written');
    expect(world.exported).toEqual(['/home/ana/slipway-support.tar.gz']);
    expect(written.textContent).toContain('/home/ana/slipway-support.tar.gz');
  });
});
