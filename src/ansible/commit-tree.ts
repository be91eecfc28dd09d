/**
 * What Ansible runs comes from the run's commit, not from the working tree: the commit's files are
 * written out (git read-tree into a private index, then checkout-index into a directory) and every
 * playbook, inventory, role and vars file is read from there. Neither uncommitted edits nor another
 * checked-out branch change what is deployed. iac.yaml may live in a subdirectory of the repository;
 * paths outside the repository are used as they are.
 */
import { existsSync } from 'node:fs';
import { mkdir, realpath, rm } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, relative, sep } from 'node:path';
import { InterruptedError, PreflightError } from '../errors.js';
import { runProcess, SpawnError } from '../util/run-process.js';

/** Where the project sits in its repository: the top directory and iac.yaml's directory below it. */
export interface RepoLocation {
  top: string;
  /** `infra/` when iac.yaml is in infra/, '' at the top. */
  prefix: string;
}

const GIT_TIMEOUT_MS = 60_000;

/** Local git commands only (no network): one shared runner, own process group, a deadline. */
async function git(args: string[], cwd: string, signal?: AbortSignal, env?: NodeJS.ProcessEnv): Promise<string> {
  const fail = (text: string): PreflightError =>
    new PreflightError('ansible.commit', `git ${args[0] ?? ''} failed: ${text}`, { hint: `git -C ${cwd} ${args.join(' ')}` });
  let result;
  try {
    result = await runProcess('git', args, { cwd, env: env ?? process.env, timeoutMs: GIT_TIMEOUT_MS, ...(signal ? { signal } : {}) });
  } catch (error) {
    throw error instanceof SpawnError ? fail('git is not installed') : error;
  }
  if (result.aborted) throw new InterruptedError(`git ${args[0] ?? ''} interrupted`);
  if (result.timedOut) throw fail(`no result within ${GIT_TIMEOUT_MS / 1000}s`);
  if (result.exitCode !== 0) throw fail(result.stderr.trim().split('\n')[0] || `exit ${String(result.exitCode)}`);
  return result.stdout;
}

/**
 * The repository around `projectDir`: found by looking for `.git` upwards (no process), as git does;
 * git itself is asked only when GIT_DIR / GIT_WORK_TREE redirect it.
 */
export async function repoLocation(projectDir: string, signal?: AbortSignal): Promise<RepoLocation> {
  if (process.env.GIT_DIR === undefined && process.env.GIT_WORK_TREE === undefined) {
    const start = await realpath(projectDir);
    for (let dir = start; ; dir = dirname(dir)) {
      if (existsSync(join(dir, '.git'))) {
        const inside = relative(dir, start);
        return { top: dir, prefix: inside === '' ? '' : `${inside.split(sep).join('/')}/` };
      }
      if (dirname(dir) === dir) break;
    }
  }
  const [top = '', prefix = ''] = (await git(['rev-parse', '--show-toplevel', '--show-prefix'], projectDir, signal)).split('\n');
  return { top, prefix };
}

/**
 * A path from the configuration (absolute, resolved against iac.yaml's directory) as a path inside the
 * repository ('deploy/site.yml'), or undefined when it lies outside the repository.
 */
export function repoPath(path: string, projectDir: string, prefix: string): string | undefined {
  const fromProject = relative(projectDir, path);
  const inRepo = normalize(join(prefix, fromProject));
  if (inRepo === '..' || inRepo.startsWith(`..${sep}`) || isAbsolute(inRepo)) return undefined;
  return inRepo === '.' ? '' : inRepo;
}

export interface TreeEntry {
  type: 'blob' | 'tree' | 'commit';
  hash: string;
}

/** `git ls-tree` outputs already read in this process (a commit's entries never change). */
const listedTrees = new Map<string, string>();
const listingKey = (top: string, sha: string, paths: string[]): string => JSON.stringify([top, sha, paths]);

/** Hands {@link commitEntries} an output of `git ls-tree --full-tree -z <sha> -- <paths>` read elsewhere. */
export function rememberListing(top: string, sha: string, paths: string[], stdout: string): void {
  listedTrees.set(listingKey(top, sha, paths), stdout);
}

/**
 * `git ls-tree <sha> -- <paths>`: object ids of the given repository paths in the commit (one git call).
 * Paths missing from the commit are absent from the map.
 */
export async function commitEntries(top: string, sha: string, paths: string[], signal?: AbortSignal): Promise<Map<string, TreeEntry>> {
  const entries = new Map<string, TreeEntry>();
  const wanted = [...new Set(paths.filter((p) => p !== ''))];
  if (wanted.length === 0) return entries;
  const out = listedTrees.get(listingKey(top, sha, wanted)) ?? (await git(['ls-tree', '--full-tree', '-z', sha, '--', ...wanted], top, signal));
  for (const record of out.split('\0')) {
    const match = /^\d+ (blob|tree|commit) ([0-9a-f]+)\t(.*)$/s.exec(record);
    if (match) entries.set(match[3] as string, { type: match[1] as TreeEntry['type'], hash: match[2] as string });
  }
  return entries;
}

/**
 * Whether the working tree holds exactly the commit's files under `paths`: no tracked file there differs
 * from the commit (`git diff --quiet <sha>`) and no file git does not track is there, ignored ones
 * included (`git ls-files --others`). Any doubt (an error, a deadline) is a no.
 */
export async function sameInWorkingTree(top: string, sha: string, paths: string[], signal?: AbortSignal): Promise<boolean> {
  if (paths.length === 0) return false;
  const options = { cwd: top, env: process.env, timeoutMs: GIT_TIMEOUT_MS, ...(signal ? { signal } : {}) };
  try {
    const [diff, others] = await Promise.all([
      runProcess('git', ['diff', '--quiet', '--no-ext-diff', '--no-textconv', sha, '--', ...paths], options),
      runProcess('git', ['ls-files', '--others', '-z', '--', ...paths], options),
    ]);
    return diff.exitCode === 0 && others.exitCode === 0 && others.stdout === '';
  } catch {
    return false;
  }
}

/** `git rev-parse <sha>^{tree}`: the id of the commit's whole tree. */
export async function treeId(top: string, sha: string, signal?: AbortSignal): Promise<string> {
  return (await git(['rev-parse', `${sha}^{tree}`], top, signal)).trim();
}

/**
 * Writes the commit's files to `into` (created; must not exist yet or be empty) without touching the
 * repository's index or working tree. Returns `into`, the commit's top directory.
 */
export async function materializeCommit(top: string, sha: string, into: string, signal?: AbortSignal): Promise<string> {
  await mkdir(into, { recursive: true, mode: 0o700 });
  const index = `${into}.index`;
  const env = { ...process.env, GIT_INDEX_FILE: index };
  try {
    await git(['read-tree', sha], top, signal, env);
    await git(['checkout-index', '--all', '--force', `--prefix=${into}${sep}`], top, signal, env);
  } finally {
    await rm(index, { force: true });
  }
  return into;
}
