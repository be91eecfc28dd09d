import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseNetrc, resolveJenkinsCredentials } from '../../../src/jenkins/credentials.js';

function netrc(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'iac-netrc-')), '.netrc');
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}

describe('resolveJenkinsCredentials', () => {
  const file = netrc(
    [
      'machine git.example.com login gituser password gitpass',
      'macdef init',
      'machine ci.example.com login macro password inside-macro',
      '',
      'machine ci.example.com',
      '  login alice',
      '  password tok-alice',
      'machine ci.example.com:8443 login porty password tok-port',
      'default login anon password tok-default',
    ].join('\n'),
  );

  it('prefers IAC_JENKINS_USER / IAC_JENKINS_TOKEN', () => {
    expect(resolveJenkinsCredentials({ env: { IAC_JENKINS_USER: 'bob', IAC_JENKINS_TOKEN: 'tok-bob' }, url: 'https://ci.example.com/', netrcPath: file })).toEqual({
      user: 'bob',
      token: 'tok-bob',
      source: 'env',
    });
  });

  it('falls back to the ~/.netrc machine of the URL host (skipping macdef bodies)', () => {
    expect(resolveJenkinsCredentials({ env: {}, url: 'https://ci.example.com/jenkins/', netrcPath: file })).toEqual({ user: 'alice', token: 'tok-alice', source: 'netrc' });
    expect(resolveJenkinsCredentials({ env: {}, url: 'https://ci.example.com:8443/', netrcPath: file })).toMatchObject({ user: 'porty' });
    expect(resolveJenkinsCredentials({ env: { IAC_JENKINS_USER: 'half' }, url: 'https://ci.example.com/', netrcPath: file })).toMatchObject({ user: 'alice' });
  });

  it('uses `default` for other hosts, and nothing without a netrc', () => {
    expect(resolveJenkinsCredentials({ env: {}, url: 'https://other.example.com/', netrcPath: file })).toMatchObject({ user: 'anon', token: 'tok-default' });
    expect(resolveJenkinsCredentials({ env: {}, url: 'https://ci.example.com/', netrcPath: '/nonexistent/.netrc' })).toBeUndefined();
  });

  it('parses netrc entries', () => {
    expect(parseNetrc('machine a login u password p account x machine b login v')).toEqual([
      { machine: 'a', login: 'u', password: 'p' },
      { machine: 'b', login: 'v' },
    ]);
  });
});
