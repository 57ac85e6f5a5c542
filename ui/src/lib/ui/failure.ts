// What went wrong, in the shape every screen shows: the engine's code (to branch on) when
// there is one, and the sentence a person reads.
import { IpcFailure, type ErrorCode } from '../ipc';

export interface Failure {
  code: ErrorCode | null;
  message: string;
}

/** Any rejection as a Failure: IPC errors keep their code; plugin and runtime errors keep their words. */
export function failureOf(e: unknown): Failure {
  if (e instanceof IpcFailure) return { code: e.code, message: e.message };
  if (e instanceof Error) return { code: null, message: e.message };
  if (typeof e === 'object' && e !== null && 'message' in e && typeof e.message === 'string') {
    const code = 'code' in e && typeof e.code === 'string' ? (e.code as ErrorCode) : null;
    return { code, message: e.message };
  }
  return { code: null, message: String(e) };
}
