import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TempRepos {
  root: string;
  work: string;
  remote: string;
  git(...args: string[]): string;
  commit(file: string, content: string, message: string): string;
  cleanup(): void;
}

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Test Author',
  GIT_AUTHOR_EMAIL: 'author@example.test',
  GIT_COMMITTER_NAME: 'Test Author',
  GIT_COMMITTER_EMAIL: 'author@example.test',
  GIT_CONFIG_NOSYSTEM: '1',
};

/**
 * A work repo with `main` (and optionally `develop`) pushed to a bare remote named `origin`,
 * all under one temp dir. Real git, no mocks.
 */
export function createTempRepos(options: { branches?: string[] } = {}): TempRepos {
  const root = mkdtempSync(join(tmpdir(), 'iac-test-'));
  const work = join(root, 'work');
  const remote = join(root, 'remote.git');
  const run = (cwd: string, args: string[]): string =>
    execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();

  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', remote], { env: GIT_ENV });
  execFileSync('git', ['init', '-q', '-b', 'main', work], { env: GIT_ENV });
  const git = (...args: string[]): string => run(work, args);
  git('config', 'user.name', 'Test Author');
  git('config', 'user.email', 'author@example.test');
  git('config', 'commit.gpgsign', 'false');
  git('remote', 'add', 'origin', remote);
  const commit = (file: string, content: string, message: string): string => {
    writeFileSync(join(work, file), content);
    git('add', file);
    git('commit', '-q', '-m', message);
    return git('rev-parse', 'HEAD');
  };
  commit('README.md', '# app\n', 'initial commit');
  git('push', '-q', '-u', 'origin', 'main');
  for (const branch of options.branches ?? []) {
    if (branch === 'main') continue;
    git('checkout', '-q', '-b', branch);
    git('push', '-q', '-u', 'origin', branch);
  }
  return { root, work, remote, git, commit, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
