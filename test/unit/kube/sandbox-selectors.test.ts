import { describe, expect, it } from 'vitest';
import { SelectorError, matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from '../../../src/sandbox/kubernetes-selectors.js';

describe('sandbox label selectors', () => {
  const labels = { app: 'web', tier: 'front' };
  it.each([
    ['', true],
    ['app=web', true],
    ['app==web,tier=front', true],
    ['app!=web', false],
    ['tier in (front, back)', true],
    ['tier notin (front)', false],
    ['app', true],
    ['!app', false],
    ['missing', false],
  ])('%s → %s', (selector, expected) => {
    expect(matchesLabels(parseLabelSelector(selector), labels)).toBe(expected);
  });
});

describe('sandbox field selectors', () => {
  const event = { metadata: { name: 'e1', namespace: 'shop' }, involvedObject: { kind: 'Pod', name: 'web-1' }, type: 'Warning' };
  it('matches metadata and per-resource fields, = / == / !=', () => {
    expect(matchesFields(parseFieldSelector('metadata.name=e1', 'events'), event)).toBe(true);
    expect(matchesFields(parseFieldSelector('involvedObject.name==web-1,type=Warning', 'events'), event)).toBe(true);
    expect(matchesFields(parseFieldSelector('involvedObject.kind!=Pod', 'events'), event)).toBe(false);
  });
  it('rejects unsupported fields like the API server (400 field label not supported)', () => {
    expect(() => parseFieldSelector('spec.replicas=1', 'deployments')).toThrow(new SelectorError('field label not supported: spec.replicas'));
  });
});
