import { describe, expect, it } from 'vitest';
import { ConsoleLines } from '../../../src/jenkins/console-lines.js';
import { Redactor } from '../../../src/util/redact.js';

const ESC = '\u001b';

describe('ConsoleLines: console text → bounded, sanitized, redacted lines', () => {
  it('splits chunks into lines, holding a partial line until it completes', () => {
    const lines = new ConsoleLines();
    expect(lines.push('one\ntw')).toEqual(['one']);
    expect(lines.push('o\nthree')).toEqual(['two']);
    expect(lines.flush()).toEqual(['three']);
  });

  it('strips control sequences but colour, and Jenkins console notes', () => {
    const lines = new ConsoleLines();
    const out = lines.push(`${ESC}]0;pwned${ESC}\\${ESC}[2J${ESC}[31mred${ESC}[0m\n${ESC}[8mha:////4PbR+AAAA=${ESC}[0m[Pipeline] node\r\n`);
    expect(out).toEqual([`${ESC}[31mred${ESC}[0m`, '[Pipeline] node']);
  });

  it('cuts an overlong line with a marker and skips the rest of it until its newline', () => {
    const lines = new ConsoleLines({ maxLine: 10 });
    expect(lines.push('0123456789abcdef')).toEqual(['0123456789 … [line cut at 10 characters; the saved console has all of it]']);
    expect(lines.push('ghijklmnop'.repeat(1000))).toEqual([]);
    expect(lines.push('end of the long one\nnext\n')).toEqual(['next']);
  });

  it('holds at most about one line bound of a single huge line (memory is bounded)', () => {
    const lines = new ConsoleLines({ maxLine: 4096 });
    let shown = 0;
    for (let i = 0; i < 200; i++) shown += lines.push('x'.repeat(65_536)).length;
    expect(shown).toBe(1);
    expect(lines.flush()).toEqual([]);
  });

  it('masks a secret that straddles the cut point, whole', () => {
    const redactor = new Redactor();
    const token = 'tok-0123456789abcdef';
    redactor.add(token);
    const lines = new ConsoleLines({ maxLine: 20, redact: (t) => redactor.redact(t), redactWindow: () => redactor.maxPatternLength });
    const out = lines.push(`${'a'.repeat(12)}${token}${'b'.repeat(100)}\n`);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^a{12}\*\*\*b{5} … \[line cut/);
    expect(out[0]).not.toContain('tok-0');
  });

  it('keeps the last lines for the failure report', () => {
    const lines = new ConsoleLines({ tailLines: 2 });
    lines.push('a\nb\nc\n');
    expect(lines.tail()).toEqual(['b', 'c']);
  });
});
