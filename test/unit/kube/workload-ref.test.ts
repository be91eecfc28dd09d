import { describe, expect, it } from 'vitest';
import { WORKLOAD_KINDS, formatWorkloadRef, parseWorkloadRef } from '../../../src/kube/workload-ref.js';

describe('parseWorkloadRef', () => {
  it.each([
    ['deployment/web', 'deployment'],
    ['deploy/web', 'deployment'],
    ['deployments/web', 'deployment'],
    ['Deployment/web', 'deployment'],
    ['deployments.apps/web', 'deployment'],
    ['sts/web', 'statefulset'],
    ['statefulsets/web', 'statefulset'],
    ['ds/web', 'daemonset'],
    ['daemonset/web', 'daemonset'],
    ['dc/web', 'deploymentconfig'],
    ['deploymentconfigs.apps.openshift.io/web', 'deploymentconfig'],
  ])('%s → %s', (text, kind) => {
    expect(parseWorkloadRef(text)).toEqual({ ok: true, ref: { kind, name: 'web' } });
  });

  it('suggests the nearest kind for a typo', () => {
    const result = parseWorkloadRef('deploymnt/web');
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.suggestion).toBe('deployment/web');
    expect(result.error).toContain('did you mean "deployment/web"?');
  });

  it.each(['web', '/web', 'deployment/', 'deployment/a/b', 'deployment/Web_1', 'pod/web'])('rejects %s', (text) => {
    expect(parseWorkloadRef(text).ok).toBe(false);
  });

  it('exports the kinds and formats canonically', () => {
    expect(WORKLOAD_KINDS).toEqual(['deployment', 'statefulset', 'daemonset', 'deploymentconfig']);
    expect(formatWorkloadRef({ kind: 'statefulset', name: 'db' })).toBe('statefulset/db');
  });
});
