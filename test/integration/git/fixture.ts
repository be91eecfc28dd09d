import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTempRepos } from '../../helpers/git-repos.js';
import type { TempRepos } from '../../helpers/git-repos.js';
import { snapshotRepo } from '../../helpers/git-snapshot.js';
import type { RepoSnapshot } from '../../helpers/git-snapshot.js';

const IDENTITY = ['-c', 'user.name=Other Dev', '-c', 'user.email=other@example.test', '-c', 'commit.gpgsign=false'];

export interface PromoteRepos extends TempRepos {
  /** SHA of a ref on the bare remote. */
  remoteSha(branch: string): string;
  /** Commit on `branch` in the work repo and push it. */
  commitOn(branch: string, file: string, content: string, message: string): string;
  /** Another developer pushes a commit to `branch` (through a second clone). */
  pushFromElsewhere(branch: string, file: string, content: string): string;
  /** develop and main each get a commit since they split; `conflict` makes both touch config.txt. */
  diverge(conflict?: boolean): { developSha: string; mainSha: string };
  /** Work repo + bare remote, for "nothing changed" assertions. */
  snapshot(): RepoSnapshot;
  /** Promote develop → main on origin, from the work repo. */
  target(): { cwd: string; remote: string; from: string; to: string };
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error(`expected a rejection, got ${String(error)}`);
  return error;
}

/** Work repo + bare remote with `main` and `develop` at the same initial commit, checked out on main. */
export function createPromoteRepos(): PromoteRepos {
  const repos = createTempRepos({ branches: ['develop'] });
  repos.git('checkout', '-q', 'main');
  let clones = 0;
  const self: PromoteRepos = {
    ...repos,
    remoteSha: (branch) => repos.git('--git-dir', repos.remote, 'rev-parse', `refs/heads/${branch}`),
    commitOn(branch, file, content, message) {
      const before = repos.git('rev-parse', '--abbrev-ref', 'HEAD');
      repos.git('checkout', '-q', branch);
      const sha = repos.commit(file, content, message);
      repos.git('push', '-q', 'origin', branch);
      repos.git('checkout', '-q', before);
      return sha;
    },
    pushFromElsewhere(branch, file, content) {
      const clone = join(repos.root, `other-${++clones}`);
      const run = (...args: string[]): string =>
        execFileSync('git', [...IDENTITY, ...args], { cwd: clone, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
      execFileSync('git', ['clone', '-q', '--branch', branch, repos.remote, clone], { stdio: 'ignore' });
      writeFileSync(join(clone, file), content);
      run('add', file);
      run('commit', '-q', '-m', `elsewhere: ${file}`);
      run('push', '-q', 'origin', branch);
      return run('rev-parse', 'HEAD');
    },
    diverge(conflict = false) {
      const developSha = self.commitOn('develop', conflict ? 'config.txt' : 'feature.txt', 'from develop\n', 'feature');
      const mainSha = self.commitOn('main', conflict ? 'config.txt' : 'hotfix.txt', 'from main\n', 'hotfix');
      return { developSha, mainSha };
    },
    snapshot: () => snapshotRepo(repos.work, repos.remote),
    target: () => ({ cwd: repos.work, remote: 'origin', from: 'develop', to: 'main' }),
  };
  return self;
}
