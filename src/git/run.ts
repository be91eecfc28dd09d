import { GitPluginError, simpleGit } from 'simple-git';
import type { SimpleGitOptions } from 'simple-git';
import { existsSync } from 'node:fs';
import { InterruptedError, PreflightError, UsageError } from '../errors.js';
import { stripCredentials } from './sanitize.js';

/** A git command that exited non-zero. Internal: callers translate it into an IacError. */
export class GitCommandError extends Error {
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`git ${args[0] ?? ''} exited with ${exitCode}: ${stripCredentials(stderr.trim().split('\n').at(-1) ?? '')}`);
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
  /** Only for commands whose `-c core.hooksPath=…` value iac chose itself (temporary worktrees). */
  allowHooksPath?: boolean;
}

/**
 * The user's own environment (GIT_SSH_COMMAND, SSH_ASKPASS, EDITOR, PAGER, GIT_CONFIG_*) is what makes
 * their git work, so simple-git's environment checks are relaxed for it; argv is built here from
 * validated names only (see names.ts), and the argv-level checks for `--upload-pack` & co stay on.
 */
const ENV_ALLOWANCES: SimpleGitOptions['unsafe'] = {
  allowUnsafeAskPass: true,
  allowUnsafeConfigPaths: true,
  allowUnsafeConfigEnvCount: true,
  allowUnsafeCredentialHelper: true,
  allowUnsafeEditor: true,
  allowUnsafePager: true,
  allowUnsafeSshCommand: true,
  allowUnsafeGitProxy: true,
  allowUnsafeDiffExternal: true,
  allowUnsafeTemplateDir: true,
};

function gitEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined) env[key] = value;
  // Never block on a credential prompt; parse git's messages in one language.
  env.GIT_TERMINAL_PROMPT = '0';
  env.LC_ALL = 'C';
  env.LANGUAGE = 'C';
  return env;
}

/** Run one git command in `cwd` with an argument array (never a shell). */
export async function runGit(cwd: string, args: string[], options: RunGitOptions = {}): Promise<GitOutput> {
  if (options.signal?.aborted) throw new InterruptedError();
  if (!existsSync(cwd)) throw new UsageError('git.no-dir', `${cwd} does not exist`);
  let captured: GitOutput | undefined;
  const git = simpleGit({
    baseDir: cwd,
    abort: options.signal,
    trimmed: false,
    unsafe: { ...ENV_ALLOWANCES, allowUnsafeHooksPath: options.allowHooksPath === true },
    errors(error, result) {
      // Keep exit code and both streams so callers can read git's reason.
      const output = {
        exitCode: result.exitCode,
        stdout: Buffer.concat(result.stdOut).toString('utf8'),
        stderr: Buffer.concat(result.stdErr).toString('utf8'),
      };
      if (error instanceof GitPluginError) return error;
      if (result.exitCode === 0) return undefined;
      if (/spawn \S+ ENOENT/.test(output.stderr)) return new Error('ENOENT: git not found');
      captured = output; // simple-git wraps whatever we return in its own GitError: keep the facts here
      return new Error(`git exited with ${result.exitCode}`);
    },
  }).env(gitEnv());
  try {
    const stdout = await git.raw(args);
    return { stdout, stderr: '', exitCode: 0 };
  } catch (error) {
    if (error instanceof GitPluginError && error.plugin === 'abort') throw new InterruptedError();
    if (options.signal?.aborted) throw new InterruptedError();
    if (!captured && error instanceof Error && error.message.includes('ENOENT')) {
      throw new PreflightError('git.missing', 'git is not installed or not on PATH', {
        hint: 'install git (https://git-scm.com/downloads)',
      });
    }
    if (!captured) throw error;
    if (options.okExitCodes?.includes(captured.exitCode)) return captured;
    throw new GitCommandError(args, captured.exitCode, captured.stdout, captured.stderr);
  }
}

/** Convenience: stdout trimmed. */
export async function gitText(cwd: string, args: string[], options: RunGitOptions = {}): Promise<string> {
  return (await runGit(cwd, args, options)).stdout.trim();
}
