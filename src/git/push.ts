import { GitStepError, PreflightError } from '../errors.js';
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
  const { remote, branch } = options;
  assertRemoteName(remote);
  assertBranchName(branch);
  const repo = await openRepo(options.cwd);
  const url = await repo.remoteUrl(remote);
  const sha = await localBranchSha(repo, branch);
  return {
    remote,
    remoteUrl: stripCredentials(url),
    branch,
    refspec: `refs/heads/${branch}:refs/heads/${branch}`,
    sha,
    setsUpstream: (await repo.upstream(branch)) === undefined,
  };
}

/**
 * Push exactly the branch's current commit. Fetches first and refuses (exit 3) when the remote has
 * commits we lack; never forces; a rejection is exit 10 with git's reason, an unreachable remote exit 4.
 */
export async function pushBranch(options: PushOptions): Promise<PushResult> {
  const { remote, branch, signal, onEvent } = options;
  const plan = await pushPlan(options);
  const repo = await openRepo(options.cwd);
  const url = await repo.remoteUrl(remote);

  const { missing } = await repo.fetch(remote, [branch], { signal, onEvent });
  if (missing.length === 0) {
    const { behind } = await repo.aheadBehind(plan.sha, `refs/remotes/${remote}/${branch}`);
    if (behind > 0) {
      throw new PreflightError(
        'git.behind-remote',
        `${remote}/${branch} has ${behind} commit${behind === 1 ? '' : 's'} that your ${branch} lacks`,
        { hint: `git pull --rebase ${remote} ${branch}` },
      );
    }
  }

  onEvent?.({ type: 'pushing', remote, refspec: plan.refspec, sha: plan.sha });
  const args = ['push', '--porcelain', ...(plan.setsUpstream ? ['--set-upstream'] : []), '--', remote, plan.refspec];
  let output: string;
  try {
    output = (await runGit(repo.cwd, args, { signal })).stdout;
  } catch (error) {
    throw pushError(error, remote, url, branch);
  }
  const pushed = parsePushPorcelain(output).find((ref) => ref.to === `refs/heads/${branch}`);
  const alreadyUpToDate = pushed?.flag === '=';
  onEvent?.({ type: 'pushed', remote, refspec: plan.refspec, sha: plan.sha, alreadyUpToDate });
  return { sha: plan.sha, refspec: plan.refspec, alreadyUpToDate, setUpstream: plan.setsUpstream };
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

/** A failed `git push --porcelain`: rejected ref → exit 10 with git's reason; transport failure → exit 4. */
export function pushError(error: unknown, remote: string, url: string, branch: string): unknown {
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
