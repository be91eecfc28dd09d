import { describe, expect, it } from 'vitest';
import { GitStepError, UnreachableError } from '../../../src/errors.js';
import { gitReason, looksUnreachable, networkError } from '../../../src/git/classify.js';
import { parseCommitLog } from '../../../src/git/repo.js';
import { GitCommandError } from '../../../src/git/run.js';

describe('classifying git failures', () => {
  it.each([
    "fatal: unable to access 'https://h/r.git/': Failed to connect to h port 443: Connection refused",
    "fatal: Authentication failed for 'https://h/r.git/'",
    "fatal: could not read Username for 'https://h': terminal prompts disabled",
    'git@h: Permission denied (publickey).\nfatal: Could not read from remote repository.',
    "fatal: '/nope' does not appear to be a git repository",
    'ssh: Could not resolve hostname h: Name or service not known',
    'remote: HTTP Basic: Access denied',
  ])('unreachable: %s', (stderr) => {
    expect(looksUnreachable(stderr)).toBe(true);
  });

  it('a hook refusal is not "unreachable"', () => {
    expect(looksUnreachable('remote: frozen\nerror: failed to push some refs to /r.git')).toBe(false);
  });

  it('gitReason prefers the first fatal/error line, credential-free', () => {
    expect(gitReason("warning: x\nfatal: unable to access 'https://u:t@h/': boom\nerror: y")).toBe(
      "unable to access 'https://h/': boom",
    );
    expect(gitReason('just text')).toBe('just text');
  });

  it('networkError maps to exit 4 or 10 and never leaks the URL credentials', () => {
    const url = 'https://bot:s3cret@h/r.git';
    const down = networkError(
      new GitCommandError(['fetch'], 128, '', `fatal: unable to access '${url}/': Could not resolve host: h`),
      'origin',
      url,
      'fetch from',
    );
    expect(down).toBeInstanceOf(UnreachableError);
    expect((down as UnreachableError).message).toBe(
      "cannot fetch from origin (https://h/r.git): unable to access 'https://h/r.git/': Could not resolve host: h",
    );
    const other = networkError(new GitCommandError(['fetch'], 1, '', 'fatal: bad object'), 'origin', url, 'fetch from');
    expect(other).toBeInstanceOf(GitStepError);
    expect(JSON.stringify([down, other, (down as UnreachableError).details])).not.toContain('s3cret');
  });

  it('passes through errors that are not git exits', () => {
    const error = new Error('x');
    expect(networkError(error, 'origin', 'u', 'push to')).toBe(error);
  });
});

describe('parseCommitLog', () => {
  it('reads the unit/record separated log format, subjects with any characters', () => {
    const out = `aaa\x1fa\x1ffix: tabs\tand | pipes\x1fAnn Dev\x1f2026-01-02T03:04:05+00:00\x1e\nbbb\x1fb\x1finit\x1fBo\x1f2026-01-01T00:00:00Z\x1e\n`;
    expect(parseCommitLog(out)).toEqual([
      { sha: 'aaa', shortSha: 'a', subject: 'fix: tabs\tand | pipes', author: 'Ann Dev', date: '2026-01-02T03:04:05+00:00' },
      { sha: 'bbb', shortSha: 'b', subject: 'init', author: 'Bo', date: '2026-01-01T00:00:00Z' },
    ]);
    expect(parseCommitLog('')).toEqual([]);
  });
});
