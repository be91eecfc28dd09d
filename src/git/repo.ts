import { PreflightError, UsageError } from '../errors.js';
import { networkError } from './classify.js';
import type { GitEventListener } from './events.js';
import { assertBranchName, assertRemoteName } from './names.js';
import { GitCommandError, gitText, runGit } from './run.js';

export interface CommitInfo {
  sha: string;
  shortSha: string;
  subject: string;
  author: string;
  /** Author date, ISO 8601. */
  date: string;
}

export interface AheadBehind {
  ahead: number;
  behind: number;
}

/** Read-mostly view of one repository; the only mutation here is `fetch`. */
export interface GitRepo {
  readonly cwd: string;
  toplevel(): Promise<string>;
  /** Checked-out branch, or undefined on a detached HEAD. */
  currentBranch(): Promise<string | undefined>;
  /** The branch checked out when the repository was opened (asked in the same git call). */
  readonly startBranch: string | undefined;
  /** The commit `startBranch` pointed at then (same call): the run's commit when it deploys that branch. */
  readonly startHead: string | undefined;
  /** Full SHA of a ref (default HEAD). */
  headSha(ref?: string): Promise<string>;
  /** Full SHA, or undefined when the ref does not exist. */
  resolve(ref: string): Promise<string | undefined>;
  isClean(): Promise<boolean>;
  /** `git status --porcelain` entries, untracked files included (`?? path`). */
  dirtyFiles(): Promise<string[]>;
  remoteUrl(remote: string): Promise<string>;
  branches(): Promise<string[]>;
  remoteBranches(remote: string): Promise<string[]>;
  /** The `<remote>/<branch>` the branch tracks, if any. */
  upstream(branch: string): Promise<string | undefined>;
  /** Fetch the given branches (all when omitted) into `refs/remotes/<remote>/`; reports those the remote lacks. */
  fetch(remote: string, branches?: string[], options?: FetchOptions): Promise<FetchResult>;
  aheadBehind(local: string, remoteRef: string): Promise<AheadBehind>;
  isAncestor(ancestor: string, descendant: string): Promise<boolean>;
  /** Like isAncestor, but false (not an error) when `ancestor` is not a commit this repository has. */
  hasAncestor(ancestor: string, descendant: string): Promise<boolean>;
  /** Commits reachable from head but not from base, newest first. */
  commitsBetween(base: string, head: string): Promise<CommitInfo[]>;
}

export interface FetchOptions {
  signal?: AbortSignal;
  onEvent?: GitEventListener;
}

export interface FetchResult {
  /** Requested branches that do not exist on the remote. */
  missing: string[];
}

/** Branch → SHA for those of `branches` that exist on the remote (one `ls-remote` round trip). */
export function remoteHeads(cwd: string, remote: string, branches: string[], signal?: AbortSignal): Promise<Map<string, string>> {
  // Two checks asking the same remote at the same moment (the preflight and the branch guard) share
  // one ls-remote: its answer is as fresh for both. A finished answer is never reused.
  const key = JSON.stringify([cwd, remote, branches]);
  const pending = inFlightHeads.get(key);
  if (pending) return pending;
  const asked = readRemoteHeads(cwd, remote, branches, signal).finally(() => inFlightHeads.delete(key));
  inFlightHeads.set(key, asked);
  return asked;
}

const inFlightHeads = new Map<string, Promise<Map<string, string>>>();

async function readRemoteHeads(cwd: string, remote: string, branches: string[], signal?: AbortSignal): Promise<Map<string, string>> {
  const refs = branches.map((b) => `refs/heads/${b}`);
  const out = await runGit(cwd, ['ls-remote', '--heads', '--', remote, ...refs], { signal });
  const heads = new Map<string, string>();
  for (const line of out.stdout.split('\n')) {
    const [sha, ref] = line.split('\t');
    if (sha && ref?.startsWith('refs/heads/')) heads.set(ref.slice('refs/heads/'.length), sha);
  }
  return heads;
}

const FIELD = '\x1f';
const RECORD = '\x1e';

export function parseCommitLog(output: string): CommitInfo[] {
  return output
    .split(RECORD)
    .map((record) => record.replace(/^\n/, ''))
    .filter((record) => record.trim() !== '')
    .map((record) => {
      const [sha = '', shortSha = '', subject = '', author = '', date = ''] = record.split(FIELD);
      return { sha, shortSha, subject, author, date: date.trim() };
    });
}

/** Repositories opened by this process (one command): what HEAD was at opening is the command's start, so one per directory. */
const opened = new Map<string, Promise<GitRepo>>();

/** The repository containing `cwd` (asked of git once per directory and process). */
export function openRepo(cwd: string): Promise<GitRepo> {
  let repo = opened.get(cwd);
  if (repo === undefined) {
    repo = openRepoUncached(cwd);
    opened.set(cwd, repo);
    repo.catch(() => opened.delete(cwd));
  }
  return repo;
}

async function openRepoUncached(cwd: string): Promise<GitRepo> {
  let top: string;
  let startBranch: string | undefined;
  let startHead: string | undefined;
  try {
    // One call for all three: the top level, HEAD's commit and what HEAD names (`refs/heads/x`, or `HEAD`
    // when detached). Without a commit yet, rev-parse fails on the second after printing the first.
    const out = await runGit(cwd, ['rev-parse', '--show-toplevel', 'HEAD', '--symbolic-full-name', 'HEAD'], { okExitCodes: [128] });
    const [first = '', commit = '', head = ''] = out.stdout.split('\n');
    if (first === '') throw new GitCommandError(['rev-parse'], 128, '', 'not a git repository');
    top = first;
    if (out.exitCode === 0 && /^[0-9a-f]{40,64}$/.test(commit)) {
      startBranch = head.startsWith('refs/heads/') ? head.slice('refs/heads/'.length) : undefined;
      if (startBranch !== undefined) startHead = commit;
    }
    if (startBranch === undefined) {
      // Detached, or a branch without commits yet (rev-parse cannot name it): ask what HEAD points at.
      const symbolic = await runGit(top, ['symbolic-ref', '--quiet', '--short', 'HEAD'], { okExitCodes: [1] });
      startBranch = symbolic.exitCode === 0 ? symbolic.stdout.trim() : undefined;
    }
  } catch (error) {
    if (error instanceof GitCommandError) {
      throw new UsageError('git.not-a-repo', `${cwd} is not inside a git repository`, { hint: 'git init' });
    }
    throw error;
  }
  const git = (args: string[]): Promise<string> => gitText(top, args);

  const resolve = async (ref: string): Promise<string | undefined> => {
    const out = await runGit(top, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`], {
      okExitCodes: [1],
    });
    return out.exitCode === 0 ? out.stdout.trim() : undefined;
  };

  const remoteUrl = async (remote: string): Promise<string> => {
    assertRemoteName(remote);
    const out = await runGit(top, ['remote', 'get-url', '--', remote], { okExitCodes: [2, 128] });
    if (out.exitCode !== 0) {
      throw new PreflightError('git.no-remote', `no git remote named "${remote}"`, {
        hint: `git remote add ${remote} <url>`,
      });
    }
    return out.stdout.trim();
  };

  const dirtyFiles = async (): Promise<string[]> =>
    (await runGit(top, ['status', '--porcelain=v1', '--untracked-files=all'])).stdout
      .split('\n')
      .filter((line) => line.trim() !== '');

  const repo: GitRepo = {
    cwd: top,
    startBranch,
    startHead,
    toplevel: async () => top,
    async currentBranch() {
      const out = await runGit(top, ['symbolic-ref', '--quiet', '--short', 'HEAD'], { okExitCodes: [1] });
      return out.exitCode === 0 ? out.stdout.trim() : undefined;
    },
    async headSha(ref = 'HEAD') {
      const sha = await resolve(ref);
      if (!sha) throw new PreflightError('git.no-ref', `git ref "${ref}" does not exist`, { hint: 'git branch -a' });
      return sha;
    },
    resolve,
    dirtyFiles,
    isClean: async () => (await dirtyFiles()).length === 0,
    remoteUrl,
    async branches() {
      const out = await git(['for-each-ref', '--format=%(refname:short)', 'refs/heads/']);
      return out === '' ? [] : out.split('\n');
    },
    async remoteBranches(remote) {
      assertRemoteName(remote);
      const prefix = `refs/remotes/${remote}/`;
      const out = await git(['for-each-ref', '--format=%(refname)', prefix]);
      return out
        .split('\n')
        .filter((ref) => ref !== '' && ref !== `${prefix}HEAD`)
        .map((ref) => ref.slice(prefix.length));
    },
    async upstream(branch) {
      assertBranchName(branch);
      const out = await runGit(
        top,
        // (no --end-of-options: rev-parse echoes it outside --verify mode; the name is validated above)
        ['rev-parse', '--abbrev-ref', '--symbolic-full-name', `${branch}@{upstream}`],
        { okExitCodes: [128] },
      );
      return out.exitCode === 0 ? out.stdout.trim() : undefined;
    },
    async fetch(remote, branches, options = {}) {
      assertRemoteName(remote);
      branches?.forEach(assertBranchName);
      if (branches?.length === 0) return { missing: [] };
      options.onEvent?.({ type: 'fetching', remote, branches: branches ?? [] });
      // Explicit refspecs so the remote-tracking refs are updated whatever remote.<name>.fetch says.
      const refspecsOf = (names: string[]): string[] => names.map((b) => `+refs/heads/${b}:refs/remotes/${remote}/${b}`);
      let missing: string[] = [];
      try {
        // One round trip when every branch exists (the common case); only when one is absent remotely
        // (git fails the whole fetch) ask which exist, and fetch those.
        const first = await runGit(top, ['fetch', '--quiet', '--no-tags', '--', remote, ...refspecsOf(branches ?? [])], { signal: options.signal, okExitCodes: [128] });
        if (first.exitCode !== 0) {
          if (!branches || !/couldn't find remote ref/i.test(first.stderr)) throw new GitCommandError(['fetch'], first.exitCode, first.stdout, first.stderr);
          const present = await remoteHeads(top, remote, branches, options.signal);
          const wanted = branches.filter((b) => present.has(b));
          missing = branches.filter((b) => !present.has(b));
          if (wanted.length > 0) await runGit(top, ['fetch', '--quiet', '--no-tags', '--', remote, ...refspecsOf(wanted)], { signal: options.signal });
        }
      } catch (error) {
        // The URL (for the message) and whether the remote exists at all are asked only on failure.
        throw networkError(error, remote, await remoteUrl(remote), 'fetch from');
      }
      options.onEvent?.({ type: 'fetched', remote });
      return { missing };
    },
    async aheadBehind(local, remoteRef) {
      const out = await git(['rev-list', '--left-right', '--count', '--end-of-options', `${local}...${remoteRef}`]);
      const [ahead = '0', behind = '0'] = out.split(/\s+/);
      return { ahead: Number(ahead), behind: Number(behind) };
    },
    async isAncestor(ancestor, descendant) {
      const args = ['merge-base', '--is-ancestor', '--end-of-options', ancestor, descendant];
      const out = await runGit(top, args, { okExitCodes: [1] });
      return out.exitCode === 0;
    },
    async hasAncestor(ancestor, descendant) {
      // One git call instead of resolve + merge-base: exit 128 means the object is not here.
      const args = ['merge-base', '--is-ancestor', '--end-of-options', ancestor, descendant];
      const out = await runGit(top, args, { okExitCodes: [1, 128] });
      return out.exitCode === 0;
    },
    async commitsBetween(base, head) {
      const format = ['%H', '%h', '%s', '%an', '%aI'].join(FIELD) + RECORD;
      const out = await runGit(top, ['log', `--format=${format}`, '--end-of-options', `${base}..${head}`]);
      return parseCommitLog(out.stdout);
    },
  };
  return repo;
}
