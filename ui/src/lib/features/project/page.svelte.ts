// The app page's navigation: which tab is shown, and during a first deploy which step the
// Overview shows. The header, the tabs and the workbench share one AppPage per open project.
import { tick } from 'svelte';
import type { NextTarget } from './headline';

export type TabId = 'overview' | 'local' | 'deploys' | 'logs' | 'cost' | 'settings' | 'aws';

/** The tabs in their order, with the words on them. */
export const TABS: readonly { id: TabId; label: string }[] = [
  { id: 'overview', label: 'Overview' },
  { id: 'local', label: 'On this computer' },
  { id: 'deploys', label: 'Deploys & rollback' },
  { id: 'logs', label: 'Logs' },
  { id: 'cost', label: 'Cost' },
  { id: 'settings', label: 'Settings' },
  { id: 'aws', label: 'AWS resources' },
];

/** The tab after (or before) `tab`, wrapping around: what the arrow keys move to. */
export function nextTab(tab: TabId, by: 1 | -1): TabId {
  const i = TABS.findIndex((t) => t.id === tab);
  return TABS[(i + by + TABS.length) % TABS.length].id;
}

/** The tab each step's card lives on once the first deploy is behind. */
const HOME: Record<NextTarget, TabId> = { build: 'local', aws: 'aws', setup: 'aws', deploy: 'overview' };

export class AppPage {
  tab = $state<TabId>('overview');
  /** The first-deploy step the user chose to look at; null follows the step the guide is at. */
  chosen = $state<NextTarget | null>(null);
  /** True while the Overview guides a first deploy (the workbench keeps it current). */
  guiding = $state(false);

  show(tab: TabId) {
    this.tab = tab;
  }

  /** Shows where a step is done (during a first deploy, its view in the Overview; after it,
   * the tab its card is on) and puts the keyboard on the first enabled primary button there. */
  async go(target: NextTarget) {
    if (this.guiding) {
      this.tab = 'overview';
      this.chosen = target;
    } else {
      this.tab = HOME[target];
    }
    await tick();
    focusPrimary(document.querySelector<HTMLElement>('[data-testid=tab-panel]'));
  }
}

/** Focuses the first enabled primary button in `root` (else its first enabled button). */
export function focusPrimary(root: HTMLElement | null) {
  if (!root) return;
  // A hidden panel's buttons (the Logs tab stays mounted) cannot take the focus.
  const shown = (b: HTMLButtonElement) => b.closest('[hidden]') === null;
  const buttons = [...root.querySelectorAll<HTMLButtonElement>('button:not([disabled])')].filter(shown);
  const button = buttons.find((b) => b.classList.contains('primary')) ?? buttons[0];
  button?.focus({ preventScroll: true });
}
