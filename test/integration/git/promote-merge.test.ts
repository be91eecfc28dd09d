import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GitStepError, InterruptedError } from '../../../src/errors.js';
import { promoteMerge } from '../../../src/git/index.js';
import type { GitEvent, MergeStrategy } from '../../../src/git/index.js';
import { createPromoteRepos, failure } from './fixture.js';
import type { PromoteRepos } from './fixture.js';

let repos: PromoteRepos;
afterEach(() => repos?.cleanup());

describe.each<MergeStrategy>(['merge-tree', 'worktree'])('merge strategy %s', (strategy) => {
  it('builds the same kind of merge commit', async () => {
    repos = createPromoteRepos();
    const { developSha, mainSha } = repos.diverge();
    const result = await promoteMerge({ ...repos.target(), mode: 'merge', strategy });
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
    repos.diverge(true);
    const before = repos.snapshot();
    const error = await failure(promoteMerge({ ...repos.target(), mode: 'merge', strategy }));
    expect(error).toBeInstanceOf(GitStepError);
    expect((error as GitStepError).exitCode).toBe(10);
    expect(error.message).toContain('config.txt');
    expect((error as GitStepError).details).toEqual(['config.txt']);
    expect(repos.snapshot()).toEqual(before);
  });

  it('Ctrl-C while git itself is merging (a slow merge driver) kills it and restores everything', async () => {
    repos = createPromoteRepos();
    // A merge driver that takes seconds, so the interrupt lands while the git process runs.
    // .git/info/attributes applies to both strategies (merge-tree reads no worktree attributes before 2.40).
    repos.git('config', 'merge.slow.driver', 'sleep 3; exit 1');
    mkdirSync(join(repos.work, '.git', 'info'), { recursive: true });
    writeFileSync(join(repos.work, '.git', 'info', 'attributes'), 'config.txt merge=slow\n');
    repos.diverge(true);
    const before = repos.snapshot();
    const controller = new AbortController();
    const onEvent = (event: GitEvent): void => {
      if (event.type === 'merging') setTimeout(() => controller.abort(), 700);
    };
    const error = await failure(promoteMerge({ ...repos.target(), mode: 'merge', strategy, signal: controller.signal, onEvent }));
    expect(error).toBeInstanceOf(InterruptedError);
    expect(repos.snapshot()).toEqual(before);
  });

  const events: GitEvent['type'][] =
    strategy === 'worktree' ? ['merging', 'merge-worktree', 'merged'] : ['merging', 'merged'];
  it.each(events)(
    'Ctrl-C at "%s" restores everything and throws InterruptedError',
    async (at) => {
      repos = createPromoteRepos();
      repos.diverge();
      const before = repos.snapshot();
      const controller = new AbortController();
      const seen: string[] = [];
      const onEvent = (event: GitEvent): void => {
        seen.push(event.type);
        if (event.type === at) controller.abort();
      };
      const promise = promoteMerge({ ...repos.target(), mode: 'merge', strategy, signal: controller.signal, onEvent });
      const error = await failure(promise);
      expect(error).toBeInstanceOf(InterruptedError);
      expect(seen).toContain(at);
      expect(seen).not.toContain('pushing');
      expect(repos.snapshot()).toEqual(before);
    },
  );
});

