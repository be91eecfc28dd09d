import { describe, expect, it } from 'vitest';
import { scrubLines, stripCredentials } from '../../../src/git/sanitize.js';

describe('stripCredentials', () => {
  it.each([
    ['https://user:tok@host/r.git', 'https://host/r.git'],
    ['https://tok@host:8443/r.git', 'https://host:8443/r.git'],
    ['http://u:p%40ss@127.0.0.1:9/x', 'http://127.0.0.1:9/x'],
    ['ssh://git@host:22/r.git', 'ssh://host:22/r.git'],
    ['git@github.com:org/r.git', 'git@github.com:org/r.git'],
    ['/srv/git/r.git', '/srv/git/r.git'],
    ['https://host/r.git', 'https://host/r.git'],
  ])('%s → %s', (input, expected) => {
    expect(stripCredentials(input)).toBe(expected);
  });

  it('cleans every URL inside git output and drops blank lines', () => {
    const text = "fatal: unable to access 'https://bot:ghp_secret@github.com/o/r.git/': boom\n\nremote: see https://a:b@x.test\n";
    expect(scrubLines(text)).toEqual([
      "fatal: unable to access 'https://github.com/o/r.git/': boom",
      'remote: see https://x.test',
    ]);
  });
});
