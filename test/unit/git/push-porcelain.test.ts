import { describe, expect, it } from 'vitest';
import { isNonFastForward, parsePushPorcelain } from '../../../src/git/push-porcelain.js';

// Shapes as printed by `git push --porcelain` (git 2.39).
const OUTPUT = [
  'To /tmp/remote.git',
  '*\trefs/heads/feature:refs/heads/feature\t[new branch]',
  ' \trefs/heads/main:refs/heads/main\t1a2b3c4..5d6e7f8',
  '=\trefs/heads/develop:refs/heads/develop\t[up to date]',
  '!\trefs/heads/x:refs/heads/x\t[rejected] (fetch first)',
  '!\trefs/heads/y:refs/heads/y\t[rejected] (non-fast-forward)',
  '!\t0123456789abcdef0123456789abcdef01234567:refs/heads/z\t[remote rejected] (pre-receive hook declined)',
  'Done',
].join('\n');

describe('parsePushPorcelain', () => {
  const refs = parsePushPorcelain(OUTPUT);

  it('reads one entry per ref with flag, refs, summary and reason', () => {
    expect(refs.map((r) => [r.flag, r.to, r.reason])).toEqual([
      ['*', 'refs/heads/feature', undefined],
      [' ', 'refs/heads/main', undefined],
      ['=', 'refs/heads/develop', undefined],
      ['!', 'refs/heads/x', 'fetch first'],
      ['!', 'refs/heads/y', 'non-fast-forward'],
      ['!', 'refs/heads/z', 'pre-receive hook declined'],
    ]);
    expect(refs[5]?.from).toBe('0123456789abcdef0123456789abcdef01234567');
  });

  it('tells "the remote has commits you lack" from a policy refusal', () => {
    expect(refs.filter(isNonFastForward).map((r) => r.to)).toEqual(['refs/heads/x', 'refs/heads/y']);
  });

  it('ignores anything that is not a ref line', () => {
    expect(parsePushPorcelain('error: failed to push some refs\nhint: x\n')).toEqual([]);
  });
});
