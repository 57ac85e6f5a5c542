// The only module that talks to the Rust side. Features call these functions; they never
// import @tauri-apps/* or the generated bindings themselves.
import { Channel } from '@tauri-apps/api/core';
import { commands } from './bindings';
import type { CheckRequest, EnvironmentEvent, EnvironmentReport, IpcError, AppInfo } from './bindings';

export type * from './bindings';

/** A failed command: `code` is for branching, `message` is for people. */
export class IpcFailure extends Error {
  readonly code: IpcError['code'];
  constructor(error: IpcError) {
    super(error.message);
    this.code = error.code;
  }
}

/** A long job: its result, and a way to ask it to stop. */
export interface Job<T> {
  promise: Promise<T>;
  cancel: () => Promise<boolean>;
}

type Outcome<T> = { status: 'ok'; data: T } | { status: 'error'; error: IpcError };

function newJobId(prefix: string): string {
  return `${prefix}-${crypto.randomUUID()}`;
}

function startJob<T, E>(
  prefix: string,
  onEvent: (event: E) => void,
  run: (jobId: string, channel: Channel<E>) => Promise<Outcome<T>>,
): Job<T> {
  const jobId = newJobId(prefix);
  const channel = new Channel<E>(onEvent);
  const promise = run(jobId, channel).then((outcome) => {
    if (outcome.status === 'error') throw new IpcFailure(outcome.error);
    return outcome.data;
  });
  return { promise, cancel: () => commands.cancelJob(jobId) };
}

export function appInfo(): Promise<AppInfo> {
  return commands.appInfo();
}

export function checkEnvironment(
  request: CheckRequest,
  onEvent: (event: EnvironmentEvent) => void,
): Job<EnvironmentReport> {
  return startJob('environment', onEvent, (jobId, channel) =>
    commands.checkEnvironment(jobId, request, channel),
  );
}
