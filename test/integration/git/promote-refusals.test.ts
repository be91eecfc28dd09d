import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { InterruptedError, PreflightError } from '../../../src/errors.js';
import { promoteMerge, promotePreview } from '../../../src/git/index.js';
import { createPromoteRepos, failure } from './fixture.js';
import type { PromoteRepos } from './fixture.js';

let repos: PromoteRepos;
afterEach(() => repos?.cleanup());

describe('promote refuses before touching anything', () => {
  it('dirty tree (modified file): exit 3, nothing fetched or changed', async () => {
    repos = createPromoteRepos();
    repos.commitOn('develop', 'a.txt', 'a\n', 'a');
    repos.git('fetch', '-q', 'origin');
    repos.git('stash', 'list');
    writeFileSync(`${repos.work}/README.md`, 'edited but not committed\n');
    const before = repos.snapshot();
    const error = await failure(promoteMerge({ ...repos.target(), mode: 'ff-only' }));
    expect(error).toBeInstanceOf(PreflightError);
    expect((error as PreflightError).exitCode).toBe(3);
    expect((error as PreflightError).details).toEqual([' M README.md']);
    expect(repos.snapshot()).toEqual(before);
  });

  it('dirty tree (untracked file) counts too', async () => {
    repos = createPromoteRepos();
    repos.commitOn('develop', 'a.txt', 'a\n', 'a');
    writeFileSync(`${repos.work}/notes.txt`, 'scratch\n');
    const before = repos.snapshot();
    await expect(promoteMerge({ ...repos.target(), mode: 'ff-only' })).rejects.toBeInstanceOf(PreflightError);
    expect(repos.snapshot()).toEqual(before);
  });

  it('a stash entry survives a refused and a successful promotion', async () => {
    repos = createPromoteRepos();
    writeFileSync(`${repos.work}/README.md`, 'wip\n');
    repos.git('stash', 'push', '-q', '-m', 'my wip');
    const developSha = repos.commitOn('develop', 'a.txt', 'a\n', 'a');
    const stash = repos.git('stash', 'list', '--format=%H %gs');
    await promoteMerge({ ...repos.target(), mode: 'ff-only' });
    expect(repos.remoteSha('main')).toBe(developSha);
    expect(repos.git('stash', 'list', '--format=%H %gs')).toBe(stash);
  });

  it('remote main moved (local main behind): exit 3, nothing changed', async () => {
    repos = createPromoteRepos();
    repos.commitOn('develop', 'a.txt', 'a\n', 'a');
    repos.pushFromElsewhere('main', 'hotfix.txt', 'hotfix\n');
    const before = repos.snapshot();
    const error = await failure(promoteMerge({ ...repos.target(), mode: 'merge' }));
    expect(error).toBeInstanceOf(PreflightError);
    expect(error.message).toContain('the remote moved');
    expect((error as PreflightError).hint).toBe('git pull --ff-only origin main');
    expect(repos.snapshot()).toEqual(before);
  });

  it('remote main moved since the preview the user confirmed: exit 3, nothing changed', async () => {
    repos = createPromoteRepos();
    repos.commitOn('develop', 'a.txt', 'a\n', 'a');
    const preview = await promotePreview(repos.target());
    repos.pushFromElsewhere('develop', 'late.txt', 'late\n');
    const before = repos.snapshot();
    const error = await failure(
      promoteMerge({ ...repos.target(), mode: 'ff-only', expected: { fromSha: preview.fromSha, toSha: preview.toSha } }),
    );
    expect(error).toBeInstanceOf(PreflightError);
    expect(error.message).toContain('origin/develop moved since the preview');
    expect(repos.snapshot()).toEqual(before);
  });

  it('local main with unpushed commits: exit 3, nothing changed', async () => {
    repos = createPromoteRepos();
    repos.commitOn('develop', 'a.txt', 'a\n', 'a');
    repos.commit('local.txt', 'local\n', 'not pushed');
    const before = repos.snapshot();
    const error = await failure(promoteMerge({ ...repos.target(), mode: 'merge' }));
    expect(error).toBeInstanceOf(PreflightError);
    expect((error as PreflightError).code).toBe('git.local-ahead');
    expect(repos.snapshot()).toEqual(before);
  });

  it('already promoted: nothing pushed, nothing changed', async () => {
    repos = createPromoteRepos();
    const before = repos.snapshot();
    const result = await promoteMerge({ ...repos.target(), mode: 'ff-only' });
    expect(result).toMatchObject({ upToDate: true, pushed: false });
    expect(repos.snapshot()).toEqual(before);
  });

  it('Ctrl-C at every step before the push leaves everything identical', async () => {
    repos = createPromoteRepos();
    repos.commitOn('develop', 'a.txt', 'a\n', 'a');
    for (const at of ['fetching', 'fetched'] as const) {
      const before = repos.snapshot();
      const controller = new AbortController();
      const error = await failure(
        promoteMerge({
          ...repos.target(),
          mode: 'ff-only',
          signal: controller.signal,
          onEvent: (event) => event.type === at && controller.abort(),
        }),
      );
      expect(error).toBeInstanceOf(InterruptedError);
      expect(repos.snapshot()).toEqual(before);
    }
  });
});
