import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitStepError } from '../errors.js';
import type { GitEventListener, MergeStrategy } from './events.js';
import { gitReason } from './classify.js';
import { GitCommandError, gitText, runGit } from './run.js';
import { scrubLines } from './sanitize.js';

export interface MergeCommitOptions {
  /** The repository's toplevel. */
  cwd: string;
  /** Commit the merge goes onto (first parent). */
  base: string;
  /** Commit merged in (second parent). */
  incoming: string;
  message: string;
  strategy: MergeStrategy;
  /** Names for messages: "merging develop into main". */
  fromName: string;
  toName: string;
  /** The command that lets the user resolve the conflict by hand. */
  conflictHint?: string;
  signal?: AbortSignal;
  onEvent?: GitEventListener;
}

/**
 * Build the merge commit of `incoming` into `base` WITHOUT touching the user's HEAD, index,
 * working tree or refs: the result is only an object in the repository, returned by SHA.
 * - `merge-tree` (git ≥ 2.38; the default from 2.40): `merge-tree --write-tree` + `commit-tree`, no checkout.
 * - `worktree`: a detached temporary worktree under the OS temp dir, removed afterwards.
 * A conflict throws GitStepError (exit 10) listing the conflicting files.
 */
export async function createMergeCommit(options: MergeCommitOptions): Promise<string> {
  options.onEvent?.({ type: 'merging', from: options.fromName, to: options.toName, strategy: options.strategy });
  const sha =
    options.strategy === 'merge-tree' ? await mergeWithMergeTree(options) : await mergeInTempWorktree(options);
  options.onEvent?.({ type: 'merged', sha });
  return sha;
}

async function gitVersion(cwd: string): Promise<[number, number]> {
  const version = await gitText(cwd, ['version']);
  const [major = 0, minor = 0] = (/(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
  return [major, minor];
}

const atLeast = ([major, minor]: [number, number], wantMajor: number, wantMinor: number): boolean =>
  major > wantMajor || (major === wantMajor && minor >= wantMinor);

/**
 * `merge-tree --write-tree` exists since git 2.38, but only 2.40's `--attr-source` lets it honour the
 * target branch's .gitattributes (merge drivers such as `union`) the way a merge in a checkout would.
 */
export async function pickMergeStrategy(cwd: string): Promise<MergeStrategy> {
  return atLeast(await gitVersion(cwd), 2, 40) ? 'merge-tree' : 'worktree';
}

async function mergeWithMergeTree(options: MergeCommitOptions): Promise<string> {
  const { cwd, base, incoming, signal } = options;
  const gitDir = await gitText(cwd, ['rev-parse', '--absolute-git-dir']);
  const attrSource = atLeast(await gitVersion(cwd), 2, 40) ? ['--attr-source', base] : [];
  // Run outside the user's working tree: external merge drivers write `.merge_file_*` temp files into
  // the current directory, and an interrupt would leave them there.
  const scratch = await mkdtemp(join(tmpdir(), 'iac-merge-'));
  try {
    const mergeTree = ['merge-tree', '--write-tree', '--name-only', '--no-messages', '-z', base, incoming];
    const out = await runGit(scratch, ['--git-dir', gitDir, ...attrSource, ...mergeTree], { signal, okExitCodes: [1] });
    // -z output: <tree> NUL <conflicted path> NUL ... NUL
    const [tree = '', ...paths] = out.stdout.split('\0');
    if (out.exitCode === 1) throw conflictError(options, paths.filter((p) => p !== ''));
    return await gitText(cwd, ['commit-tree', tree, '-p', base, '-p', incoming, '-m', options.message], { signal });
  } catch (error) {
    if (error instanceof GitCommandError) throw mergeFailed(options, error);
    throw error;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

function mergeFailed(options: MergeCommitOptions, error: GitCommandError): GitStepError {
  const noIdentity = /identity unknown|auto-detect email|empty ident/i.test(error.stderr);
  return new GitStepError(
    'git.merge-failed',
    `merging ${options.fromName} into ${options.toName} failed: ${gitReason(error.stderr)}`,
    {
      hint: noIdentity ? 'git config --global user.name "Your Name" && git config --global user.email you@example.com' : undefined,
      details: scrubLines(error.stderr).slice(-20),
    },
  );
}

async function mergeInTempWorktree(options: MergeCommitOptions): Promise<string> {
  const { cwd, base, incoming, signal } = options;
  const root = await mkdtemp(join(tmpdir(), 'iac-merge-'));
  const path = join(root, 'worktree');
  // The user's hooks (post-checkout, pre-merge-commit…) must not fire in iac's private scratch checkout.
  const noHooks = ['-c', `core.hooksPath=${join(root, 'no-hooks')}`];
  let added = false;
  try {
    await runGit(cwd, [...noHooks, 'worktree', 'add', '--quiet', '--detach', path, base], { signal });
    added = true;
    options.onEvent?.({ type: 'merge-worktree', path });
    const merge = await runGit(
      path,
      [...noHooks, 'merge', '--no-ff', '--no-edit', '--no-verify', '-m', options.message, incoming],
      { signal, okExitCodes: [1] },
    );
    if (merge.exitCode === 1) {
      const files = await gitText(path, ['diff', '--name-only', '--diff-filter=U', '-z']);
      const conflicted = files.split('\0').filter((p) => p !== '');
      if (conflicted.length === 0) {
        throw new GitStepError('git.merge-failed', `merging ${options.fromName} into ${options.toName} failed`, {
          details: scrubLines(merge.stdout + merge.stderr).slice(-20),
        });
      }
      throw conflictError(options, conflicted);
    }
    return await gitText(path, ['rev-parse', 'HEAD'], { signal });
  } catch (error) {
    if (error instanceof GitCommandError) throw mergeFailed(options, error);
    throw error;
  } finally {
    // Cleanup runs without the signal: an interrupt must still leave no worktree behind.
    await removeTempWorktree(cwd, root, path, added);
  }
}

/**
 * Remove the scratch worktree and its metadata under .git/worktrees/ — only ours: `git worktree prune`
 * would also drop the user's other worktrees whose folders happen to be missing (unmounted disks).
 */
async function removeTempWorktree(cwd: string, root: string, path: string, added: boolean): Promise<void> {
  const adminDir = await readFile(join(path, '.git'), 'utf8')
    .then((text) => /^gitdir:\s*(.+)$/m.exec(text)?.[1]?.trim())
    .catch(() => undefined);
  if (added) await runGit(cwd, ['worktree', 'remove', '--force', path], { okExitCodes: [128] });
  await rm(root, { recursive: true, force: true });
  if (adminDir) await rm(adminDir, { recursive: true, force: true });
}

function conflictError(options: MergeCommitOptions, files: string[]): GitStepError {
  const unique = [...new Set(files)];
  return new GitStepError(
    'git.merge-conflict',
    `merging ${options.fromName} into ${options.toName} conflicts in ${plural(unique.length, 'file')}: ${unique.join(', ')}`,
    {
      hint: options.conflictHint,
      details: unique,
    },
  );
}

const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;
