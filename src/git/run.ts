import { existsSync } from 'node:fs';
import { InterruptedError, PreflightError, UsageError } from '../errors.js';
import { runProcess, SpawnError } from '../util/run-process.js';
import { stripCredentials } from './sanitize.js';

/** A git command that exited non-zero (or ran out of time). Internal: callers translate it into an IacError. */
export class GitCommandError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number,
    readonly stdout: string,
    readonly stderr: string,
    /** The network deadline passed: the remote accepted the connection but did not answer in time. */
    readonly timedOutAfterMs?: number,
  ) {
    super(
      timedOutAfterMs !== undefined
        ? `git ${args[0] ?? ''}: no answer within ${Math.round(timedOutAfterMs / 1000)}s`
        : `git ${args[0] ?? ''} exited with ${exitCode}: ${stripCredentials(stderr.trim().split('\n').at(-1) ?? '')}`,
    );
    this.name = 'GitCommandError';
  }
}

export interface GitOutput {
  stdout: string;
  stderr: string;
  exitCode: number;
}

export interface RunGitOptions {
  signal?: AbortSignal;
  /** Exit codes that are answers rather than failures (e.g. 1 from `merge-base --is-ancestor`). */
  okExitCodes?: number[];
}

/** Commands that talk to a remote: they get the network deadline. */
const NETWORK_COMMANDS = new Set(['fetch', 'push', 'ls-remote', 'pull', 'clone']);

/** Default deadline of one network command; iac.yaml's `git.timeout` overrides it. */
export const DEFAULT_GIT_NETWORK_TIMEOUT_MS = 120_000;
let networkTimeoutMs = DEFAULT_GIT_NETWORK_TIMEOUT_MS;

/** Set once per command from iac.yaml (`git.timeout`). */
export function setGitNetworkTimeout(ms: number): void {
  networkTimeoutMs = ms;
}

function gitEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    // Never block on a credential prompt; parse git's messages in one language.
    GIT_TERMINAL_PROMPT: '0',
    LC_ALL: 'C',
    LANGUAGE: 'C',
    // A stalled HTTP transfer ends on its own, even if iac itself is killed and cannot stop it.
    GIT_HTTP_LOW_SPEED_LIMIT: process.env.GIT_HTTP_LOW_SPEED_LIMIT ?? '1',
    GIT_HTTP_LOW_SPEED_TIME: process.env.GIT_HTTP_LOW_SPEED_TIME ?? '60',
  };
}

/**
 * Run one git command in `cwd` with an argument array (never a shell), directly — no wrapper
 * library between iac and git: every call on `iac up`'s path is one process and nothing more.
 * Network commands get a deadline; on expiry or Ctrl-C the whole process group (git-remote-http,
 * ssh) is stopped.
 */
export async function runGit(cwd: string, args: string[], options: RunGitOptions = {}): Promise<GitOutput> {
  if (options.signal?.aborted) throw new InterruptedError();
  if (!existsSync(cwd)) throw new UsageError('git.no-dir', `${cwd} does not exist`);
  const timeoutMs = NETWORK_COMMANDS.has(args[0] ?? '') ? networkTimeoutMs : undefined;
  let result;
  try {
    result = await runProcess('git', args, { cwd, env: gitEnv(), ...(options.signal ? { signal: options.signal } : {}), ...(timeoutMs !== undefined ? { timeoutMs } : {}) });
  } catch (error) {
    if (error instanceof SpawnError && error.code === 'ENOENT') {
      throw new PreflightError('git.missing', 'git is not installed or not on PATH', { hint: 'install git (https://git-scm.com/downloads)' });
    }
    throw error;
  }
  if (result.aborted) throw new InterruptedError();
  if (result.timedOut) throw new GitCommandError(args, -1, result.stdout, result.stderr, timeoutMs);
  const exitCode = result.exitCode ?? -1;
  if (exitCode === 0 || options.okExitCodes?.includes(exitCode)) return { stdout: result.stdout, stderr: result.stderr, exitCode };
  throw new GitCommandError(args, exitCode, result.stdout, result.stderr);
}

/** Convenience: stdout trimmed. */
export async function gitText(cwd: string, args: string[], options: RunGitOptions = {}): Promise<string> {
  return (await runGit(cwd, args, options)).stdout.trim();
}
