import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GitStepError } from '../../../src/errors.js';
import { promoteMerge, promotePreview } from '../../../src/git/index.js';
import { createPromoteRepos, failure } from './fixture.js';
import type { PromoteRepos } from './fixture.js';

let repos: PromoteRepos;
afterEach(() => repos?.cleanup());

describe('promotePreview', () => {
  it('lists the commits that would move and says fast-forward', async () => {
    repos = createPromoteRepos();
    const first = repos.commitOn('develop', 'a.txt', 'a\n', 'add a');
    const second = repos.commitOn('develop', 'b.txt', 'b\n', 'add b');
    const before = repos.snapshot();
    const preview = await promotePreview(repos.target());
    expect(preview).toMatchObject({ fromSha: second, fastForward: true, diverged: false, upToDate: false });
    expect(preview.commits.map((c) => [c.sha, c.subject, c.author])).toEqual([
      [second, 'add b', 'Test Author'],
      [first, 'add a', 'Test Author'],
    ]);
    expect(preview.commits[0]?.shortSha).toBe(second.slice(0, preview.commits[0]?.shortSha.length));
    expect(preview.localTo.relation).toBe('equal');
    expect(repos.snapshot()).toEqual(before);
  });

  it('says diverged when main has its own commits', async () => {
    repos = createPromoteRepos();
    repos.diverge();
    const preview = await promotePreview(repos.target());
    expect(preview).toMatchObject({ fastForward: false, diverged: true, upToDate: false });
    expect(preview.commits.map((c) => c.subject)).toEqual(['feature']);
  });
});

describe.each(['main', 'develop', 'feature'])('promote develop → main while %s is checked out', (checkedOut) => {
  const checkout = (): unknown => {
    if (checkedOut !== 'feature') return repos.git('checkout', '-q', checkedOut);
    // A third branch with its own commit, so HEAD differs from both main and develop.
    repos.git('checkout', '-q', '-b', 'feature');
    repos.commit('scratch.txt', 'work in progress\n', 'feature work');
  };

  it('fast-forwards: remote main equals develop, local main follows, checkout untouched', async () => {
    repos = createPromoteRepos();
    checkout();
    const developSha = repos.commitOn('develop', 'feature.txt', 'f\n', 'feature');
    repos.git('fetch', '-q', 'origin');
    const headBefore = repos.git('rev-parse', 'HEAD');
    const stashBefore = repos.git('stash', 'list');
    const result = await promoteMerge({ ...repos.target(), mode: 'ff-only' });
    expect(repos.remoteSha('main')).toBe(developSha);
    expect(result).toMatchObject({ fromSha: developSha, toSha: developSha, fastForward: true, pushed: true });
    expect(result.mergeCommit).toBeUndefined();
    expect(repos.git('rev-parse', 'refs/heads/main')).toBe(developSha);
    expect(repos.git('rev-parse', '--abbrev-ref', 'HEAD')).toBe(checkedOut);
    expect(repos.git('status', '--porcelain')).toBe('');
    expect(repos.git('stash', 'list')).toBe(stashBefore);
    if (checkedOut === 'main') {
      expect(result.local).toEqual({ kind: 'fast-forwarded', sha: developSha });
    } else {
      expect(result.local).toEqual({ kind: 'updated-ref', sha: developSha });
      expect(repos.git('rev-parse', 'HEAD')).toBe(headBefore);
    }
  });

  it('merges diverged branches with mode merge: a merge commit with both parents is pushed', async () => {
    repos = createPromoteRepos();
    checkout();
    const { developSha } = repos.diverge();
    const mainBefore = repos.remoteSha('main');
    const result = await promoteMerge({ ...repos.target(), mode: 'merge' });
    const merge = repos.remoteSha('main');
    expect(result.mergeCommit).toBe(merge);
    expect(repos.git('rev-list', '--parents', '-n', '1', merge).split(' ').slice(1)).toEqual([mainBefore, developSha]);
    expect(repos.git('log', '-1', '--format=%s', merge)).toBe("Merge branch 'develop' into main");
    expect(repos.git('rev-parse', 'refs/heads/main')).toBe(merge);
    expect(repos.git('rev-parse', '--abbrev-ref', 'HEAD')).toBe(checkedOut);
    expect(repos.git('status', '--porcelain')).toBe('');
    expect(repos.git('worktree', 'list', '--porcelain').match(/^worktree /gm)).toHaveLength(1);
  });

  it('refuses diverged branches without merge mode: exit 10, nothing changed', async () => {
    repos = createPromoteRepos();
    checkout();
    repos.diverge();
    const before = repos.snapshot();
    const error = await failure(promoteMerge({ ...repos.target(), mode: 'ff-only' }));
    expect(error).toBeInstanceOf(GitStepError);
    expect((error as GitStepError).exitCode).toBe(10);
    expect((error as GitStepError).hint).toBe('iac promote develop main --merge');
    expect(repos.snapshot()).toEqual(before);
  });
});

describe('local main checked out in another worktree', () => {
  it('is left alone (its files would go stale), with the command that updates it', async () => {
    repos = createPromoteRepos();
    repos.git('checkout', '-q', 'develop');
    const other = join(repos.root, 'main-worktree');
    repos.git('worktree', 'add', '-q', other, 'main');
    const mainBefore = repos.git('rev-parse', 'refs/heads/main');
    const developSha = repos.commitOn('develop', 'a.txt', 'a\n', 'a');
    const result = await promoteMerge({ ...repos.target(), mode: 'ff-only' });
    expect(repos.remoteSha('main')).toBe(developSha);
    expect(result.local).toMatchObject({ kind: 'skipped', hint: `git -C ${other} merge --ff-only ${developSha.slice(0, 12)}` });
    expect(repos.git('rev-parse', 'refs/heads/main')).toBe(mainBefore);
  });
});
