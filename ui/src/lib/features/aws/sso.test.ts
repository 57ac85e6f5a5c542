import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, fireEvent, render, screen } from '@testing-library/svelte';
import { clearMocks, mockIPC } from '@tauri-apps/api/mocks';
import type { Channel } from '@tauri-apps/api/core';
import { SsoSignIn, suggestedProfileName } from './sso.svelte';
import SsoSignInForm from './SsoSignInForm.svelte';
import type { AwsProfile, NewSsoProfile, SsoSignedIn, SsoSignInEvent } from '../../ipc';

afterEach(() => {
  cleanup();
  clearMocks();
});

const tick = () => new Promise((r) => setTimeout(r, 0));

const signedIn: SsoSignedIn = {
  sessionName: 'my-team',
  startUrl: 'https://my-team.awsapps.com/start',
  ssoRegion: 'eu-west-1',
  expiresAt: '2026-12-04T20:00:00Z',
  accounts: [
    { accountId: '111122223333', name: 'Demo apps', email: null, roles: ['PowerUserAccess', 'ReadOnlyAccess'] },
    { accountId: '444455556666', name: 'Production', email: null, roles: ['ReadOnlyAccess'] },
  ],
};

describe('suggestedProfileName', () => {
  it('joins the portal and the account in a name the AWS CLI accepts', () => {
    expect(suggestedProfileName('my-team', signedIn.accounts[0])).toBe('my-team-demo-apps');
    expect(suggestedProfileName('sso', { ...signedIn.accounts[0], name: '  Prod / EU  ' })).toBe('sso-prod-eu');
    expect(suggestedProfileName('', undefined)).toBe('sso');
  });
});

describe('SsoSignInForm', () => {
  it('opens the sign-in page, waits, then saves the chosen account and role as a profile', async () => {
    let release: (value: SsoSignedIn) => void = () => {};
    const opened: string[] = [];
    let saved: NewSsoProfile | null = null;
    mockIPC((cmd, args) => {
      const a = args as Record<string, unknown>;
      if (cmd === 'sso_sign_in') {
        const channel = a.onEvent as Channel<SsoSignInEvent>;
        channel.onmessage({ kind: 'openBrowser', url: 'https://oidc.eu-west-1.amazonaws.com/authorize?x=1' });
        return new Promise((resolve) => (release = resolve));
      }
      if (cmd === 'open_in_browser') {
        opened.push(a.url as string);
        return null;
      }
      if (cmd === 'save_sso_profile') {
        saved = a.request as NewSsoProfile;
        return { name: saved.name, kind: 'Sso', region: 'eu-west-1', definedIn: [], ssoSession: 'my-team', endpointUrl: null } satisfies AwsProfile;
      }
      return null;
    });
    const profiles: AwsProfile[] = [];
    const flow = new SsoSignIn((p) => profiles.push(p), () => {});
    render(SsoSignInForm, { flow, onClose: () => {} });
    await fireEvent.input(screen.getByTestId('sso-start-url'), { target: { value: 'https://my-team.awsapps.com/start' } });
    await fireEvent.input(screen.getByTestId('sso-region'), { target: { value: 'eu-west-1' } });
    await fireEvent.click(screen.getByTestId('sso-sign-in'));
    await tick();
    expect(screen.getByTestId('sso-waiting').textContent).toContain('Finish signing in in your browser');
    expect(opened).toEqual(['https://oidc.eu-west-1.amazonaws.com/authorize?x=1']);
    // The address is behind Show details while the browser has it.
    expect(screen.queryByTestId('sso-page-url')).toBeNull();

    release(signedIn);
    await tick();
    await tick();
    const account = screen.getByTestId('sso-account') as HTMLSelectElement;
    expect(account.value).toBe('111122223333');
    expect((screen.getByTestId('sso-role') as HTMLSelectElement).value).toBe('PowerUserAccess');
    expect((screen.getByTestId('sso-profile-name') as HTMLInputElement).value).toBe('my-team-demo-apps');
    await fireEvent.change(account, { target: { value: '444455556666' } });
    await tick();
    expect((screen.getByTestId('sso-role') as HTMLSelectElement).value).toBe('ReadOnlyAccess');
    expect((screen.getByTestId('sso-profile-name') as HTMLInputElement).value).toBe('my-team-production');
    await fireEvent.click(screen.getByTestId('sso-save'));
    await tick();
    expect(saved).toMatchObject({ name: 'my-team-production', accountId: '444455556666', roleName: 'ReadOnlyAccess', sessionName: 'my-team' });
    expect(profiles.map((p) => p.name)).toEqual(['my-team-production']);
  });

  it('shows the code to confirm, and the address when the browser cannot be opened', async () => {
    mockIPC((cmd, args) => {
      const a = args as Record<string, unknown>;
      if (cmd === 'sso_sign_in') {
        const channel = a.onEvent as Channel<SsoSignInEvent>;
        channel.onmessage({ kind: 'confirmCode', url: 'https://device.sso.eu-west-1.amazonaws.com/?user_code=WXYZ-1234', userCode: 'WXYZ-1234', expiresInSeconds: 600 });
        return new Promise(() => {});
      }
      if (cmd === 'open_in_browser') throw { code: 'Internal', message: 'no browser' };
      return null;
    });
    const flow = new SsoSignIn(() => {}, () => {});
    flow.startUrl = 'https://my-team.awsapps.com/start';
    flow.method = 'code';
    render(SsoSignInForm, { flow, onClose: () => {} });
    await fireEvent.click(screen.getByTestId('sso-sign-in'));
    await tick();
    expect(screen.getByTestId('sso-user-code').textContent).toBe('WXYZ-1234');
    expect(screen.getByTestId('sso-page-url').textContent).toContain('user_code=WXYZ-1234');
    await fireEvent.click(screen.getByTestId('sso-open-page'));
    await tick();
    expect(flow.openFailed).toBe(true);
    expect(screen.getByTestId('sso-waiting').textContent).toContain('could not open your browser');
  });

  it('says why a sign-in failed and offers to try again, keeping what was typed', async () => {
    mockIPC((cmd) => {
      if (cmd === 'sso_sign_in') throw { code: 'SsoSignInFailed', message: 'The AWS SSO sign-in did not finish: the sign-in was declined in the browser.' };
      return null;
    });
    const flow = new SsoSignIn(() => {}, () => {});
    flow.startUrl = 'https://my-team.awsapps.com/start';
    render(SsoSignInForm, { flow, onClose: () => {} });
    await fireEvent.click(screen.getByTestId('sso-sign-in'));
    await tick();
    await tick();
    expect(screen.getByRole('alert').textContent).toContain('declined in the browser');
    expect(screen.getByTestId('sso-sign-in').textContent?.trim()).toBe('Try again');
    expect((screen.getByTestId('sso-start-url') as HTMLInputElement).value).toBe('https://my-team.awsapps.com/start');
  });
});
