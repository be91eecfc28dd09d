import { describe, expect, it } from 'vitest';
import { imageTag, runningRevision } from '../../../src/kube/revision.js';

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
