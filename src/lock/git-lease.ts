import { GitCommandError, runGit } from '../git/run.js';
import type { LeaseHolder, LeaseStore, StoredLease } from './lease.js';

/** Git's empty tree: a lease commit carries no files, only the holder in its message. */
const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
const IDENTITY = { GIT_AUTHOR_NAME: 'iac', GIT_AUTHOR_EMAIL: 'iac@localhost', GIT_COMMITTER_NAME: 'iac', GIT_COMMITTER_EMAIL: 'iac@localhost' };

/**
 * An environment's lease as a ref on the git remote (`refs/iac/locks/<env>`), for environments
 * without a cluster: the ref points at a commit whose message is the holder. `--force-with-lease`
 * with the expected SHA (or "absent") makes every write a compare-and-swap on the remote.
 */
export class GitLeaseStore implements LeaseStore {
  readonly where: string;
  private readonly ref: string;
  private readonly local: string;

  constructor(
    private readonly cwd: string,
    private readonly remote: string,
    environment: string,
  ) {
    this.ref = `refs/iac/locks/${environment}`;
    this.local = `refs/iac/remote-locks/${remote}/${environment}`;
    this.where = `${remote} ${this.ref}`;
  }

  async read(signal?: AbortSignal): Promise<StoredLease | undefined> {
    const out = await runGit(this.cwd, ['fetch', '--quiet', '--no-tags', '--no-write-fetch-head', '--', this.remote, `+${this.ref}:${this.local}`], { ...(signal ? { signal } : {}), okExitCodes: [128] });
    if (out.exitCode !== 0) {
      if (/couldn't find remote ref/i.test(out.stderr)) return undefined;
      throw new GitCommandError(['fetch'], out.exitCode, out.stdout, out.stderr);
    }
    const version = (await runGit(this.cwd, ['rev-parse', '--verify', '--quiet', this.local])).stdout.trim();
    const message = (await runGit(this.cwd, ['log', '-1', '--format=%B', version])).stdout.trim();
    try {
      return { holder: JSON.parse(message) as LeaseHolder, version };
    } catch {
      return { holder: undefined, version };
    }
  }

  private async commit(holder: LeaseHolder): Promise<string> {
    const out = await runGit(this.cwd, ['commit-tree', EMPTY_TREE, '-m', JSON.stringify(holder)], { env: IDENTITY });
    return out.stdout.trim();
  }

  /** Pushes `sha` (or deletes with `undefined`) only if the remote ref is still `expected` ('' = absent). */
  private async swap(expected: string, sha: string | undefined, signal?: AbortSignal): Promise<boolean> {
    const args = ['push', '--porcelain', '--no-verify', `--force-with-lease=${this.ref}:${expected}`, '--', this.remote, `${sha ?? ''}:${this.ref}`];
    const out = await runGit(this.cwd, args, { ...(signal ? { signal } : {}), okExitCodes: [1] });
    if (out.exitCode === 0) return true;
    if (/stale info|fetch first|already exists|rejected/i.test(out.stdout + out.stderr)) return false;
    throw new GitCommandError(args, out.exitCode, out.stdout, out.stderr);
  }

  async create(holder: LeaseHolder, signal?: AbortSignal): Promise<StoredLease | false> {
    const sha = await this.commit(holder);
    return (await this.swap('', sha, signal)) ? { holder, version: sha } : false;
  }

  async replace(version: string, holder: LeaseHolder, signal?: AbortSignal): Promise<StoredLease | false> {
    const sha = await this.commit(holder);
    return (await this.swap(version, sha, signal)) ? { holder, version: sha } : false;
  }

  async remove(version: string, signal?: AbortSignal): Promise<boolean> {
    return this.swap(version, undefined, signal);
  }
}
