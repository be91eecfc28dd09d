import { describe, expect, it } from 'vitest';
import type { WorkloadObject } from '../../../src/kube/types.js';
import { judgeWorkload, kubectlVerdict, newRevisionHistory } from '../../../src/kube/verdict.js';

const OLD = '89a72f5c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f50';
const NEW = '3472e6ab9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f';
const THIRD = '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b';

/** A Deployment of 2 running `image`, rolled out (or not) as kubectl would judge it. */
function deployment(image: string, rolledOut = true): WorkloadObject {
  return {
    metadata: { name: 'web', generation: 2 },
    spec: { replicas: 2, template: { spec: { containers: [{ name: 'app', image }] } } },
    status: { observedGeneration: 2, replicas: 2, updatedReplicas: rolledOut ? 2 : 1, availableReplicas: rolledOut ? 2 : 1 },
  };
}

const web = { kind: 'deployment' as const, name: 'web' };

describe('kubectlVerdict: kubectl\'s (message, done, error) as a value', () => {
  it('a StatefulSet mid-update (lowercase "waiting for statefulset rolling update…") is progressing, not an error', () => {
    const sts: WorkloadObject = {
      metadata: { name: 'db', generation: 3 },
      spec: { replicas: 3, updateStrategy: { type: 'RollingUpdate' } },
      status: { observedGeneration: 3, readyReplicas: 3, updatedReplicas: 1, currentRevision: 'db-1', updateRevision: 'db-2' },
    };
    expect(kubectlVerdict('statefulset', sts)).toEqual({ message: 'waiting for statefulset rolling update to complete 1 pods at revision db-2...', done: false });
    expect(judgeWorkload({ kind: 'statefulset', name: 'db' }, sts).state).toBe('progressing');
  });

  it('a viewer error is carried with its reason', () => {
    const stuck: WorkloadObject = { ...deployment('app:v1', false), status: { observedGeneration: 2, conditions: [{ type: 'Progressing', reason: 'ProgressDeadlineExceeded' }] } };
    expect(kubectlVerdict('deployment', stuck)).toEqual({
      message: 'deployment "web" exceeded its progress deadline',
      done: false,
      error: { reason: 'ProgressDeadlineExceeded', message: 'deployment "web" exceeded its progress deadline' },
    });
    expect(judgeWorkload(web, stuck).state).toBe('failing');
  });

  it('OnDelete: failing for a rollout (kubectl refuses it), ready on a status screen when every pod is ready', () => {
    const onDelete: WorkloadObject = { metadata: { name: 'agent' }, spec: { updateStrategy: { type: 'OnDelete' } }, status: { numberReady: 2, desiredNumberScheduled: 2 } };
    const ds = { kind: 'daemonset' as const, name: 'agent' };
    expect(judgeWorkload(ds, onDelete).state).toBe('failing');
    expect(judgeWorkload(ds, onDelete, { readyWhenUnsupported: { ready: 2, desired: 2 } }).state).toBe('ready');
    expect(judgeWorkload(ds, onDelete, { readyWhenUnsupported: { ready: 1, desired: 2 } }).state).toBe('failing');
  });
});

describe('judgeWorkload with the run\'s commit', () => {
  const expected = { sha: NEW };

  it('no expected commit: kubectl\'s semantics alone (revision unchecked)', () => {
    expect(judgeWorkload(web, deployment(`app:${OLD}`))).toMatchObject({ state: 'ready', revision: { state: 'unchecked' }, message: 'deployment "web" successfully rolled out' });
  });

  it('rolled out on the previous commit: progressing with "runs X, waiting for Y"', () => {
    const verdict = judgeWorkload(web, deployment(`registry:5000/app:${OLD}`), { expected, history: newRevisionHistory() });
    expect(verdict).toMatchObject({ state: 'progressing', message: 'web runs 89a72f5, waiting for 3472e6a', revision: { state: 'previous', running: OLD } });
    expect(verdict.kubectl.done).toBe(true);
  });

  it('our commit by full SHA, by a 7+ prefix, case-insensitively; done only when kubectl is done too', () => {
    for (const tag of [NEW, NEW.slice(0, 7), NEW.slice(0, 12).toUpperCase()]) {
      expect(judgeWorkload(web, deployment(`app:${tag}`), { expected }).state).toBe('ready');
    }
    expect(judgeWorkload(web, deployment(`app:${NEW}`, false), { expected }).state).toBe('progressing');
    // Too short, or shorter than the repository's unique prefix: not ours.
    expect(judgeWorkload(web, deployment(`app:${NEW.slice(0, 6)}`), { expected }).revision.state).not.toBe('ours');
    expect(judgeWorkload(web, deployment(`app:${NEW.slice(0, 7)}`), { expected: { sha: NEW, minPrefixLength: 9 } }).revision.state).toBe('previous');
  });

  it('the annotation on the workload (else its pod template) names the commit', () => {
    const annotated: WorkloadObject = { ...deployment('app:latest'), metadata: { name: 'web', generation: 2, annotations: { 'iac.dev/revision': NEW.slice(0, 10) } } };
    expect(judgeWorkload(web, annotated, { expected: { sha: NEW, annotation: 'iac.dev/revision' } }).revision).toEqual({ state: 'ours', running: NEW.slice(0, 10) });
    const inTemplate = deployment('app:latest');
    inTemplate.spec!.template!.metadata = { annotations: { 'iac.dev/revision': OLD } };
    expect(judgeWorkload(web, inTemplate, { expected: { sha: NEW, annotation: 'iac.dev/revision' } }).revision.state).toBe('previous');
  });

  it('a third commit, or away from ours after reaching it: failing (moved)', () => {
    const history = newRevisionHistory();
    judgeWorkload(web, deployment(`app:${OLD}`), { expected, history });
    const third = judgeWorkload(web, deployment(`app:${THIRD}`, false), { expected, history });
    expect(third).toMatchObject({ state: 'failing', revision: { state: 'moved', startedOn: OLD, leftOurs: false } });
    expect(third.message).toBe('web moved to 1a2b3c4 while iac waited for 3472e6a (it ran 89a72f5 when the wait began)');

    const reached = newRevisionHistory();
    judgeWorkload(web, deployment(`app:${OLD}`), { expected, history: reached });
    judgeWorkload(web, deployment(`app:${NEW}`, false), { expected, history: reached });
    const back = judgeWorkload(web, deployment(`app:${OLD}`), { expected, history: reached });
    expect(back).toMatchObject({ state: 'failing', revision: { state: 'moved', leftOurs: true }, message: 'web moved from 3472e6a to 89a72f5 while iac waited for its rollout' });
  });

  it('nothing readable (:latest, digest only, v2, a build number): kubectl\'s semantics, revision unknown', () => {
    for (const image of ['app:latest', 'app', 'app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', 'app:v2', 'app:20240101']) {
      expect(judgeWorkload(web, deployment(image), { expected })).toMatchObject({ state: 'ready', revision: { state: 'unknown', images: [image] } });
    }
  });

  it('a sidecar with a version tag does not hide the app container\'s commit', () => {
    const two = deployment(`app:${NEW}`);
    two.spec!.template!.spec!.containers!.unshift({ name: 'proxy', image: 'envoyproxy/envoy:v1.30.1' });
    expect(judgeWorkload(web, two, { expected }).revision.state).toBe('ours');
  });
});
