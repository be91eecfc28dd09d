import { describe, expect, it } from 'vitest';
import { imageTag, namesCommit, runningRevision, templateRevision } from '../../../src/kube/revision.js';

describe('imageTag', () => {
  it.each([
    ['registry.example.com:5000/team/app:1.2.3', '1.2.3'],
    ['app:abc123', 'abc123'],
    ['registry.example.com:5000/team/app', 'latest'],
    ['app@sha256:0123', 'sha256:0123'],
    ['app:v2@sha256:0123', 'v2'],
  ])('%s → %s', (image, tag) => {
    expect(imageTag(image)).toBe(tag);
  });
});

describe('runningRevision', () => {
  const object = {
    metadata: { annotations: { 'iac/revision': 'abc' } },
    spec: { template: { metadata: { annotations: { 'iac/sha': 'def' } }, spec: { containers: [{ name: 'a', image: 'app:9f8e7d' }] } } },
  };
  it('uses the annotation (workload, then pod template) when configured, else the image tag', () => {
    expect(runningRevision(object, 'iac/revision')).toBe('abc');
    expect(runningRevision(object, 'iac/sha')).toBe('def');
    expect(runningRevision(object, 'missing')).toBeUndefined();
    expect(runningRevision(object)).toBe('9f8e7d');
    expect(runningRevision({})).toBeUndefined();
  });
});

describe('templateRevision / namesCommit', () => {
  const sha = '3472e6ab9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f';
  const withImages = (...images: string[]) => ({ spec: { template: { spec: { containers: images.map((image, i) => ({ name: `c${i}`, image })) } } } });

  it('a tag equal to the SHA or a prefix of at least 7 (and the repository\'s unique length) names it', () => {
    expect(namesCommit(sha, sha)).toBe(true);
    expect(namesCommit(sha.slice(0, 7), sha)).toBe(true);
    expect(namesCommit(sha.slice(0, 6), sha)).toBe(false);
    expect(namesCommit(sha.slice(0, 8), sha, 9)).toBe(false);
    expect(namesCommit('3472e6b', sha)).toBe(false);
  });

  it('reads ours, another commit, or nothing', () => {
    expect(templateRevision(withImages(`r.example.com:5000/a/web:${sha.slice(0, 7)}`), { sha })).toEqual({ readable: true, value: sha.slice(0, 7), ours: true, source: 'image' });
    expect(templateRevision(withImages('web:89a72f5'), { sha })).toEqual({ readable: true, value: '89a72f5', ours: false, source: 'image' });
    expect(templateRevision(withImages('web:latest', 'sidecar:1.2.3'), { sha })).toEqual({ readable: false, images: ['web:latest', 'sidecar:1.2.3'] });
    // An all-digit tag is a build number unless it names our commit.
    expect(templateRevision(withImages('web:12345678'), { sha }).readable).toBe(false);
  });
});
