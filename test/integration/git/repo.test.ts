import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PreflightError, UsageError } from '../../../src/errors.js';
import { openRepo } from '../../../src/git/index.js';
import { snapshotRepo } from '../../helpers/git-snapshot.js';
import { createPromoteRepos } from './fixture.js';
import type { PromoteRepos } from './fixture.js';

let repos: PromoteRepos;
afterEach(() => repos?.cleanup());

describe('openRepo', () => {
  it('answers from a subdirectory: toplevel, branch, full SHA', async () => {
    repos = createPromoteRepos();
    mkdirSync(join(repos.work, 'deploy', 'roles'), { recursive: true });
    const repo = await openRepo(join(repos.work, 'deploy'));
    expect(await repo.toplevel()).toBe(repos.git('rev-parse', '--show-toplevel'));
    expect(await repo.currentBranch()).toBe('main');
    const sha = await repo.headSha();
    expect(sha).toMatch(/^[0-9a-f]{40}$/);
    expect(await repo.headSha('develop')).toBe(sha);
    expect(await repo.resolve('no-such-branch')).toBeUndefined();
    await expect(repo.headSha('no-such-branch')).rejects.toBeInstanceOf(PreflightError);
  });

  it('detached HEAD has no current branch', async () => {
    repos = createPromoteRepos();
    repos.git('checkout', '-q', '--detach');
    const repo = await openRepo(repos.work);
    expect(await repo.currentBranch()).toBeUndefined();
    expect(repo.startBranch).toBeUndefined();
    expect(repo.startHead).toBeUndefined();
  });

  it('names the checked-out branch and its commit from the one call that opens it; a branch without commits has no commit', async () => {
    repos = createPromoteRepos();
    const repo = await openRepo(repos.work);
    expect(repo.startBranch).toBe('main');
    expect(repo.startHead).toBe(repos.git('rev-parse', 'refs/heads/main'));
    repos.git('switch', '-q', '--orphan', 'fresh');
    // (openRepo remembers a directory's answer: ask from another one.)
    mkdirSync(join(repos.work, 'sub'));
    const unborn = await openRepo(join(repos.work, 'sub'));
    expect(unborn.startBranch).toBe('fresh');
    expect(unborn.startHead).toBeUndefined();
  });

  it('reports dirty files, untracked included', async () => {
    repos = createPromoteRepos();
    const repo = await openRepo(repos.work);
    expect(await repo.isClean()).toBe(true);
    writeFileSync(join(repos.work, 'README.md'), 'changed\n');
    writeFileSync(join(repos.work, 'new.txt'), 'new\n');
    expect(await repo.dirtyFiles()).toEqual([' M README.md', '?? new.txt']);
    expect(await repo.isClean()).toBe(false);
  });

  it('lists branches, remote branches, upstream and the remote URL', async () => {
    repos = createPromoteRepos();
    repos.git('branch', 'feature/x');
    const repo = await openRepo(repos.work);
    expect(await repo.branches()).toEqual(['develop', 'feature/x', 'main']);
    expect(await repo.remoteBranches('origin')).toEqual(['develop', 'main']);
    expect(await repo.upstream('main')).toBe('origin/main');
    expect(await repo.upstream('feature/x')).toBeUndefined();
    expect(await repo.remoteUrl('origin')).toBe(repos.remote);
    await expect(repo.remoteUrl('nope')).rejects.toBeInstanceOf(PreflightError);
  });

  it('fetch updates remote-tracking refs only, and names branches the remote lacks', async () => {
    repos = createPromoteRepos();
    const theirs = repos.pushFromElsewhere('develop', 'x.txt', 'x\n');
    const repo = await openRepo(repos.work);
    const before = snapshotRepo(repos.work, repos.remote);
    const events: string[] = [];
    const result = await repo.fetch('origin', ['develop', 'ghost'], { onEvent: (e) => events.push(e.type) });
    expect(result).toEqual({ missing: ['ghost'] });
    expect(events).toEqual(['fetching', 'fetched']);
    expect(await repo.headSha('origin/develop')).toBe(theirs);
    expect(snapshotRepo(repos.work, repos.remote)).toEqual(before);
  });

  it('ahead/behind and the commits between two refs', async () => {
    repos = createPromoteRepos();
    const theirs = repos.pushFromElsewhere('main', 'x.txt', 'x\n');
    const mine1 = repos.commit('a.txt', 'a\n', 'first of mine');
    const mine2 = repos.commit('b.txt', 'b\n', 'second of mine');
    const repo = await openRepo(repos.work);
    await repo.fetch('origin', ['main']);
    expect(await repo.aheadBehind('main', 'origin/main')).toEqual({ ahead: 2, behind: 1 });
    const commits = await repo.commitsBetween('origin/main', 'main');
    expect(commits.map((c) => [c.sha, c.subject, c.author])).toEqual([
      [mine2, 'second of mine', 'Test Author'],
      [mine1, 'first of mine', 'Test Author'],
    ]);
    expect(commits[0]?.date).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await repo.isAncestor(theirs, 'main')).toBe(false);
    expect(await repo.isAncestor('origin/develop', 'main')).toBe(true);
  });

  it('outside a repository is a usage error', async () => {
    repos = createPromoteRepos();
    await expect(openRepo(repos.root)).rejects.toBeInstanceOf(UsageError);
  });

  it('a missing git binary or folder is reported as such, not as a crash', async () => {
    repos = createPromoteRepos();
    await expect(openRepo(join(repos.root, 'nope'))).rejects.toBeInstanceOf(UsageError);
    const path = process.env.PATH;
    process.env.PATH = join(repos.root, 'empty-bin');
    try {
      await expect(openRepo(repos.work)).rejects.toMatchObject({ code: 'git.missing', exitCode: 3 });
    } finally {
      process.env.PATH = path;
    }
  });
});
