import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GitStepError, InterruptedError, PreflightError } from '../../../src/errors.js';
import { promoteMerge, promotePreview } from '../../../src/git/index.js';
import type { GitEvent, MergeStrategy } from '../../../src/git/index.js';
import { snapshotRepo } from '../../helpers/git-snapshot.js';
import { createPromoteRepos } from './fixture.js';
import type { PromoteRepos } from './fixture.js';

let repos: PromoteRepos;


afterEach(() => repos?.cleanup());

const base = (): { cwd: string; remote: string; from: string; to: string } => ({
  cwd: repos.work,
  remote: 'origin',
  from: 'develop',
  to: 'main',
});
const snapshot = (): ReturnType<typeof snapshotRepo> => snapshotRepo(repos.work, repos.remote);

/** develop and main each got a commit since they split; `conflict` makes them touch the same file. */
function diverge(conflict = false): { developSha: string; mainSha: string } {
  const developSha = repos.commitOn('develop', conflict ? 'config.txt' : 'feature.txt', 'from develop\n', 'feature');
  const mainSha = repos.commitOn('main', conflict ? 'config.txt' : 'hotfix.txt', 'from main\n', 'hotfix');
  return { developSha, mainSha };
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

describe('promotePreview', () => {
  it('lists the commits that would move and says fast-forward', async () => {
    repos = createPromoteRepos();
    const first = repos.commitOn('develop', 'a.txt', 'a\n', 'add a');
    const second = repos.commitOn('develop', 'b.txt', 'b\n', 'add b');
    const before = snapshot();
    const preview = await promotePreview(base());
    expect(preview).toMatchObject({ fromSha: second, fastForward: true, diverged: false, upToDate: false });
    expect(preview.commits.map((c) => [c.sha, c.subject, c.author])).toEqual([
      [second, 'add b', 'Test Author'],
      [first, 'add a', 'Test Author'],
    ]);
    expect(preview.commits[0]?.shortSha).toBe(second.slice(0, preview.commits[0]?.shortSha.length));
    expect(preview.localTo.relation).toBe('equal');
    expect(snapshot()).toEqual(before);
  });

  it('says diverged when main has its own commits', async () => {
    repos = createPromoteRepos();
    diverge();
    const preview = await promotePreview(base());
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
    const result = await promoteMerge({ ...base(), mode: 'ff-only' });
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
    const { developSha } = diverge();
    const mainBefore = repos.remoteSha('main');
    const result = await promoteMerge({ ...base(), mode: 'merge' });
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
    diverge();
    const before = snapshot();
    const error = await failure(promoteMerge({ ...base(), mode: 'ff-only' }));
    expect(error).toBeInstanceOf(GitStepError);
    expect((error as GitStepError).exitCode).toBe(10);
    expect((error as GitStepError).hint).toBe('iac promote develop main --merge');
    expect(snapshot()).toEqual(before);
  });
});

describe.each<MergeStrategy>(['merge-tree', 'worktree'])('merge strategy %s', (strategy) => {
  it('builds the same kind of merge commit', async () => {
    repos = createPromoteRepos();
    const { developSha, mainSha } = diverge();
    const result = await promoteMerge({ ...base(), mode: 'merge', strategy });
    expect(repos.git('rev-list', '--parents', '-n', '1', repos.remoteSha('main')).split(' ').slice(1)).toEqual([
      mainSha,
      developSha,
    ]);
    expect(repos.git('ls-tree', '--name-only', result.toSha).split('\n').sort()).toEqual([
      'README.md',
      'feature.txt',
      'hotfix.txt',
    ]);
  });

  it('a conflict is exit 10 naming the files; repo and remote identical', async () => {
    repos = createPromoteRepos();
    diverge(true);
    const before = snapshot();
    const error = await failure(promoteMerge({ ...base(), mode: 'merge', strategy }));
    expect(error).toBeInstanceOf(GitStepError);
    expect((error as GitStepError).exitCode).toBe(10);
    expect(error.message).toContain('config.txt');
    expect((error as GitStepError).details).toEqual(['config.txt']);
    expect(snapshot()).toEqual(before);
  });

  it('Ctrl-C while git itself is merging (a slow merge driver) kills it and restores everything', async () => {
    repos = createPromoteRepos();
    // A merge driver that takes seconds, so the interrupt lands while the git process runs.
    // .git/info/attributes applies to both strategies (merge-tree reads no worktree attributes before 2.40).
    repos.git('config', 'merge.slow.driver', 'sleep 3; exit 1');
    mkdirSync(join(repos.work, '.git', 'info'), { recursive: true });
    writeFileSync(join(repos.work, '.git', 'info', 'attributes'), 'config.txt merge=slow\n');
    diverge(true);
    const before = snapshot();
    const controller = new AbortController();
    const onEvent = (event: GitEvent): void => {
      if (event.type === 'merging') setTimeout(() => controller.abort(), 700);
    };
    const error = await failure(promoteMerge({ ...base(), mode: 'merge', strategy, signal: controller.signal, onEvent }));
    expect(error).toBeInstanceOf(InterruptedError);
    expect(snapshot()).toEqual(before);
  });

  const events: GitEvent['type'][] =
    strategy === 'worktree' ? ['merging', 'merge-worktree', 'merged'] : ['merging', 'merged'];
  it.each(events)(
    'Ctrl-C at "%s" restores everything and throws InterruptedError',
    async (at) => {
      repos = createPromoteRepos();
      diverge();
      const before = snapshot();
      const controller = new AbortController();
      const seen: string[] = [];
      const onEvent = (event: GitEvent): void => {
        seen.push(event.type);
        if (event.type === at) controller.abort();
      };
      const promise = promoteMerge({ ...base(), mode: 'merge', strategy, signal: controller.signal, onEvent });
      const error = await failure(promise);
      expect(error).toBeInstanceOf(InterruptedError);
      expect(seen).toContain(at);
      expect(seen).not.toContain('pushing');
      expect(snapshot()).toEqual(before);
    },
  );
});

describe('promote refuses before touching anything', () => {
  it('dirty tree (modified file): exit 3, nothing fetched or changed', async () => {
    repos = createPromoteRepos();
    repos.commitOn('develop', 'a.txt', 'a\n', 'a');
    repos.git('fetch', '-q', 'origin');
    repos.git('stash', 'list');
    writeFileSync(`${repos.work}/README.md`, 'edited but not committed\n');
    const before = snapshot();
    const error = await failure(promoteMerge({ ...base(), mode: 'ff-only' }));
    expect(error).toBeInstanceOf(PreflightError);
    expect((error as PreflightError).exitCode).toBe(3);
    expect((error as PreflightError).details).toEqual([' M README.md']);
    expect(snapshot()).toEqual(before);
  });

  it('dirty tree (untracked file) counts too', async () => {
    repos = createPromoteRepos();
    repos.commitOn('develop', 'a.txt', 'a\n', 'a');
    writeFileSync(`${repos.work}/notes.txt`, 'scratch\n');
    const before = snapshot();
    await expect(promoteMerge({ ...base(), mode: 'ff-only' })).rejects.toBeInstanceOf(PreflightError);
    expect(snapshot()).toEqual(before);
  });

  it('a stash entry survives a refused and a successful promotion', async () => {
    repos = createPromoteRepos();
    writeFileSync(`${repos.work}/README.md`, 'wip\n');
    repos.git('stash', 'push', '-q', '-m', 'my wip');
    const developSha = repos.commitOn('develop', 'a.txt', 'a\n', 'a');
    const stash = repos.git('stash', 'list', '--format=%H %gs');
    await promoteMerge({ ...base(), mode: 'ff-only' });
    expect(repos.remoteSha('main')).toBe(developSha);
    expect(repos.git('stash', 'list', '--format=%H %gs')).toBe(stash);
  });

  it('remote main moved (local main behind): exit 3, nothing changed', async () => {
    repos = createPromoteRepos();
    repos.commitOn('develop', 'a.txt', 'a\n', 'a');
    repos.pushFromElsewhere('main', 'hotfix.txt', 'hotfix\n');
    const before = snapshot();
    const error = await failure(promoteMerge({ ...base(), mode: 'merge' }));
    expect(error).toBeInstanceOf(PreflightError);
    expect(error.message).toContain('the remote moved');
    expect((error as PreflightError).hint).toBe('git pull --ff-only origin main');
    expect(snapshot()).toEqual(before);
  });

  it('remote main moved since the preview the user confirmed: exit 3, nothing changed', async () => {
    repos = createPromoteRepos();
    repos.commitOn('develop', 'a.txt', 'a\n', 'a');
    const preview = await promotePreview(base());
    repos.pushFromElsewhere('develop', 'late.txt', 'late\n');
    const before = snapshot();
    const error = await failure(
      promoteMerge({ ...base(), mode: 'ff-only', expected: { fromSha: preview.fromSha, toSha: preview.toSha } }),
    );
    expect(error).toBeInstanceOf(PreflightError);
    expect(error.message).toContain('origin/develop moved since the preview');
    expect(snapshot()).toEqual(before);
  });

  it('local main with unpushed commits: exit 3, nothing changed', async () => {
    repos = createPromoteRepos();
    repos.commitOn('develop', 'a.txt', 'a\n', 'a');
    repos.commit('local.txt', 'local\n', 'not pushed');
    const before = snapshot();
    const error = await failure(promoteMerge({ ...base(), mode: 'merge' }));
    expect(error).toBeInstanceOf(PreflightError);
    expect((error as PreflightError).code).toBe('git.local-ahead');
    expect(snapshot()).toEqual(before);
  });

  it('already promoted: nothing pushed, nothing changed', async () => {
    repos = createPromoteRepos();
    const before = snapshot();
    const result = await promoteMerge({ ...base(), mode: 'ff-only' });
    expect(result).toMatchObject({ upToDate: true, pushed: false });
    expect(snapshot()).toEqual(before);
  });

  it('Ctrl-C at every step before the push leaves everything identical', async () => {
    repos = createPromoteRepos();
    repos.commitOn('develop', 'a.txt', 'a\n', 'a');
    for (const at of ['fetching', 'fetched'] as const) {
      const before = snapshot();
      const controller = new AbortController();
      const error = await failure(
        promoteMerge({
          ...base(),
          mode: 'ff-only',
          signal: controller.signal,
          onEvent: (event) => event.type === at && controller.abort(),
        }),
      );
      expect(error).toBeInstanceOf(InterruptedError);
      expect(snapshot()).toEqual(before);
    }
  });
});
