/**
 * The sandbox's PATCH semantics, fed the bodies kubectl 1.32 sends (recorded with `-v=8`):
 * `set image`, `rollout restart|pause|resume` (strategic merge), `scale` (merge patch),
 * `rollout undo` (JSON patch); plus the directives and server-side apply's pruning.
 */
import { describe, expect, it } from 'vitest';
import { PatchError, jsonPatch, mergePatch, serverSideApply, strategicMergePatch } from '../../../src/sandbox/kubernetes-patch.js';

const deployment = () => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', annotations: { 'deployment.kubernetes.io/revision': '1' }, finalizers: ['a', 'b'] },
  spec: {
    replicas: 3,
    paused: true,
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          { name: 'app', image: 'web:v1', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], ports: [{ containerPort: 8080 }] },
          { name: 'proxy', image: 'envoy:1' },
        ],
      },
    },
  },
});

describe('strategic merge patch', () => {
  it('kubectl set image: merges containers by name, keeps the others and their order', () => {
    const patch = { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'app' }, { name: 'proxy' }], containers: [{ image: 'web:v2', name: 'app' }] } } } };
    const result = strategicMergePatch(deployment(), patch) as ReturnType<typeof deployment>;
    expect(result.spec.template.spec.containers).toEqual([
      { name: 'app', image: 'web:v2', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], ports: [{ containerPort: 8080 }] },
      { name: 'proxy', image: 'envoy:1' },
    ]);
  });

  it('kubectl rollout restart / pause / resume: a template annotation added, paused set and removed by null', () => {
    const restarted = strategicMergePatch(deployment(), { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-12-02T05:08:05Z' } } } } }) as ReturnType<typeof deployment>;
    expect(restarted.spec.template.metadata).toEqual({ labels: { app: 'web' }, annotations: { 'kubectl.kubernetes.io/restartedAt': '2026-12-02T05:08:05Z' } });
    const resumed = strategicMergePatch(deployment(), { spec: { paused: null } }) as ReturnType<typeof deployment>;
    expect('paused' in resumed.spec).toBe(false);
    expect(resumed.spec.replicas).toBe(3);
  });

  it('$patch: delete removes a keyed item; $patch: replace replaces a map or a list; unknown lists are replaced whole', () => {
    const deleted = strategicMergePatch(deployment(), { spec: { template: { spec: { containers: [{ name: 'app', env: [{ name: 'A', $patch: 'delete' }, { name: 'C', value: '3' }] }] } } } }) as ReturnType<typeof deployment>;
    expect(deleted.spec.template.spec.containers[0]?.env).toEqual([{ name: 'B', value: '2' }, { name: 'C', value: '3' }]);
    const replacedMap = strategicMergePatch(deployment(), { spec: { template: { metadata: { $patch: 'replace', labels: { app: 'other' } } } } }) as ReturnType<typeof deployment>;
    expect(replacedMap.spec.template.metadata).toEqual({ labels: { app: 'other' } });
    const replacedList = strategicMergePatch(deployment(), { spec: { template: { spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'x' }] } } } }) as ReturnType<typeof deployment>;
    expect(replacedList.spec.template.spec.containers).toEqual([{ name: 'only', image: 'x' }]);
    const tolerations = strategicMergePatch({ spec: { tolerations: [{ key: 'a' }] } }, { spec: { tolerations: [{ key: 'b' }] } });
    expect(tolerations).toEqual({ spec: { tolerations: [{ key: 'b' }] } });
  });

  it('container ports merge by containerPort, service ports by port; finalizers merge as a set; $deleteFromPrimitiveList and $retainKeys', () => {
    const ports = strategicMergePatch(deployment(), { spec: { template: { spec: { containers: [{ name: 'app', ports: [{ containerPort: 9090 }] }] } } } }) as ReturnType<typeof deployment>;
    expect(ports.spec.template.spec.containers[0]?.ports).toEqual([{ containerPort: 8080 }, { containerPort: 9090 }]);
    const service = strategicMergePatch({ spec: { ports: [{ port: 80, targetPort: 8080 }] } }, { spec: { ports: [{ port: 80, targetPort: 9090 }] } });
    expect(service).toEqual({ spec: { ports: [{ port: 80, targetPort: 9090 }] } });
    const finalizers = strategicMergePatch(deployment(), { metadata: { finalizers: ['b', 'c'] } }) as ReturnType<typeof deployment>;
    expect(finalizers.metadata.finalizers).toEqual(['a', 'b', 'c']);
    const removed = strategicMergePatch(deployment(), { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }) as ReturnType<typeof deployment>;
    expect(removed.metadata.finalizers).toEqual(['b']);
    const retained = strategicMergePatch({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } } }, { strategy: { $retainKeys: ['type'], type: 'Recreate' } });
    expect(retained).toEqual({ strategy: { type: 'Recreate' } });
  });
});

describe('JSON merge patch and JSON patch', () => {
  it('kubectl scale: {"spec":{"replicas":4}}; null removes; lists are replaced', () => {
    const result = mergePatch(deployment(), { spec: { replicas: 4, paused: null, template: { spec: { containers: [{ name: 'x' }] } } } }) as ReturnType<typeof deployment>;
    expect(result.spec.replicas).toBe(4);
    expect('paused' in result.spec).toBe(false);
    expect(result.spec.template.spec.containers).toEqual([{ name: 'x' }]);
  });

  it('kubectl rollout undo: replace /spec/template and /metadata/annotations', () => {
    const template = { metadata: { creationTimestamp: null, labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'web:v1' }] } };
    const result = jsonPatch(deployment(), [
      { op: 'replace', path: '/spec/template', value: template },
      { op: 'replace', path: '/metadata/annotations', value: { 'deployment.kubernetes.io/revision': '2' } },
    ]) as ReturnType<typeof deployment>;
    expect(result.spec.template).toEqual(template);
    expect(result.metadata.annotations).toEqual({ 'deployment.kubernetes.io/revision': '2' });
  });

  it('add (including "-"), remove, move, copy, test; escaped pointers; failures are PatchErrors', () => {
    const doc = { metadata: { labels: { 'app.kubernetes.io/name': 'web' } }, list: [1, 2] };
    expect(jsonPatch(doc, [{ op: 'add', path: '/list/-', value: 3 }, { op: 'add', path: '/list/0', value: 0 }])).toMatchObject({ list: [0, 1, 2, 3] });
    expect(jsonPatch(doc, [{ op: 'remove', path: '/metadata/labels/app.kubernetes.io~1name' }])).toEqual({ metadata: { labels: {} }, list: [1, 2] });
    expect(jsonPatch(doc, [{ op: 'copy', from: '/list', path: '/copy' }, { op: 'move', from: '/list/0', path: '/first' }])).toEqual({ metadata: doc.metadata, list: [2], copy: [1, 2], first: 1 });
    expect(() => jsonPatch(doc, [{ op: 'test', path: '/list/0', value: 9 }])).toThrow(PatchError);
    expect(() => jsonPatch(doc, [{ op: 'replace', path: '/missing/x', value: 1 }])).toThrow(PatchError);
    expect(() => jsonPatch(doc, { op: 'add' })).toThrow(PatchError);
    // The input is not modified.
    expect(doc.list).toEqual([1, 2]);
  });
});

describe('server-side apply', () => {
  it('merges the applied configuration and drops what the same manager applied before and no longer does', () => {
    const first = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', labels: { a: '1', b: '2' } }, data: { LOG_LEVEL: 'info', REGION: 'eu' } };
    const live = { ...serverSideApply({}, first, undefined) as object, metadata: { name: 'cfg', labels: { a: '1', b: '2', other: 'kept' } } };
    const second = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', labels: { a: '1' } }, data: { LOG_LEVEL: 'debug' } };
    expect(serverSideApply(live, second, first)).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg', labels: { a: '1', other: 'kept' } }, data: { LOG_LEVEL: 'debug' } });
  });

  it('keyed lists: a container the manager stops applying is removed, one another manager added stays', () => {
    const applied = { spec: { containers: [{ name: 'app', image: 'v1' }, { name: 'old', image: 'x' }] } };
    const live = { spec: { containers: [{ name: 'app', image: 'v1' }, { name: 'old', image: 'x' }, { name: 'injected', image: 'sidecar' }] } };
    const next = { spec: { containers: [{ name: 'app', image: 'v2' }] } };
    expect(serverSideApply(live, next, applied)).toEqual({ spec: { containers: [{ name: 'app', image: 'v2' }, { name: 'injected', image: 'sidecar' }] } });
  });
});
