import { describe, expect, it } from 'vitest';
import { Redactor } from '../../../src/util/redact.js';

const TOKEN = '11d1f0c0ffee1234567890abcdef5678';
const USER = 'deployer';

describe('Redactor', () => {
  it('masks the raw value', () => {
    const r = new Redactor();
    r.add(TOKEN);
    expect(r.redact(`token=${TOKEN} again ${TOKEN}`)).toBe('token=*** again ***');
  });

  it('masks the Authorization: Basic form of user:token, whole', () => {
    const r = new Redactor();
    r.addCredential(USER, TOKEN);
    const basic = Buffer.from(`${USER}:${TOKEN}`).toString('base64');
    expect(r.redact(`> Authorization: Basic ${basic}\n`)).toBe('> Authorization: Basic ***\n');
  });

  it('masks base64 of the token at any alignment inside a longer base64 text, even when only add() was used', () => {
    const r = new Redactor();
    r.add(TOKEN);
    for (const prefix of ['', 'a', 'ab', 'abc', 'someone:', 'x:']) {
      const encoded = Buffer.from(`${prefix}${TOKEN}-tail`).toString('base64');
      const out = r.redact(`Authorization: Basic ${encoded} end`);
      expect(out).toBe('Authorization: Basic *** end');
    }
    const urlSafe = Buffer.from(`??${TOKEN}>>`).toString('base64url');
    expect(r.redact(`jwt ${urlSafe}.`)).toBe('jwt ***.');
  });

  it('masks URL-encoded, form-encoded and JSON-escaped spellings', () => {
    const secret = 'p@ss w/rd"\\+&=';
    const r = new Redactor();
    r.add(secret);
    const spellings = [
      secret,
      encodeURIComponent(secret),
      encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (e) => e.toLowerCase()),
      new URLSearchParams({ v: secret }).toString().slice(2),
      JSON.stringify(secret).slice(1, -1),
    ];
    for (const spelling of spellings) expect(r.redact(`[${spelling}]`)).toBe('[***]');
    expect(r.redact(JSON.stringify({ text: `value ${secret}` }))).toBe(JSON.stringify({ text: 'value ***' }));
  });

  it('ignores short values and leaves other text alone', () => {
    const r = new Redactor();
    r.add('ab');
    r.add('');
    r.add(undefined);
    expect(r.size).toBe(0);
    expect(r.redact('ab cd')).toBe('ab cd');
  });

  it('a stream masks secrets split across chunks at every cut point, and keeps every other character', () => {
    const r = new Redactor();
    r.addCredential(USER, TOKEN);
    const basic = Buffer.from(`${USER}:${TOKEN}`).toString('base64');
    const text = `start ${TOKEN} mid Authorization: Basic ${basic}\nurl ${encodeURIComponent(TOKEN)} end ✓\n`;
    const expected = r.redact(text);
    expect(expected).not.toContain(TOKEN);
    expect(expected).not.toContain(basic.slice(4, 20));
    for (let cut = 0; cut <= text.length; cut += 3) {
      const stream = r.stream();
      const out = stream.push(text.slice(0, cut)) + stream.push(text.slice(cut)) + stream.end();
      expect(out).toBe(expected);
    }
    // One character at a time.
    const stream = r.stream();
    let out = '';
    for (const char of text) out += stream.push(char);
    expect(out + stream.end()).toBe(expected);
  });

  it('a stream without secrets passes text through unchanged and holds nothing', () => {
    const stream = new Redactor().stream();
    expect(stream.push('abc')).toBe('abc');
    expect(stream.end()).toBe('');
  });
});
