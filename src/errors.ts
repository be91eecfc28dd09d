/**
 * One error hierarchy for the whole tool. Every failure a user can meet has a stable `code`,
 * a one-line `message`, a `hint` (the next thing to run) and an exit code derived from its class.
 * Only the top level (src/cli.ts) turns these into process exit codes.
 */

export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  preflight: 3,
  unreachable: 4,
  git: 10,
  buildFailure: 20,
  buildUnstable: 21,
  buildAborted: 22,
  buildRevision: 23,
  ansibleTaskFailed: 30,
  ansibleUnreachable: 31,
  rolloutFailed: 40,
  rolloutTimeout: 41,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface IacErrorOptions {
  hint?: string;
  cause?: unknown;
  /** Extra lines shown under the message on failure (console tail, failed task, pod diagnostics). */
  details?: string[];
}

export abstract class IacError extends Error {
  abstract readonly exitCode: ExitCodeValue;
  readonly code: string;
  readonly hint: string | undefined;
  readonly details: string[];

  constructor(code: string, message: string, options: IacErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? [];
  }
}

/** Bad flags, bad iac.yaml, unknown environment: nothing was changed. */
export class UsageError extends IacError {
  readonly exitCode = ExitCode.usage;
}

/** A configuration file problem, located at file:line:column. */
export class ConfigError extends UsageError {}

/** Preflight failed (dirty tree, missing tool or credential, branch behind remote): nothing was changed. */
export class PreflightError extends IacError {
  readonly exitCode = ExitCode.preflight;
}

/** A system could not be reached or refused credentials: the outcome is unknown, not failed. */
export class UnreachableError extends IacError {
  readonly exitCode = ExitCode.unreachable;
}

/** The git step failed: push rejected, merge conflict. */
export class GitStepError extends IacError {
  readonly exitCode = ExitCode.git;
}

export type JenkinsResult = 'SUCCESS' | 'UNSTABLE' | 'FAILURE' | 'ABORTED' | 'NOT_BUILT' | 'CANCELLED';

/** A Jenkins build ended without SUCCESS. */
export class BuildError extends IacError {
  readonly exitCode: ExitCodeValue;
  readonly result: JenkinsResult;

  constructor(result: JenkinsResult, message: string, options: IacErrorOptions = {}) {
    super(`jenkins.${result.toLowerCase()}`, message, options);
    this.result = result;
    this.exitCode =
      result === 'FAILURE'
        ? ExitCode.buildFailure
        : result === 'UNSTABLE'
          ? ExitCode.buildUnstable
          : ExitCode.buildAborted;
  }
}

/** The Jenkins build reported a git revision other than the run's commit: it did not build what was pushed (23). */
export class BuildRevisionError extends IacError {
  readonly exitCode = ExitCode.buildRevision;

  constructor(message: string, options: IacErrorOptions = {}) {
    super('jenkins.wrong-revision', message, options);
  }
}

/** Ansible: a task failed (30) or a host was unreachable (31). */
export class AnsibleError extends IacError {
  readonly exitCode: ExitCodeValue;

  constructor(kind: 'task-failed' | 'unreachable', message: string, options: IacErrorOptions = {}) {
    super(`ansible.${kind}`, message, options);
    this.exitCode = kind === 'unreachable' ? ExitCode.ansibleUnreachable : ExitCode.ansibleTaskFailed;
  }
}

/** Rollout failed for good (40) or ran out of time while still progressing (41). */
export class RolloutError extends IacError {
  readonly exitCode: ExitCodeValue;

  constructor(kind: 'failed' | 'timeout', message: string, options: IacErrorOptions = {}) {
    super(`rollout.${kind}`, message, options);
    this.exitCode = kind === 'timeout' ? ExitCode.rolloutTimeout : ExitCode.rolloutFailed;
  }
}

/** Ctrl-C. The summary says what kept running remotely. */
export class InterruptedError extends IacError {
  readonly exitCode = ExitCode.interrupted;

  constructor(message = 'interrupted', options: IacErrorOptions = {}) {
    super('interrupted', message, options);
  }
}

/** A bug in iac itself. */
export class InternalError extends IacError {
  readonly exitCode = ExitCode.internal;
}

export function isIacError(error: unknown): error is IacError {
  return error instanceof IacError;
}

/** The exit code for anything thrown: IacErrors carry theirs, everything else is a bug (1). */
export function exitCodeOf(error: unknown): ExitCodeValue {
  if (isIacError(error)) return error.exitCode;
  return ExitCode.internal;
}

/** True when the signal was aborted; adapters use it to turn an abort into InterruptedError. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new InterruptedError();
}
