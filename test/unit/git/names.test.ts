import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { assertBranchName, assertRemoteName, isValidBranchName } from '../../../src/git/names.js';

describe('branch names (git check-ref-format --branch rules)', () => {
  it.each(['main', 'develop', 'feature/login', 'release-1.2', 'user/x_y', 'a.b'])('accepts %s', (name) => {
    expect(isValidBranchName(name)).toBe(true);
  });

  it.each([
    '',
    '-f',
    '--force',
    '@',
    'a..b',
    'a b',
    'a~1',
    'a^',
    'a:b',
    'a?',
    'a*',
    'a[b',
    'a\\b',
    'a@{1}',
    '/a',
    'a/',
    'a//b',
    'a.',
    '.hidden',
    'x/.hidden',
    'a.lock',
    'x/a.lock/y',
    'tab\there',
  ])('rejects %j', (name) => {
    expect(isValidBranchName(name)).toBe(false);
    expect(() => assertBranchName(name)).toThrow(UsageError);
  });

  it('remote names: no slash, no leading dash', () => {
    expect(() => assertRemoteName('origin')).not.toThrow();
    expect(() => assertRemoteName('up-stream')).not.toThrow();
    expect(() => assertRemoteName('a/b')).toThrow(UsageError);
    expect(() => assertRemoteName('--upload-pack=evil')).toThrow(UsageError);
  });
});
