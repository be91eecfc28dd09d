import { existsSync } from 'node:fs';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { PreflightError } from '../errors.js';
import type { PromoteOptions, PromotePreview } from './promote.js';
import type { GitRepo } from './repo.js';
import { gitText } from './run.js';

/** Checks that run before a promotion touches anything; each refuses with exit 3. */

/** Untracked files count too: a fast-forward of the checked-out branch could collide with them. */
export async function assertCleanTree(repo: GitRepo): Promise<void> {
  const dirty = await repo.dirtyFiles();
  if (dirty.length > 0) {
    throw new PreflightError(
      'git.dirty',
      `the working tree has ${dirty.length} uncommitted change${dirty.length === 1 ? '' : 's'}: nothing was changed`,
      { hint: 'git stash --include-untracked   # or commit them, then re-run', details: dirty.slice(0, 20) },
    );
  }
  const inProgress = await operationInProgress(repo);
  if (inProgress) {
    throw new PreflightError('git.in-progress', `a ${inProgress} is in progress in ${repo.cwd}`, {
      hint: `git ${inProgress} --continue   # or --abort`,
    });
  }
}

async function operationInProgress(repo: GitRepo): Promise<string | undefined> {
  const markers: [string, string][] = [
    ['MERGE_HEAD', 'merge'],
    ['rebase-merge', 'rebase'],
    ['rebase-apply', 'rebase'],
    ['CHERRY_PICK_HEAD', 'cherry-pick'],
    ['REVERT_HEAD', 'revert'],
  ];
  for (const [marker, operation] of markers) {
    const path = await gitText(repo.cwd, ['rev-parse', '--git-path', marker]);
    if (existsSync(isAbsolute(path) ? path : resolvePath(repo.cwd, path))) return operation;
  }
  return undefined;
}

export function assertExpected(options: PromoteOptions, preview: PromotePreview): void {
  const { remote, from, to, expected } = options;
  const checks: [string, string | undefined, string][] = [
    [from, expected?.fromSha, preview.fromSha],
    [to, expected?.toSha, preview.toSha],
  ];
  for (const [branch, want, got] of checks) {
    if (want !== undefined && want !== got) {
      throw new PreflightError(
        'git.remote-moved',
        `${remote}/${branch} moved since the preview (${want.slice(0, 7)} → ${got.slice(0, 7)}): nothing was changed`,
        { hint: `iac promote ${from} ${to}   # review the new preview` },
      );
    }
  }
}

/** The local `to` must match the remote one: otherwise either the remote moved or local work would be orphaned. */
export function assertLocalToNotOutOfDate(preview: PromotePreview): void {
  const { remote, to, localTo, currentBranch } = preview;
  if (localTo.relation === 'absent' || localTo.relation === 'equal') return;
  if (localTo.relation === 'behind') {
    throw new PreflightError(
      'git.remote-moved',
      `${remote}/${to} has commits your local ${to} lacks (the remote moved): nothing was changed`,
      {
        hint:
          currentBranch === to ? `git pull --ff-only ${remote} ${to}` : `git fetch ${remote} ${to}:${to}`,
      },
    );
  }
  throw new PreflightError(
    'git.local-ahead',
    `your local ${to} has commits that are not on ${remote}/${to}: nothing was changed`,
    { hint: `git log ${remote}/${to}..${to}   # push or move them first` },
  );
}
