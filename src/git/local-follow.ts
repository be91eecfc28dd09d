import { resolve as resolvePath } from 'node:path';
import type { GitEventListener } from './events.js';
import type { GitRepo } from './repo.js';
import { GitCommandError, gitText, runGit } from './run.js';
import { gitReason } from './classify.js';

/** What happened to the local copy of the promoted branch after the push. */
export type LocalFollow =
  | { kind: 'unchanged' }
  | { kind: 'absent' }
  | { kind: 'updated-ref'; sha: string }
  | { kind: 'fast-forwarded'; sha: string }
  | { kind: 'skipped'; reason: string; hint: string };

/**
 * Make local `branch` point at the pushed commit. Never throws: the push already succeeded, so a
 * failure here is reported (with the command that finishes the job) rather than turned into an error.
 * - not checked out anywhere: `update-ref` with the old value as a guard (no working tree involved);
 * - checked out in this worktree (clean, checked before): `merge --ff-only`, which updates the files;
 * - checked out in another worktree: left alone, since moving its ref would desync that checkout.
 */
export async function followLocalBranch(
  repo: GitRepo,
  branch: string,
  oldSha: string | undefined,
  newSha: string,
  onEvent?: GitEventListener,
): Promise<LocalFollow> {
  if (!oldSha) return { kind: 'absent' };
  const remoteHint = `git fetch && git branch -f ${branch} ${newSha.slice(0, 12)}`;
  try {
    const checkedOutIn = await worktreeOf(repo, branch);
    if (checkedOutIn === undefined) {
      const reason = `iac promote: ${branch} follows the pushed commit`;
      await runGit(repo.cwd, ['update-ref', '-m', reason, `refs/heads/${branch}`, newSha, oldSha]);
      onEvent?.({ type: 'local-updated', branch, sha: newSha, how: 'ref' });
      return { kind: 'updated-ref', sha: newSha };
    }
    if (resolvePath(checkedOutIn) !== resolvePath(repo.cwd)) {
      const reason = `${branch} is checked out in another worktree (${checkedOutIn})`;
      onEvent?.({ type: 'local-skipped', branch, reason });
      return { kind: 'skipped', reason, hint: `git -C ${checkedOutIn} merge --ff-only ${newSha.slice(0, 12)}` };
    }
    if (!(await repo.isClean())) {
      const reason = `the working tree changed during the promotion`;
      onEvent?.({ type: 'local-skipped', branch, reason });
      return { kind: 'skipped', reason, hint: `git merge --ff-only ${newSha.slice(0, 12)}` };
    }
    await runGit(repo.cwd, ['merge', '--ff-only', '--quiet', newSha]);
    onEvent?.({ type: 'local-updated', branch, sha: newSha, how: 'fast-forward' });
    return { kind: 'fast-forwarded', sha: newSha };
  } catch (error) {
    const reason = error instanceof GitCommandError ? gitReason(error.stderr) : String(error);
    onEvent?.({ type: 'local-skipped', branch, reason });
    return { kind: 'skipped', reason, hint: remoteHint };
  }
}

/** The worktree path where `branch` is checked out, if any (`git worktree list --porcelain`). */
async function worktreeOf(repo: GitRepo, branch: string): Promise<string | undefined> {
  const out = await gitText(repo.cwd, ['worktree', 'list', '--porcelain']);
  let path: string | undefined;
  for (const line of out.split('\n')) {
    if (line.startsWith('worktree ')) path = line.slice('worktree '.length);
    else if (line === `branch refs/heads/${branch}`) return path;
  }
  return undefined;
}
