/**
 * Which files a run's playbook comes from: for each path in the configuration, the same path in the run's
 * commit when it lies inside the repository, else the path itself. A playbook missing from the commit is
 * a configuration error (iac deploys commits); an inventory missing from the commit but present on disk
 * (generated, git-ignored) is used from the working tree, since the commit has nothing to offer instead.
 */
import { existsSync } from 'node:fs';
import { dirname, join, posix, relative } from 'node:path';
import { UsageError } from '../errors.js';
import { commitEntries, repoLocation, repoPath, type RepoLocation, type TreeEntry } from './commit-tree.js';

export interface SourcePath {
  /** The path as configured (absolute). */
  config: string;
  /** Its path inside the repository, when it is in the run's commit. */
  repo?: string;
}

export interface CommitSources {
  sha: string;
  top: string;
  prefix: string;
  playbook: SourcePath;
  inventories: SourcePath[];
  /** Inventories inside the repository but not committed: read from the working tree (and said so). */
  uncommittedInventories: string[];
  /** The repository paths the check reads: the playbook, its directory, the inventories, ansible.cfg and roles/. */
  keyPaths: string[];
  /** Their ls-tree entries in the commit (for the cache key). */
  entries: Array<[string, TreeEntry]>;
}

export interface SourceOptions {
  projectDir: string;
  /** Where the repository is, when the caller looked already. */
  location?: RepoLocation;
  sha: string;
  playbook: string;
  /** Paths (absolute) or inline host lists (`a,b,`). */
  inventories: string[];
  signal?: AbortSignal;
}

const isInline = (inventory: string): boolean => inventory.includes(',');

export async function commitSources(opts: SourceOptions): Promise<CommitSources> {
  const { top, prefix } = opts.location ?? (await repoLocation(opts.projectDir, opts.signal));
  const inRepo = (path: string): string | undefined => repoPath(path, opts.projectDir, prefix);
  const playbookRepo = inRepo(opts.playbook);
  const inventoryRepo = opts.inventories.map((i) => (isInline(i) ? undefined : inRepo(i)));
  const keyPaths = [
    ...(playbookRepo !== undefined ? [playbookRepo, posix.dirname(playbookRepo), posix.join(posix.dirname(playbookRepo), '..', 'roles')] : []),
    ...inventoryRepo.filter((p): p is string => p !== undefined),
    posix.join(prefix, 'ansible.cfg'),
    posix.join(prefix, 'roles'),
  ].map((p) => posix.normalize(p)).filter((p) => p !== '.' && !p.startsWith('..'));
  const entries = await commitEntries(top, opts.sha, keyPaths, opts.signal);
  const short = opts.sha.slice(0, 7);

  let playbook: SourcePath = { config: opts.playbook };
  if (playbookRepo !== undefined) {
    if (entries.get(playbookRepo)?.type !== 'blob') {
      const shown = relative(opts.projectDir, opts.playbook) || opts.playbook;
      throw new UsageError('ansible.playbook-not-committed', `playbook ${shown} is not in commit ${short}: iac runs the playbook of the commit it deploys`, {
        hint: existsSync(opts.playbook) ? `git add ${shown} && git commit` : `check ansible.playbook in iac.yaml (relative to ${opts.projectDir})`,
      });
    }
    playbook = { config: opts.playbook, repo: playbookRepo };
  }

  const uncommittedInventories: string[] = [];
  const inventories = opts.inventories.map((config, i): SourcePath => {
    const repo = inventoryRepo[i];
    if (repo === undefined) return { config };
    if (entries.has(repo)) return { config, repo };
    const shown = relative(opts.projectDir, config) || config;
    if (!existsSync(config)) {
      throw new UsageError('ansible.inventory-missing', `inventory not found: ${shown} (neither in commit ${short} nor on disk)`, {
        hint: `check ansible.inventory in iac.yaml (relative to ${opts.projectDir})`,
      });
    }
    uncommittedInventories.push(shown);
    return { config };
  });
  return {
    sha: opts.sha,
    top,
    prefix,
    playbook,
    inventories,
    uncommittedInventories,
    keyPaths,
    entries: [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  };
}

/** The paths to run with once the commit is written out at `treeTop`; cwd is iac.yaml's directory there. */
export function placeIn(sources: CommitSources, treeTop: string): { cwd: string; playbook: string; inventories: string[] } {
  const at = (source: SourcePath): string => (source.repo !== undefined ? join(treeTop, source.repo) : source.config);
  return { cwd: join(treeTop, sources.prefix).replace(/(.)\/+$/, '$1'), playbook: at(sources.playbook), inventories: sources.inventories.map(at) };
}

/** Paths outside the repository (used as they are): they belong in the cache key by content. */
export function outsidePaths(sources: CommitSources): string[] {
  return [sources.playbook, ...sources.inventories]
    .filter((s) => s.repo === undefined && !isInline(s.config))
    .map((s) => s.config)
    .concat(sources.playbook.repo === undefined ? [dirname(sources.playbook.config)] : []);
}
