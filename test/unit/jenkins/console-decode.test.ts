import { describe, expect, it } from 'vitest';
import { ConsoleDecoder, incompleteUtf8Tail, stripConsoleNotes } from '../../../src/jenkins/console-decode.js';
import { LineBuffer } from '../../../src/jenkins/console-reader.js';
import { GeneratedLines, readAll, toCrlf } from '../../../src/sandbox/jenkins-console.js';

const LOG = 'Started by user alice\nétape 1 ✓ done\n🚀 deploy\r\nprogress\r50%\rdone\n';

/** What Jenkins sends for LOG: LF → CRLF, existing CRLF untouched. */
const BODY = toCrlf(Buffer.from(LOG), undefined);

describe('ConsoleDecoder', () => {
  it('undoes the CRLF normalization', () => {
    expect(BODY.toString()).toBe('Started by user alice\r\nétape 1 ✓ done\r\n🚀 deploy\r\nprogress\r50%\rdone\r\n');
    const decoder = new ConsoleDecoder();
    expect(decoder.push(BODY).text + decoder.end().text).toBe(LOG.replace('deploy\r\n', 'deploy\n'));
  });

  it('gives the same text however the body is split (multi-byte characters and CRLF across chunks)', () => {
    const expected = LOG.replace('deploy\r\n', 'deploy\n');
    for (let a = 0; a <= BODY.length; a++) {
      for (let b = a; b <= BODY.length; b += 3) {
        const decoder = new ConsoleDecoder();
        const out = [BODY.subarray(0, a), BODY.subarray(a, b), BODY.subarray(b)].map((part) => decoder.push(part).text).join('') + decoder.end().text;
        expect(out).toBe(expected);
      }
    }
  });

  it('never emits U+FFFD for a character cut at a chunk end, and reports the cut bytes at the end', () => {
    const check = Buffer.from('ok ✓');
    const decoder = new ConsoleDecoder();
    expect(decoder.push(check.subarray(0, check.length - 1))).toEqual({ text: 'ok ', bytes: 3 });
    expect(decoder.end()).toMatchObject({ text: '', incompleteBytes: 2 });
    expect(incompleteUtf8Tail(Buffer.from('🚀').subarray(0, 3))).toBe(3);
    expect(incompleteUtf8Tail(Buffer.from('🚀'))).toBe(0);
    expect(incompleteUtf8Tail(Buffer.from('abc'))).toBe(0);
  });

  it('a CR at the end of an answer is content (its LF arrives in the next answer)', () => {
    const decoder = new ConsoleDecoder();
    expect(decoder.push(Buffer.from('a\r')).text).toBe('a');
    expect(decoder.end().text).toBe('\r');
  });
});

describe('LineBuffer', () => {
  it('emits whole lines and keeps the partial one', () => {
    const lines = new LineBuffer(10);
    expect(lines.push('a\nb')).toBe('a\n');
    expect(lines.push('c')).toBeUndefined();
    expect(lines.push('\n')).toBe('bc\n');
    expect(lines.push('0123456789ab')).toBe('0123456789ab');
    expect(lines.push('tail')).toBeUndefined();
    expect(lines.flush()).toBe('tail');
  });
});

describe('sandbox console generation', () => {
  it('produces fixed-width lines whose any byte range matches the whole', () => {
    const lines = new GeneratedLines(1000, 50);
    const whole = Buffer.from(readAll(lines));
    expect(whole.length).toBe(50_000);
    expect(lines.line(41)).toMatch(/^line 000000042 ✓ [a-z0-9]+\n$/);
    for (const [start, end] of [[0, 1], [17, 19], [49, 51], [12_345, 23_456], [49_990, 50_000]] as const) {
      expect(lines.read(start, end).equals(whole.subarray(start, end))).toBe(true);
    }
  });
});

describe('stripConsoleNotes', () => {
  it('removes hidden ha: notes and leaves other escapes alone', () => {
    expect(stripConsoleNotes('\u001b[8mha:////4PbR+AAAA=\u001b[0m[Pipeline] node\n')).toBe('[Pipeline] node\n');
    expect(stripConsoleNotes('\u001b[31mred\u001b[0m\n')).toBe('\u001b[31mred\u001b[0m\n');
  });
});
