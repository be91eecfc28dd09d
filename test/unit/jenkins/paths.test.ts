import { describe, expect, it } from 'vitest';
import {
  describeJob,
  encodeBranchName,
  jobRefFromConfig,
  jobRefUrlPath,
  jobUrlPath,
  normalizeBaseUrl,
  queueIdFromLocation,
  rawEncode,
  resolveUnderBase,
} from '../../../src/jenkins/paths.js';

describe('Jenkins job paths (protocols/jenkins.md §0)', () => {
  it('nests folders as /job/<name>/', () => {
    expect(jobUrlPath('deploy')).toBe('/job/deploy/');
    expect(jobUrlPath('a/b')).toBe('/job/a/job/b/');
    expect(jobUrlPath('/a//b/')).toBe('/job/a/job/b/');
  });

  it('rawEncodes names like Util.rawEncode', () => {
    expect(rawEncode("a-b_c.d!$&'()*+,=@")).toBe("a-b_c.d!$&'()*+,=@");
    expect(rawEncode('my job')).toBe('my%20job');
    expect(rawEncode('a#b?c;d~e')).toBe('a%23b%3Fc%3Bd%7Ee');
    expect(rawEncode('déploiement')).toBe('d%C3%A9ploiement');
  });

  it('double-encodes multibranch branch names (NameEncoder, then rawEncode)', () => {
    expect(jobUrlPath('repo', { multibranchBranch: 'feature/x' })).toBe('/job/repo/job/feature%252Fx/');
    expect(jobUrlPath('repo', { multibranchBranch: 'a%b' })).toBe('/job/repo/job/a%2525b/');
    expect(jobUrlPath('repo', { multibranchBranch: 'master' })).toBe('/job/repo/job/master/');
    expect(encodeBranchName('')).toBe('%00');
    expect(encodeBranchName('.')).toBe('%2E');
    expect(encodeBranchName('..')).toBe('%2E.');
    expect(encodeBranchName('x#[1]?\\')).toBe('x%23%5B1%5D%3F%5C');
    expect(jobRefUrlPath({ path: 'org/repo', branch: 'release/1.0' })).toBe('/job/org/job/repo/job/release%252F1.0/');
  });

  it('keeps the context path of the base URL', () => {
    expect(normalizeBaseUrl('https://host/jenkins')).toBe('https://host/jenkins/');
    expect(resolveUnderBase('https://host/jenkins', jobUrlPath('a/b'))).toBe('https://host/jenkins/job/a/job/b/');
    expect(resolveUnderBase('https://host/jenkins/', 'queue/item/3/api/json')).toBe('https://host/jenkins/queue/item/3/api/json');
    expect(normalizeBaseUrl('https://user:secret@host/')).toBe('https://host/');
  });

  it('takes the queue id from Location only', () => {
    expect(queueIdFromLocation('http://jenkins/queue/item/25/')).toBe(25);
    expect(queueIdFromLocation('https://proxy/jenkins/queue/item/7')).toBe(7);
    expect(queueIdFromLocation('http://jenkins/job/a/')).toBeUndefined();
    expect(queueIdFromLocation(null)).toBeUndefined();
  });

  it('reads the configured multibranch job with branches containing "/"', () => {
    expect(jobRefFromConfig('shop/deploy', false)).toBe('shop/deploy');
    expect(jobRefFromConfig('shop/feature/x', true, 'feature/x')).toEqual({ path: 'shop', branch: 'feature/x' });
    expect(jobRefFromConfig('shop/main', true)).toEqual({ path: 'shop', branch: 'main' });
    expect(describeJob({ path: 'shop', branch: 'feature/x' })).toBe('shop » feature/x');
  });
});
