// OS notifications for what ends or needs an answer while the window is in the background:
// a deploy, a rollback or a stop that finished or failed, and the idle guard's warnings. In
// the foreground the window says it itself, so nothing is sent.
import { isPermissionGranted, requestPermission, sendNotification } from '@tauri-apps/plugin-notification';

export type Notice = { title: string; body: string };

/** Whether the window is out of the user's sight: hidden, minimised or behind another. */
export function inBackground(): boolean {
  return document.visibilityState === 'hidden' || !document.hasFocus();
}

let allowed: Promise<boolean> | null = null;

/**
 * Shows `notice` as an OS notification when the window is in the background; true when it
 * was sent. Never throws: a notification is a courtesy, and the window still says it all.
 * A function is asked for the notice only when one would be sent.
 */
export async function notifyInBackground(notice: Notice | null | (() => Notice | null)): Promise<boolean> {
  if (notice === null || !inBackground()) return false;
  try {
    notice = typeof notice === 'function' ? notice() : notice;
    if (notice === null) return false;
    allowed ??= (async () => (await isPermissionGranted()) || (await requestPermission()) === 'granted')();
    if (!(await allowed)) return false;
    sendNotification(notice);
    return true;
  } catch {
    allowed = null;
    return false;
  }
}
