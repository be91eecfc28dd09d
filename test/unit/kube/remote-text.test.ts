import { describe, expect, it } from 'vitest';
import { boundStrings, cutText, remoteLine, stripControls } from '../../../src/kube/remote-text.js';

describe('stripControls (the shared terminal sanitizer, colour dropped)', () => {
  it.each([
    ['OSC 0 window title (BEL)', '\x1b]0;pwned\x07ok', 'ok'],
    ['OSC 52 clipboard (ST)', '\x1b]52;c;ZWNobyBwd25lZA==\x1b\\ok', 'ok'],
    ['CSI clear screen and cursor moves', '\x1b[2J\x1b[1;1Hok\x1b[31m!\x1b[0m', 'ok!'],
    ['8-bit CSI and OSC', '\x9b2Jok\x9d0;t\x07', 'ok'],
    ['DCS', '\x1bPq#0;2;0;0;0\x1b\\ok', 'ok'],
    ['two-byte ESC (RIS)', '\x1bcok', 'ok'],
    ['C0 controls but TAB and LF; DEL; C1', 'a\x00b\x07c\td\nf\x7fg\x85h', 'abc\td\nfgh'],
    ['a CR keeps what a terminal would show last', 'progress 10%\rprogress 100%', 'progress 100%'],
    ['colour goes too', '\x1b[31mred\x1b[0m', 'red'],
    ['an unterminated OSC eats the rest', 'ok\x1b]0;never ends', 'ok'],
  ])('%s', (_name, input, output) => {
    expect(stripControls(input)).toBe(output);
  });

  it('plain text, unicode and kubectl\'s quotes pass unchanged', () => {
    const text = 'Waiting for deployment "web" rollout to finish: 1 of 2 updated replicas are available… ✓';
    expect(stripControls(text)).toBe(text);
  });
});

describe('cutText / remoteLine / boundStrings', () => {
  it('cuts with a marker saying how much was dropped', () => {
    expect(cutText('abcdef', 4)).toBe('abcd… [2 more characters cut]');
    expect(cutText('abc', 4)).toBe('abc');
  });

  it('one line: newlines become spaces, controls go, a 10 MB message stays short', () => {
    expect(remoteLine('a\nb\r\nc\x1b[2J')).toBe('a b c');
    const line = remoteLine(`\x1b]0;x\x07${'A'.repeat(10 * 1024 * 1024)}`, 100);
    expect(line).toBe(`${'A'.repeat(100)}… [${10 * 1024 * 1024 + 6 - 100} more characters cut]`);
  });

  it('bounds every string of a parsed object in place', () => {
    const object = { a: 'x'.repeat(50), list: [{ message: 'y'.repeat(50) }, 3, null], short: 'ok' };
    expect(boundStrings(object, 10)).toEqual({
      a: 'xxxxxxxxxx… [40 more characters cut]',
      list: [{ message: 'yyyyyyyyyy… [40 more characters cut]' }, 3, null],
      short: 'ok',
    });
  });
});
