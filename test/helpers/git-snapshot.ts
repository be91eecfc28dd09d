import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, lstatSync, readlinkSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * Everything a user could lose in a repo, captured for "nothing changed" assertions:
 * compare two snapshots with `expect(after).toEqual(before)`.
 * Remote-tracking refs (refs/remotes/*) are left out on purpose: a fetch updating them is the
 * expected, harmless side effect of every preview.
 */
export interface RepoSnapshot {
  branch: string;
  head: string;
  /** `git ls-files -s`: the index, stage by stage. */
  index: string;
  /** `git status --porcelain`, untracked included. */
  status: string;
  /** sha256 over every path + content of the working tree (outside .git). */
  worktreeHash: string;
  stash: string;
  /** refs/heads, refs/tags, refs/stash… with their SHAs. */
  localRefs: string;
  /** Every ref on the bare remote. */
  remoteRefs: string;
  /** `git worktree list --porcelain`: no scratch worktree may be left behind. */
  worktrees: string;
  /** In-progress operation markers (MERGE_HEAD, rebase dirs…) that exist. */
  operations: string[];
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function hashTree(root: string): string {
  const hash = createHash('sha256');
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      if (dir === root && name === '.git') continue;
      const path = join(dir, name);
      const rel = relative(root, path);
      // iac's own state directory and caches (parsed config, syntax checks) are not the user's work;
      // a run directory left in .iac/runs still counts.
      if (rel === join('.iac', 'cache') || rel === join('.iac', '.gitignore')) continue;
      const stat = lstatSync(path);
      if (rel !== '.iac' && rel !== join('.iac', 'runs')) hash.update(`${rel}\0${stat.mode}\0`);
      if (stat.isDirectory()) walk(path);
      else if (stat.isSymbolicLink()) hash.update(readlinkSync(path));
      else hash.update(readFileSync(path));
    }
  };
  walk(root);
  return hash.digest('hex');
}

export function snapshotRepo(work: string, remote: string): RepoSnapshot {
  const gitDir = git(work, 'rev-parse', '--absolute-git-dir');
  const markers = ['MERGE_HEAD', 'CHERRY_PICK_HEAD', 'REVERT_HEAD', 'rebase-merge', 'rebase-apply'];
  return {
    branch: git(work, 'rev-parse', '--abbrev-ref', 'HEAD'),
    head: git(work, 'rev-parse', 'HEAD'),
    index: git(work, 'ls-files', '-s'),
    status: git(work, 'status', '--porcelain=v1', '--untracked-files=all'),
    worktreeHash: hashTree(work),
    stash: git(work, 'stash', 'list', '--format=%H %gs'),
    localRefs: git(work, 'for-each-ref', '--format=%(refname) %(objectname)')
      .split('\n')
      .filter((line) => !line.startsWith('refs/remotes/'))
      .join('\n'),
    remoteRefs: git(remote, 'for-each-ref', '--format=%(refname) %(objectname)'),
    worktrees: git(work, 'worktree', 'list', '--porcelain'),
    operations: markers.filter((marker) => existsSync(join(gitDir, marker))),
  };
}
