import { GitStepError, PreflightError, UsageError, throwIfAborted } from '../errors.js';
import type { GitEventListener, MergeStrategy } from './events.js';
import { createMergeCommit, pickMergeStrategy } from './merge.js';
import { assertBranchName, assertRemoteName } from './names.js';
import { followLocalBranch } from './local-follow.js';
import type { LocalFollow } from './local-follow.js';
import { isNonFastForward, parsePushPorcelain } from './push-porcelain.js';
import { assertCleanTree, assertExpected, assertLocalToNotOutOfDate } from './promote-checks.js';
import { pushError } from './push.js';
import { openRepo } from './repo.js';
import type { CommitInfo, GitRepo } from './repo.js';
import { GitCommandError, runGit } from './run.js';

export type { LocalFollow } from './local-follow.js';

/** How a local branch relates to its remote counterpart. */
export type BranchRelation = 'absent' | 'equal' | 'ahead' | 'behind' | 'diverged';

export interface PromoteTarget {
  cwd: string;
  remote: string;
  /** Source branch: its head on the remote (the tested commit) is what moves. */
  from: string;
  /** Target branch. */
  to: string;
  signal?: AbortSignal;
  onEvent?: GitEventListener;
}

export interface PromotePreview {
  remote: string;
  from: string;
  to: string;
  /** `<remote>/<from>` after the fetch: the commit that will land on `to`. */
  fromSha: string;
  /** `<remote>/<to>` after the fetch. */
  toSha: string;
  /** Commits on `from` not yet on `to`, newest first. */
  commits: CommitInfo[];
  /** `to` can simply move to `fromSha` (there is something to move and no divergence). */
  fastForward: boolean;
  /** `to` has commits `from` lacks: only a merge commit can promote. */
  diverged: boolean;
  /** Nothing to promote. */
  upToDate: boolean;
  localFrom: { sha: string | undefined; relation: BranchRelation };
  localTo: { sha: string | undefined; relation: BranchRelation };
  currentBranch: string | undefined;
  /** Uncommitted changes (`git status --porcelain`): promoteMerge refuses while there are any. */
  dirtyFiles: string[];
}

export interface PromoteOptions extends PromoteTarget {
  mode: 'ff-only' | 'merge';
  /** SHAs the user confirmed in the preview: if the remote moved since, refuse. */
  expected?: { fromSha?: string; toSha?: string };
  /** Default: merge-tree when git ≥ 2.38, else a temporary worktree. */
  strategy?: MergeStrategy;
}

export interface PromoteResult {
  fromSha: string;
  /** `<remote>/<to>` before the promotion. */
  previousToSha: string;
  /** `<remote>/<to>` after the promotion (equals previousToSha when there was nothing to move). */
  toSha: string;
  commits: CommitInfo[];
  fastForward: boolean;
  /** Set when a merge commit was created and pushed. */
  mergeCommit: string | undefined;
  upToDate: boolean;
  pushed: boolean;
  /** What happened to the local `to` branch. */
  local: LocalFollow;
}

/** Fetch `from` and `to`, then describe what a promotion would move. Changes only remote-tracking refs. */
export async function promotePreview(target: PromoteTarget): Promise<PromotePreview> {
  validate(target);
  const repo = await openRepo(target.cwd);
  const { missing } = await repo.fetch(target.remote, [target.from, target.to], {
    signal: target.signal,
    onEvent: target.onEvent,
  });
  if (missing.length > 0) {
    const branch = missing[0] ?? target.from;
    throw new PreflightError('git.no-remote-branch', `${target.remote} has no branch "${branch}"`, {
      hint: `git push -u ${target.remote} ${branch}`,
    });
  }
  return describe(repo, target);
}

async function describe(repo: GitRepo, target: PromoteTarget): Promise<PromotePreview> {
  const { remote, from, to } = target;
  const fromSha = await repo.headSha(`refs/remotes/${remote}/${from}`);
  const toSha = await repo.headSha(`refs/remotes/${remote}/${to}`);
  const commits = await repo.commitsBetween(toSha, fromSha);
  const toContained = await repo.isAncestor(toSha, fromSha);
  const upToDate = commits.length === 0;
  return {
    remote,
    from,
    to,
    fromSha,
    toSha,
    commits,
    fastForward: !upToDate && toContained,
    diverged: !upToDate && !toContained,
    upToDate,
    localFrom: await relation(repo, from, fromSha),
    localTo: await relation(repo, to, toSha),
    currentBranch: await repo.currentBranch(),
    dirtyFiles: await repo.dirtyFiles(),
  };
}

async function relation(
  repo: GitRepo,
  branch: string,
  remoteSha: string,
): Promise<{ sha: string | undefined; relation: BranchRelation }> {
  const sha = await repo.resolve(`refs/heads/${branch}`);
  if (!sha) return { sha, relation: 'absent' };
  if (sha === remoteSha) return { sha, relation: 'equal' };
  const { ahead, behind } = await repo.aheadBehind(sha, remoteSha);
  const rel: BranchRelation = ahead > 0 && behind > 0 ? 'diverged' : ahead > 0 ? 'ahead' : 'behind';
  return { sha, relation: rel };
}

/** A promotion decided and ready to push: the exact commit `to` will point at. */
export interface PreparedPromotion {
  preview: PromotePreview;
  /** What `<remote>/<to>` will point at: `fromSha`, or the merge commit. */
  sha: string;
  /** Set when a merge commit was created (an object only: no ref, index or working tree touched). */
  mergeCommit: string | undefined;
}

/**
 * Decide a promotion without changing anything the user can see: fetch (unless a preview is given),
 * check the remote did not move since the preview and the local `to` is not out of date, and for
 * diverged branches in merge mode create the merge commit outside the checkout. The result's SHA is
 * the commit the whole run is bound to.
 */
export async function preparePromotion(options: PromoteOptions, preview?: PromotePreview): Promise<PreparedPromotion> {
  validate(options);
  const { remote, from, to, signal, onEvent } = options;
  throwIfAborted(signal);
  const repo = await openRepo(options.cwd);
  await assertCleanTree(repo);
  throwIfAborted(signal);
  const current = preview ?? (await promotePreview(options));
  throwIfAborted(signal);
  assertExpected(options, current);
  assertLocalToNotOutOfDate(current);
  if (current.upToDate) return { preview: current, sha: current.toSha, mergeCommit: undefined };
  if (current.diverged && options.mode === 'ff-only') {
    throw new GitStepError(
      'git.diverged',
      `${remote}/${to} has commits that ${remote}/${from} lacks: cannot fast-forward ${to} to ${from}`,
      { hint: `iac promote ${from} ${to} --merge` },
    );
  }
  if (!current.diverged) return { preview: current, sha: current.fromSha, mergeCommit: undefined };
  const mergeCommit = await createMergeCommit({
    cwd: repo.cwd,
    base: current.toSha,
    incoming: current.fromSha,
    message: `Merge branch '${from}' into ${to}`,
    strategy: options.strategy ?? (await pickMergeStrategy(repo.cwd)),
    fromName: from,
    toName: to,
    conflictHint: `git switch ${to} && git pull --ff-only ${remote} ${to} && git merge ${remote}/${from}`,
    signal,
    onEvent,
  });
  return { preview: current, sha: mergeCommit, mergeCommit };
}

/**
 * Push a prepared promotion: `<sha>:refs/heads/<to>`, a plain push (never forced; a remote that moved
 * since rejects it and nothing changes), then let local `to` follow. Until the push nothing the user
 * can see changes except remote-tracking refs.
 */
export async function pushPromotion(options: PromoteOptions, prepared: PreparedPromotion): Promise<PromoteResult> {
  validate(options);
  const { preview, sha, mergeCommit } = prepared;
  const repo = await openRepo(options.cwd);
  const unchanged: PromoteResult = {
    fromSha: preview.fromSha,
    previousToSha: preview.toSha,
    toSha: preview.toSha,
    commits: preview.commits,
    fastForward: false,
    mergeCommit: undefined,
    upToDate: true,
    pushed: false,
    local: { kind: 'unchanged' },
  };
  if (preview.upToDate) return unchanged;
  throwIfAborted(options.signal);
  await assertCleanTree(repo);
  await pushTo(repo, options, sha);
  const local = await followLocalBranch(repo, options.to, preview.localTo.sha, sha, options.onEvent);
  return { ...unchanged, toSha: sha, fastForward: preview.fastForward, mergeCommit, upToDate: false, pushed: true, local };
}

/**
 * Move `<remote>/<from>` onto `<remote>/<to>`: fast-forward, or (mode 'merge', diverged) a merge commit
 * built outside the user's checkout; push `to` with a plain push (never forced); then let local `to`
 * follow. Any failure or interrupt before the push leaves branch, HEAD, index, working tree, stash and
 * local refs as they were.
 */
export async function promoteMerge(options: PromoteOptions): Promise<PromoteResult> {
  return pushPromotion(options, await preparePromotion(options));
}

function validate(target: PromoteTarget): void {
  assertRemoteName(target.remote);
  assertBranchName(target.from);
  assertBranchName(target.to);
  if (target.from === target.to) {
    throw new UsageError('git.same-branch', `cannot promote ${target.from} into itself`, {
      hint: 'iac promote <from> <to>   # two different branches or environments',
    });
  }
}

async function pushTo(repo: GitRepo, options: PromoteOptions, sha: string): Promise<void> {
  const { remote, to, signal, onEvent } = options;
  const url = await repo.remoteUrl(remote);
  const refspec = `${sha}:refs/heads/${to}`;
  onEvent?.({ type: 'pushing', remote, refspec, sha });
  try {
    await runGit(repo.cwd, ['push', '--porcelain', '--', remote, refspec], { signal });
  } catch (error) {
    const rejected =
      error instanceof GitCommandError ? parsePushPorcelain(error.stdout).find((r) => r.flag === '!') : undefined;
    if (rejected && isNonFastForward(rejected)) {
      throw new PreflightError('git.remote-moved', `${remote}/${to} moved during the promotion: nothing was pushed`, {
        hint: `iac promote ${options.from} ${to}`,
      });
    }
    throw pushError(error, remote, url, to, sha);
  }
  onEvent?.({ type: 'pushed', remote, refspec, sha, alreadyUpToDate: false });
}

