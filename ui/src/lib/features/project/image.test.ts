import { afterEach, describe, expect, it, vi } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import { folderFor, IMAGE_CHECK_DELAY_MS, ImageProjectForm } from './image.svelte';
import ImageProjectFormView from './ImageProjectForm.svelte';
import { ProjectSession } from './project.svelte';
import type { ImageProjectDefaults, NewImageProject, Project, TaskSizeOption } from '../../ipc';
import fixtures from '../../../../../tests/fixtures/project.json';

afterEach(() => {
  cleanup();
  clearMocks();
  vi.useRealTimers();
});

const sample = fixtures.sample as Project;
const sizes = fixtures.taskSizes as TaskSizeOption[];

/** The engine's answers: a problem for a reference ending in ':', else a name from its last part. */
function defaultsFor(image: string): ImageProjectDefaults {
  if (image.endsWith(':'))
    return { name: 'my-app', dir: '/home/ana/Slipway/my-app', problem: "Nothing follows the ':'. Give a tag such as 1.2, or leave the ':' out for latest." };
  const name = image.split('/').pop()!.split(':')[0];
  return { name, dir: `/home/ana/Slipway/${name}`, problem: null };
}

function mockEngine(created: NewImageProject[], asked: string[] = []) {
  mockIPC((cmd, args) => {
    if (cmd === 'image_project_defaults') {
      const image = (args as { image: string }).image;
      asked.push(image);
      return defaultsFor(image);
    }
    if (cmd === 'create_image_project') {
      const request = (args as { request: NewImageProject }).request;
      created.push(request);
      return { ...sample, dir: request.dir, config: { ...sample.config, name: request.name, image: request.image } };
    }
    if (cmd === 'task_sizes') return sizes;
    if (cmd === 'check_project') return fixtures.preflight;
    if (cmd === 'validate_project') return [];
    return null;
  });
}

describe('ImageProjectForm', () => {
  it('proposes a name and folder from the image, asking once the typing pauses', async () => {
    vi.useFakeTimers();
    const asked: string[] = [];
    mockEngine([], asked);
    const form = new ImageProjectForm();
    form.setImage('ghcr.io/dbward-dev/dbward');
    form.setImage('ghcr.io/dbward-dev/dbward-server:v0.1.3');
    expect(form.canCreate, 'not before the engine has read the reference').toBe(false);
    await vi.advanceTimersByTimeAsync(IMAGE_CHECK_DELAY_MS + 10);
    expect(asked).toEqual(['ghcr.io/dbward-dev/dbward-server:v0.1.3']);
    expect(form.name).toBe('dbward-server');
    expect(form.dir).toBe('/home/ana/Slipway/dbward-server');
    expect(form.canCreate).toBe(true);

    form.setName('dbward');
    expect(form.dir, 'the proposed folder follows a typed name').toBe('/home/ana/Slipway/dbward');
    form.setImage('ghcr.io/dbward-dev/dbward-server:v0.1.4');
    await vi.advanceTimersByTimeAsync(IMAGE_CHECK_DELAY_MS + 10);
    expect(form.name, 'a typed name is the user’s and stays').toBe('dbward');
    expect(form.dir).toBe('/home/ana/Slipway/dbward');
  });

  it('keeps a malformed image from being created and says what is wrong', async () => {
    vi.useFakeTimers();
    const created: NewImageProject[] = [];
    mockEngine(created);
    const form = new ImageProjectForm();
    form.setImage('ghcr.io/org/app:');
    await vi.advanceTimersByTimeAsync(IMAGE_CHECK_DELAY_MS + 10);
    expect(form.imageProblem).toMatch(/Nothing follows the ':'/);
    expect(form.canCreate).toBe(false);
    expect(await form.create()).toBeNull();
    expect(created).toEqual([]);
  });

  it('replaces only the last part of a folder, whatever its separator', () => {
    expect(folderFor('/home/ana/Slipway/app', 'shop')).toBe('/home/ana/Slipway/shop');
    expect(folderFor('C:\\Users\\ana\\Slipway\\app', 'shop')).toBe('C:\\Users\\ana\\Slipway\\shop');
  });
});

describe('Use an existing image', () => {
  it('shows the image’s problem under its field, then creates the project and opens it', async () => {
    const created: NewImageProject[] = [];
    mockEngine(created);
    const session = new ProjectSession();
    render(ImageProjectFormView, { session, onCancel: () => {} });
    const image = screen.getByLabelText('Image') as HTMLInputElement;
    await fireEvent.input(image, { target: { value: 'ghcr.io/org/app:' } });
    await vi.waitFor(() => expect(screen.getByTestId('problem-image').textContent).toMatch(/Nothing follows/));
    expect(image.getAttribute('aria-invalid')).toBe('true');
    expect((screen.getByTestId('create-image-project') as HTMLButtonElement).disabled).toBe(true);

    await fireEvent.input(image, { target: { value: '  ghcr.io/org/shop:1.2 ' } });
    await vi.waitFor(() => expect((screen.getByLabelText('App name') as HTMLInputElement).value).toBe('shop'));
    expect(screen.queryByTestId('problem-image')).toBeNull();
    expect((screen.getByLabelText('Settings folder') as HTMLInputElement).value).toBe('/home/ana/Slipway/shop');
    await fireEvent.click(screen.getByTestId('create-image-project'));
    await vi.waitFor(() => expect(session.project?.config.image).toBe('ghcr.io/org/shop:1.2'));
    expect(created).toEqual([{ image: 'ghcr.io/org/shop:1.2', name: 'shop', dir: '/home/ana/Slipway/shop' }]);
    expect(session.project?.dir).toBe('/home/ana/Slipway/shop');
  });
});
