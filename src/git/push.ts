import { GitStepError, InterruptedError, PreflightError, throwIfAborted } from '../errors.js';
import { networkError } from './classify.js';
import type { GitEventListener } from './events.js';
import { assertBranchName, assertRemoteName } from './names.js';
import { isNonFastForward, parsePushPorcelain } from './push-porcelain.js';
import type { PushedRef } from './push-porcelain.js';
import { openRepo } from './repo.js';
import type { GitRepo } from './repo.js';
import { GitCommandError, runGit } from './run.js';
import { scrubLines, stripCredentials } from './sanitize.js';

export interface PushOptions {
  cwd: string;
  remote: string;
  branch: string;
  signal?: AbortSignal;
  onEvent?: GitEventListener;
}

export interface PushPlan {
  remote: string;
  /** Credential-free URL of the remote, for display. */
  remoteUrl: string;
  branch: string;
  refspec: string;
  sha: string;
  /** True when the branch has no upstream yet: the push will set it. */
  setsUpstream: boolean;
}

export interface PushResult {
  sha: string;
  refspec: string;
  alreadyUpToDate: boolean;
  setUpstream: boolean;
}

/** What `pushBranch` would do, read-only and offline (for --dry-run). */
export async function pushPlan(options: Omit<PushOptions, 'signal' | 'onEvent'>): Promise<PushPlan> {
  assertRemoteName(options.remote);
  assertBranchName(options.branch);
  // The raw URL may carry credentials: it stays inside this module.
  const { rawUrl: _rawUrl, ...plan } = await planFor(await openRepo(options.cwd), options.remote, options.branch);
  return plan;
}

async function planFor(repo: GitRepo, remote: string, branch: string): Promise<PushPlan & { rawUrl: string }> {
  const rawUrl = await repo.remoteUrl(remote);
  return {
    remote,
    remoteUrl: stripCredentials(rawUrl),
    branch,
    refspec: `refs/heads/${branch}:refs/heads/${branch}`,
    sha: await localBranchSha(repo, branch),
    setsUpstream: (await repo.upstream(branch)) === undefined,
    rawUrl,
  };
}

/**
 * Push exactly the branch's current commit. Fetches first and refuses (exit 3) when the remote has
 * commits we lack; never forces; a rejection is exit 10 with git's reason, an unreachable remote exit 4.
 */
export async function pushBranch(options: PushOptions): Promise<PushResult> {
  const { remote, branch, signal, onEvent } = options;
  assertRemoteName(remote);
  assertBranchName(branch);
  const repo = await openRepo(options.cwd);
  const { rawUrl, ...plan } = await planFor(repo, remote, branch);

  await assertRemoteNotAhead(repo, { remote, branch, sha: plan.sha, signal, onEvent });

  throwIfAborted(signal); // before the push: nothing happened remotely, say so plainly
  onEvent?.({ type: 'pushing', remote, refspec: plan.refspec, sha: plan.sha });
  const args = ['push', '--porcelain', ...(plan.setsUpstream ? ['--set-upstream'] : []), '--', remote, plan.refspec];
  let output: string;
  try {
    output = (await runGit(repo.cwd, args, { signal })).stdout;
  } catch (error) {
    throw pushError(error, remote, rawUrl, branch, plan.sha);
  }
  const pushed = parsePushPorcelain(output).find((ref) => ref.to === `refs/heads/${branch}`);
  const alreadyUpToDate = pushed?.flag === '=';
  onEvent?.({ type: 'pushed', remote, refspec: plan.refspec, sha: plan.sha, alreadyUpToDate });
  return { sha: plan.sha, refspec: plan.refspec, alreadyUpToDate, setUpstream: plan.setsUpstream };
}

/**
 * Fetches the branch and refuses (exit 3) when the remote has commits that `sha` lacks: pushing
 * would be rejected, and forcing would lose a teammate's work. Also used as `iac up`'s preflight.
 */
export async function assertRemoteNotAhead(
  repo: GitRepo,
  options: { remote: string; branch: string; sha: string; signal?: AbortSignal; onEvent?: GitEventListener },
): Promise<void> {
  const { remote, branch, sha, signal, onEvent } = options;
  const { missing } = await repo.fetch(remote, [branch], { signal, onEvent });
  if (missing.length > 0) return;
  const { behind } = await repo.aheadBehind(sha, `refs/remotes/${remote}/${branch}`);
  if (behind > 0) {
    throw new PreflightError(
      'git.behind-remote',
      `${remote}/${branch} has ${behind} commit${behind === 1 ? '' : 's'} that your ${branch} lacks`,
      { hint: `git pull --rebase ${remote} ${branch}` },
    );
  }
}

async function localBranchSha(repo: GitRepo, branch: string): Promise<string> {
  const sha = await repo.resolve(`refs/heads/${branch}`);
  if (!sha) {
    throw new PreflightError('git.no-branch', `there is no local branch "${branch}"`, {
      hint: `git switch -c ${branch}`,
    });
  }
  return sha;
}

/**
 * A failed `git push --porcelain`: rejected ref → exit 10 with git's reason; transport failure → exit 4;
 * interrupted mid-push → 130, saying the outcome is unknown and how to check it.
 */
export function pushError(error: unknown, remote: string, url: string, branch: string, sha: string): unknown {
  if (error instanceof InterruptedError) {
    const message = `interrupted while pushing ${branch} to ${remote}: it may or may not have been updated`;
    return new InterruptedError(message, {
      hint: `git ls-remote ${remote} refs/heads/${branch}   # compare with ${sha.slice(0, 12)}`,
    });
  }
  if (!(error instanceof GitCommandError)) return error;
  const rejected = parsePushPorcelain(error.stdout).find((ref) => ref.flag === '!');
  if (!rejected) return networkError(error, remote, url, 'push to');
  return rejectionError(rejected, error.stderr, remote, url, branch);
}

function rejectionError(ref: PushedRef, stderr: string, remote: string, url: string, branch: string): GitStepError {
  const reason = ref.reason ?? ref.summary;
  // Hook output ("remote: ...") explains policy rejections; keep it, credential-free.
  const details = scrubLines(stderr).filter((line) => !line.startsWith('hint:')).slice(-20);
  const hint = isNonFastForward(ref) ? `git pull --rebase ${remote} ${branch}` : undefined;
  return new GitStepError(
    'git.push-rejected',
    `${stripCredentials(url)} rejected the push of ${branch}: ${reason}`,
    { hint, details },
  );
}
