import { describe, expect, it } from 'vitest';
import { LineSplitter, terminalSafe } from '../../../src/ansible/lines.js';

function split(chunks: Array<string | Buffer>, max?: number): string[] {
  const lines: string[] = [];
  const splitter = new LineSplitter((line) => lines.push(line), max);
  for (const chunk of chunks) splitter.push(chunk);
  splitter.end();
  return lines;
}

describe('LineSplitter', () => {
  it('joins lines across chunks, drops CR, emits a last line without newline', () => {
    expect(split(['ab', 'c\r\nde', 'f\n', 'tail'])).toEqual(['abc', 'def', 'tail']);
  });

  it('never splits a multi-byte character across chunks', () => {
    const bytes = Buffer.from('☃\n');
    expect(split([bytes.subarray(0, 1), bytes.subarray(1)])).toEqual(['☃']);
  });

  it('cuts a line longer than the bound and counts what it dropped, without keeping it', () => {
    expect(split(['x'.repeat(10), 'y'.repeat(5), '\nnext\n'], 8)).toEqual(['xxxxxxxx… [7 more bytes]', 'next']);
  });
});

describe('terminalSafe', () => {
  it('keeps colours and tabs, drops every other control sequence', () => {
    const hostile = 'a\u001b]0;pwned title\u0007b\u001b]52;c;Y2xpcA==\u001b\\c\u001b[2J\u001b[Hd\u001b[31mred\u001b[0m\te\u0000\u009b';
    expect(terminalSafe(hostile)).toBe('abcd\u001b[31mred\u001b[0m\te');
  });
});
