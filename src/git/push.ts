import { GitStepError, InterruptedError, PreflightError, throwIfAborted } from '../errors.js';
import { networkError } from './classify.js';
import type { GitEventListener } from './events.js';
import { assertBranchName, assertRemoteName } from './names.js';
import { isNonFastForward, parsePushPorcelain } from './push-porcelain.js';
import type { PushedRef } from './push-porcelain.js';
import { openRepo, remoteHeads } from './repo.js';
import type { GitRepo } from './repo.js';
import { GitCommandError, runGit } from './run.js';
import { scrubLines, stripCredentials } from './sanitize.js';

export interface PushOptions {
  cwd: string;
  remote: string;
  branch: string;
  /** The run's commit: exactly this is pushed, whatever the branch points at by then. */
  sha: string;
  signal?: AbortSignal;
  onEvent?: GitEventListener;
  /** The plan `pushPlan` made for this push (saves asking git for the URL and upstream again). */
  plan?: PushPlan;
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

/** What `pushCommit` would do, read-only and offline (for --dry-run). */
export async function pushPlan(options: Omit<PushOptions, 'signal' | 'onEvent'>): Promise<PushPlan> {
  assertRemoteName(options.remote);
  assertBranchName(options.branch);
  // The raw URL may carry credentials: it stays inside this module.
  const { rawUrl: _rawUrl, ...plan } = await planFor(await openRepo(options.cwd), options.remote, options.branch, options.sha);
  return plan;
}

async function planFor(repo: GitRepo, remote: string, branch: string, sha: string): Promise<PushPlan & { rawUrl: string }> {
  const [rawUrl, upstream] = await Promise.all([repo.remoteUrl(remote), repo.upstream(branch)]);
  return {
    remote,
    remoteUrl: stripCredentials(rawUrl),
    branch,
    // The SHA, never the branch name: a commit made while the run is under way is not pushed by it.
    refspec: `${sha}:refs/heads/${branch}`,
    sha,
    setsUpstream: upstream === undefined,
    rawUrl,
  };
}

/**
 * Push exactly the run's commit to the branch. Never forces: a remote that has commits the SHA lacks
 * rejects it (exit 10 with git's reason; `iac up`'s preflight already refused that case with exit 3);
 * an unreachable remote is exit 4. The preflight fetched: no second fetch here.
 */
export async function pushCommit(options: PushOptions): Promise<PushResult> {
  const { remote, branch, sha, signal, onEvent } = options;
  assertRemoteName(remote);
  assertBranchName(branch);
  const repo = await openRepo(options.cwd);
  // Messages show the URL without credentials either way.
  const { rawUrl, ...plan } = options.plan?.sha === sha ? { ...options.plan, rawUrl: options.plan.remoteUrl } : await planFor(repo, remote, branch, sha);

  throwIfAborted(signal); // before the push: nothing happened remotely, say so plainly
  onEvent?.({ type: 'pushing', remote, refspec: plan.refspec, sha });
  let output: string;
  try {
    output = (await runGit(repo.cwd, ['push', '--porcelain', '--', remote, plan.refspec], { signal })).stdout;
  } catch (error) {
    throw pushError(error, remote, rawUrl, branch, sha);
  }
  const pushed = parsePushPorcelain(output).find((ref) => ref.to === `refs/heads/${branch}`);
  const alreadyUpToDate = pushed?.flag === '=';
  // `--set-upstream` needs a branch as the source; with a SHA the tracking is set explicitly.
  let setUpstream = false;
  if (plan.setsUpstream && (await repo.resolve(`refs/heads/${branch}`)) !== undefined) {
    const out = await runGit(repo.cwd, ['branch', `--set-upstream-to=${remote}/${branch}`, '--', branch], { okExitCodes: [128] });
    setUpstream = out.exitCode === 0;
  }
  onEvent?.({ type: 'pushed', remote, refspec: plan.refspec, sha, alreadyUpToDate });
  return { sha, refspec: plan.refspec, alreadyUpToDate, setUpstream };
}

/**
 * Refuses (exit 3) when the remote branch has commits that `sha` lacks: pushing would be rejected,
 * and forcing would lose a teammate's work. One `ls-remote` in the common case (the remote is at our
 * commit or behind it); a fetch only to say how far ahead it is. Also `iac up`'s preflight. Returns
 * the remote head (undefined when the branch is not there yet).
 */
export async function assertRemoteNotAhead(
  repo: GitRepo,
  options: { remote: string; branch: string; sha: string; signal?: AbortSignal; onEvent?: GitEventListener },
): Promise<string | undefined> {
  const { remote, branch, sha, signal, onEvent } = options;
  let head: string | undefined;
  try {
    head = (await remoteHeads(repo.cwd, remote, [branch], signal)).get(branch);
  } catch (error) {
    throw networkError(error, remote, await repo.remoteUrl(remote), 'read');
  }
  if (head === undefined || head === sha) return head;
  if (await repo.hasAncestor(head, sha)) return head;
  // The remote has commits we lack: fetch them to say how many (the refusal is the verdict either way).
  await repo.fetch(remote, [branch], { ...(signal ? { signal } : {}), ...(onEvent ? { onEvent } : {}) });
  const { behind } = await repo.aheadBehind(sha, `refs/remotes/${remote}/${branch}`);
  throw new PreflightError(
    'git.behind-remote',
    `${remote}/${branch} has ${behind} commit${behind === 1 ? '' : 's'} that your ${branch} lacks`,
    { hint: `git pull --rebase ${remote} ${branch}` },
  );
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
