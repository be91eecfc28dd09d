import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RolloutStatusError, rolloutStatus } from '../../../src/kube/rollout-status.js';
import type { WorkloadObject } from '../../../src/kube/types.js';
import type { WorkloadKind } from '../../../src/kube/workload-ref.js';

const fixture = (name: string): unknown =>
  parse(readFileSync(fileURLToPath(new URL(`../../fixtures/kube/${name}`, import.meta.url)), 'utf8'));

function listItem(name: string, kind: string): WorkloadObject {
  const list = fixture(name) as { items: WorkloadObject[] };
  const item = list.items.find((candidate) => candidate.kind === kind);
  if (item === undefined) throw new Error(`${name} has no ${kind}`);
  return item;
}

/** What kubectl would print: the status line, or `error: <message>` for a viewer error. */
function kubectlOutput(kind: WorkloadKind, object: WorkloadObject, revision?: number): string {
  try {
    const status = rolloutStatus(kind, object, revision);
    return `${status.message}\n${status.done ? 'done' : 'waiting'}`;
  } catch (error) {
    if (error instanceof RolloutStatusError) return `error: ${error.message}`;
    throw error;
  }
}

describe('rolloutStatus: fixtures (expected results from fixtures/kube/SOURCES.md)', () => {
  it.each<[string, WorkloadKind, () => WorkloadObject, string]>([
    [
      'deployment-mid-rollout.yaml',
      'deployment',
      () => fixture('deployment-mid-rollout.yaml') as WorkloadObject,
      'Waiting for deployment "guestbook-ui" rollout to finish: 1 old replicas are pending termination...\nwaiting',
    ],
    [
      'deployment-progress-deadline-exceeded.yaml',
      'deployment',
      () => fixture('deployment-progress-deadline-exceeded.yaml') as WorkloadObject,
      'error: deployment "guestbook-ui" exceeded its progress deadline',
    ],
    [
      'deployment-complete.json',
      'deployment',
      () => fixture('deployment-complete.json') as WorkloadObject,
      'deployment "guestbook-ui" successfully rolled out\ndone',
    ],
    [
      'deployment-list-minimum-replicas-unavailable.yaml',
      'deployment',
      () => listItem('deployment-list-minimum-replicas-unavailable.yaml', 'Deployment'),
      'Waiting for deployment "ruby-deploy" rollout to finish: 0 of 1 updated replicas are available...\nwaiting',
    ],
    [
      'statefulset-mid-rollout.yaml',
      'statefulset',
      () => fixture('statefulset-mid-rollout.yaml') as WorkloadObject,
      'Waiting for 3 pods to be ready...\nwaiting',
    ],
    [
      'statefulset-ondelete.yaml',
      'statefulset',
      () => fixture('statefulset-ondelete.yaml') as WorkloadObject,
      'error: rollout status is only available for RollingUpdate strategy type',
    ],
    [
      'statefulset-status-missing-updatedReplicas.json (defaulted partition 0)',
      'statefulset',
      () => ({
        metadata: { name: 'busybox', generation: 1 },
        spec: { replicas: 1, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } } },
        status: fixture('statefulset-status-missing-updatedReplicas.json') as WorkloadObject['status'],
      }),
      'Waiting for partitioned roll out to finish: 0 out of 1 new pods have been updated...\nwaiting',
    ],
    [
      'daemonset-ondelete.yaml',
      'daemonset',
      () => fixture('daemonset-ondelete.yaml') as WorkloadObject,
      'error: rollout status is only available for RollingUpdate strategy type',
    ],
    [
      'openshift-deploymentconfig-with-rcs.yaml',
      'deploymentconfig',
      () => listItem('openshift-deploymentconfig-with-rcs.yaml', 'DeploymentConfig'),
      'Waiting for rollout to finish: 2 out of 3 new replicas have been updated...\nwaiting',
    ],
  ])('%s', (_name, kind, load, expected) => {
    expect(kubectlOutput(kind, load())).toBe(expected);
  });

  it('the ProgressDeadlineExceeded error is a rollout failure (exit 40)', () => {
    const object = fixture('deployment-progress-deadline-exceeded.yaml') as WorkloadObject;
    expect(() => rolloutStatus('deployment', object)).toThrow(RolloutStatusError);
    try {
      rolloutStatus('deployment', object);
    } catch (error) {
      expect((error as RolloutStatusError).exitCode).toBe(40);
      expect((error as RolloutStatusError).reason).toBe('ProgressDeadlineExceeded');
    }
  });
});

const deployment = (
  generation: number,
  observed: number,
  replicas: number | undefined,
  status: { replicas?: number; updatedReplicas?: number; availableReplicas?: number },
): WorkloadObject => ({
  metadata: { name: 'foo', generation },
  ...(replicas === undefined ? { spec: {} } : { spec: { replicas } }),
  status: { observedGeneration: observed, ...status },
});

describe('rolloutStatus: kubectl v0.20.15 rollout_status_test.go vectors', () => {
  it.each<[string, WorkloadObject, string]>([
    ['test1', deployment(1, 1, 1, { replicas: 1, updatedReplicas: 0 }), 'Waiting for deployment "foo" rollout to finish: 0 out of 1 new replicas have been updated...\nwaiting'],
    ['test2', deployment(1, 1, 1, { replicas: 2, updatedReplicas: 1, availableReplicas: 1 }), 'Waiting for deployment "foo" rollout to finish: 1 old replicas are pending termination...\nwaiting'],
    ['test3', deployment(1, 1, 2, { replicas: 2, updatedReplicas: 2, availableReplicas: 1 }), 'Waiting for deployment "foo" rollout to finish: 1 of 2 updated replicas are available...\nwaiting'],
    ['test4', deployment(1, 1, 2, { replicas: 2, updatedReplicas: 2, availableReplicas: 2 }), 'deployment "foo" successfully rolled out\ndone'],
    ['test5', deployment(2, 1, 2, { replicas: 2, updatedReplicas: 2, availableReplicas: 2 }), 'Waiting for deployment spec update to be observed...\nwaiting'],
    ['nil spec.replicas skips the new-replicas check', deployment(1, 1, undefined, { replicas: 0, updatedReplicas: 0 }), 'deployment "foo" successfully rolled out\ndone'],
    [
      'cmd test: --watch=false prints one line',
      {
        metadata: { name: 'deployment/nginx-deployment', generation: 0 },
        spec: { replicas: 1 },
        status: { replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 0 },
      },
      'Waiting for deployment "deployment/nginx-deployment" rollout to finish: 0 of 1 updated replicas are available...\nwaiting',
    ],
  ])('deployment %s', (_name, object, expected) => {
    expect(kubectlOutput('deployment', object)).toBe(expected);
  });

  it('deployment: only the first Progressing condition counts, and only once observed', () => {
    const stuck = deployment(1, 1, 1, { updatedReplicas: 1, replicas: 1, availableReplicas: 1 });
    stuck.status!.conditions = [
      { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' },
      { type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded' },
    ];
    expect(kubectlOutput('deployment', stuck)).toBe('deployment "foo" successfully rolled out\ndone');
    const unobserved = deployment(2, 1, 1, {});
    unobserved.status!.conditions = [{ type: 'Progressing', reason: 'ProgressDeadlineExceeded' }];
    expect(kubectlOutput('deployment', unobserved)).toBe('Waiting for deployment spec update to be observed...\nwaiting');
  });

  it('deployment --revision pins the revision annotation', () => {
    const object = deployment(1, 1, 1, { replicas: 1, updatedReplicas: 1, availableReplicas: 1 });
    object.metadata!.annotations = { 'deployment.kubernetes.io/revision': '3' };
    expect(kubectlOutput('deployment', object, 3)).toBe('deployment "foo" successfully rolled out\ndone');
    expect(kubectlOutput('deployment', object, 2)).toBe(
      'error: desired revision (2) is different from the running revision (3)',
    );
  });

  const daemonSet = (status: WorkloadObject['status']): WorkloadObject => ({
    metadata: { name: 'foo', generation: 1 },
    spec: { updateStrategy: { type: 'RollingUpdate' } },
    status: { observedGeneration: 1, ...status },
  });
  it.each<[WorkloadObject, string]>([
    [daemonSet({ updatedNumberScheduled: 0, desiredNumberScheduled: 1, numberAvailable: 0 }), 'Waiting for daemon set "foo" rollout to finish: 0 out of 1 new pods have been updated...\nwaiting'],
    [daemonSet({ updatedNumberScheduled: 2, desiredNumberScheduled: 2, numberAvailable: 1 }), 'Waiting for daemon set "foo" rollout to finish: 1 of 2 updated pods are available...\nwaiting'],
    [daemonSet({ updatedNumberScheduled: 2, desiredNumberScheduled: 2, numberAvailable: 2 }), 'daemon set "foo" successfully rolled out\ndone'],
    [{ ...daemonSet({}), metadata: { name: 'foo', generation: 2 } }, 'Waiting for daemon set spec update to be observed...\nwaiting'],
    [{ ...daemonSet({}), spec: { updateStrategy: { type: 'OnDelete' } } }, 'error: rollout status is only available for RollingUpdate strategy type'],
  ])('daemon set vector %#', (object, expected) => {
    expect(kubectlOutput('daemonset', object)).toBe(expected);
  });

  const statefulSet = (
    generation: number,
    spec: WorkloadObject['spec'],
    status: WorkloadObject['status'],
  ): WorkloadObject => ({ metadata: { name: 'foo', generation }, spec, status });
  const rolling = (partition?: number) => ({
    type: 'RollingUpdate',
    rollingUpdate: partition === undefined ? {} : { partition },
  });
  it.each<[WorkloadObject, string]>([
    [statefulSet(1, { replicas: 3, updateStrategy: { type: 'OnDelete' } }, { observedGeneration: 1 }), 'error: rollout status is only available for RollingUpdate strategy type'],
    [statefulSet(2, { replicas: 3, updateStrategy: rolling(0) }, { observedGeneration: 1 }), 'Waiting for statefulset spec update to be observed...\nwaiting'],
    [statefulSet(0, { replicas: 3, updateStrategy: rolling(0) }, { observedGeneration: 0, readyReplicas: 3 }), 'Waiting for statefulset spec update to be observed...\nwaiting'],
    [statefulSet(1, { replicas: 3, updateStrategy: rolling(0) }, { observedGeneration: 1, readyReplicas: 2 }), 'Waiting for 1 pods to be ready...\nwaiting'],
    [statefulSet(1, { replicas: 3, updateStrategy: rolling(2) }, { observedGeneration: 1, readyReplicas: 3, updatedReplicas: 1 }), 'partitioned roll out complete: 1 new pods have been updated...\ndone'],
    [statefulSet(1, { replicas: 3, updateStrategy: rolling(2) }, { observedGeneration: 1, readyReplicas: 3, updatedReplicas: 0 }), 'Waiting for partitioned roll out to finish: 0 out of 1 new pods have been updated...\nwaiting'],
    [statefulSet(1, { replicas: 3, updateStrategy: rolling() }, { observedGeneration: 1, readyReplicas: 3, updatedReplicas: 0 }), 'partitioned roll out complete: 0 new pods have been updated...\ndone'],
    [
      statefulSet(1, { replicas: 3, updateStrategy: { type: 'RollingUpdate' } }, { observedGeneration: 1, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3, currentRevision: 'foo', updateRevision: 'foo' }),
      'statefulset rolling update complete 3 pods at revision foo...\ndone',
    ],
    [
      statefulSet(1, { replicas: 3, updateStrategy: { type: 'RollingUpdate' } }, { observedGeneration: 1, readyReplicas: 3, currentReplicas: 2, updatedReplicas: 1, currentRevision: 'foo', updateRevision: 'bar' }),
      'waiting for statefulset rolling update to complete 1 pods at revision bar...\nwaiting',
    ],
  ])('stateful set vector %#', (object, expected) => {
    expect(kubectlOutput('statefulset', object)).toBe(expected);
  });
});

describe('rolloutStatus: OpenShift DeploymentConfig (oc)', () => {
  const dc = (status: WorkloadObject['status'], triggers = [{ type: 'ConfigChange' }]): WorkloadObject => ({
    metadata: { name: 'example', generation: 2 },
    spec: { replicas: 3, triggers },
    status: { observedGeneration: 2, latestVersion: 2, ...status },
  });
  it.each<[WorkloadObject, number | undefined, string]>([
    [dc({ updatedReplicas: 3, replicas: 3, availableReplicas: 3, conditions: [{ type: 'Progressing', reason: 'NewReplicationControllerAvailable', message: 'replication controller "example-2" successfully rolled out' }] }), undefined, 'replication controller "example-2" successfully rolled out\ndone'],
    [dc({ conditions: [{ type: 'Progressing', reason: 'ProgressDeadlineExceeded', message: 'replication controller "example-2" has failed progressing' }] }), undefined, 'error: replication controller "example-2" has failed progressing'],
    [dc({ conditions: [{ type: 'Progressing', reason: 'RolloutCancelled', message: 'rollout of replication controller "example-2" was cancelled' }] }), undefined, 'error: rollout of replication controller "example-2" was cancelled'],
    [dc({ conditions: [{ type: 'Progressing', reason: 'DeploymentConfigPaused' }] }), undefined, 'error: Deployment config "example" is paused. Resume to continue watching the status of the rollout.'],
    [dc({ updatedReplicas: 3, replicas: 4, availableReplicas: 3 }), undefined, 'Waiting for rollout to finish: 1 old replicas are pending termination...\nwaiting'],
    [dc({ updatedReplicas: 3, replicas: 3, availableReplicas: 1 }), undefined, 'Waiting for rollout to finish: 1 of 3 updated replicas are available...\nwaiting'],
    [dc({ updatedReplicas: 3, replicas: 3, availableReplicas: 3 }), undefined, 'Waiting for latest deployment config spec to be observed by the controller loop...\nwaiting'],
    [dc({ latestVersion: 0 }, [{ type: 'ImageChange' }]), undefined, 'Deployment config "example" waiting on image update\nwaiting'],
    [dc({ latestVersion: 0 }, []), undefined, "error: Deployment config \"example\" waiting on manual update (use 'oc rollout latest example')"],
    [dc({ updatedReplicas: 3 }), 1, 'error: desired revision (1) is different from the running revision (2)'],
  ])('vector %#', (object, revision, expected) => {
    expect(kubectlOutput('deploymentconfig', object, revision)).toBe(expected);
  });
});
