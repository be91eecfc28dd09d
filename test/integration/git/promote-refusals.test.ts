import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { InterruptedError, PreflightError, UsageError } from '../../../src/errors.js';
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

  it('remote main moved between our fetch and our push: the plain push is refused, exit 3, nothing changed', async () => {
    repos = createPromoteRepos();
    repos.commitOn('develop', 'a.txt', 'a\n', 'a');
    // Fetch from the remote, push to a mirror on which main already moved: the race a lease would guard.
    const mirror = join(repos.root, 'mirror.git');
    repos.git('clone', '-q', '--bare', repos.remote, mirror);
    repos.git('checkout', '-q', '-b', 'elsewhere', 'main');
    repos.commit('hotfix.txt', 'hotfix\n', 'hotfix pushed by someone else');
    repos.git('push', '-q', mirror, 'elsewhere:main');
    repos.git('checkout', '-q', 'main');
    repos.git('branch', '-q', '-D', 'elsewhere');
    repos.git('remote', 'set-url', '--push', 'origin', mirror);
    const before = repos.snapshot();
    const mirrorBefore = repos.git('--git-dir', mirror, 'for-each-ref');
    const error = await failure(promoteMerge({ ...repos.target(), mode: 'merge' }));
    expect(error).toBeInstanceOf(PreflightError);
    expect((error as PreflightError).code).toBe('git.remote-moved');
    expect(error.message).toBe('origin/main moved during the promotion: nothing was pushed');
    expect(repos.snapshot()).toEqual(before);
    expect(repos.git('--git-dir', mirror, 'for-each-ref')).toBe(mirrorBefore);
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

  it('bad names are usage errors (exit 2) before anything runs', async () => {
    repos = createPromoteRepos();
    const before = repos.snapshot();
    const pairs: [string, string][] = [['main', 'main'], ['--upload-pack=x', 'main'], ['develop', 'a..b']];
    for (const [from, to] of pairs) {
      const error = await failure(promoteMerge({ ...repos.target(), from, to, mode: 'merge' }));
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).exitCode).toBe(2);
    }
    expect(repos.snapshot()).toEqual(before);
  });
});
