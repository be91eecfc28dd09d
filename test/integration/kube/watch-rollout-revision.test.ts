/**
 * The rollout waits for the run's commit (issue 11): a workload is done when kubectl says so AND its
 * pod template runs the expected SHA (image tag = SHA or a prefix, or the revision annotation).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isIacError } from '../../../src/errors.js';
import { watchRollouts, type RolloutEvent } from '../../../src/kube/watch-rollout.js';
import { startKubeSandbox, type KubeSandbox, type WorkloadScenario } from '../../../src/sandbox/kubernetes.js';

const OLD = '89a72f5c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f50';
const NEW = '3472e6ab9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f';
const THIRD = '1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b';
const image = (sha: string): string => `registry.example.com/web:${sha}`;

let dir: string;
let sandbox: KubeSandbox | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iac-kube-rev-'));
});
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function start(workloads: WorkloadScenario[], openshift = false): Promise<string> {
  sandbox = await startKubeSandbox({ workloads, openshift });
  return sandbox.kubeconfig(join(dir, 'kubeconfig'), { namespace: 'shop' });
}

function collector(): { events: RolloutEvent[]; onEvent: (event: RolloutEvent) => void; statuses: (workload: string) => string[] } {
  const events: RolloutEvent[] = [];
  return {
    events,
    onEvent: (event) => events.push(event),
    statuses: (workload) => events.flatMap((e) => (e.type === 'status' && e.workload === workload ? [e.message] : [])),
  };
}

describe('watchRollouts with the run\'s commit', () => {
  it.each([
    ['deployment', 'web', 'deployment "web" successfully rolled out', false],
    ['statefulset', 'web', 'partitioned roll out complete: 2 new pods have been updated...', false],
    ['daemonset', 'web', 'daemon set "web" successfully rolled out', false],
    ['deploymentconfig', 'web', 'replication controller "web-2" successfully rolled out', true],
  ] as const)('%s still on the previous commit, new image applied 3 s later: waits, then succeeds after the new rollout', async (kind, name, done, openshift) => {
    const kubeconfigPath = await start([{ kind, name, namespace: 'shop', replicas: 2, previousImage: image(OLD), image: image(NEW), startDelayMs: 3000, stepMs: 150 }], openshift);
    const { onEvent, statuses } = collector();
    const outcomes = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: [`${kind}/${name}`], timeoutMs: 30_000, expectedRevision: NEW, onEvent });
    const lines = statuses(`${kind}/${name}`);
    // kubectl alone would have said "done" at once: the old rollout was complete.
    expect(lines[0]).toBe('web runs 89a72f5, waiting for 3472e6a');
    expect(outcomes[0]?.durationMs).toBeGreaterThanOrEqual(2900);
    expect(outcomes[0]?.message).toBe(done);
    expect(outcomes[0]?.verdict).toMatchObject({ state: 'ready', revision: { state: 'ours', running: NEW } });
    // In between, kubectl's own progress lines for the new rollout.
    expect(lines.slice(1, -1).some((line) => line !== lines[0])).toBe(true);
  });

  it('never applied: exit 41 within the deadline, naming both commits and the likely cause', async () => {
    const kubeconfigPath = await start([{ kind: 'deployment', name: 'web', namespace: 'shop', replicas: 2, image: image(OLD), outcome: 'steady' }]);
    const started = Date.now();
    const error = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['deployment/web'], timeoutMs: 2000, expectedRevision: NEW, onEvent: () => {} }).catch((e: unknown) => e);
    expect(isIacError(error) && error.exitCode).toBe(41);
    expect((error as Error).message).toBe(
      'deployment/web still runs 89a72f5, not 3472e6a, after 2s: the manifest for 3472e6a was most likely never applied (check the playbook task or GitOps agent that applies it)',
    );
    expect(isIacError(error) && error.hint).toBe(`kubectl get deployment web -o 'jsonpath={.spec.template.spec.containers[*].image}' -n shop --kubeconfig ${join(dir, 'kubeconfig')}`);
    expect(Date.now() - started).toBeLessThan(2000 + 3000);
  });

  it('already on the short-SHA tag: success at once', async () => {
    const kubeconfigPath = await start([{ kind: 'deployment', name: 'web', namespace: 'shop', replicas: 2, image: `registry.example.com:5000/shop/web:${NEW.slice(0, 7)}`, outcome: 'steady' }]);
    const { events, onEvent } = collector();
    const outcomes = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['deployment/web'], timeoutMs: 10_000, expectedRevision: NEW, onEvent });
    expect(outcomes[0]?.verdict).toMatchObject({ state: 'ready', revision: { state: 'ours', running: NEW.slice(0, 7) } });
    expect(events.filter((e) => e.type === 'status')).toHaveLength(1);
    expect(events.some((e) => e.type === 'warning')).toBe(false);
  });

  it('a prefix shorter than the repository\'s unique prefix does not count', async () => {
    const kubeconfigPath = await start([{ kind: 'deployment', name: 'web', namespace: 'shop', replicas: 1, image: image(NEW.slice(0, 7)), outcome: 'steady' }]);
    const error = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['deployment/web'], timeoutMs: 1500, expectedRevision: NEW, uniquePrefixLength: 9, onEvent: () => {} }).catch((e: unknown) => e);
    expect(isIacError(error) && error.exitCode).toBe(41);
  });

  it('the revision annotation on the pod template names the commit', async () => {
    const kubeconfigPath = await start([{ kind: 'deployment', name: 'web', namespace: 'shop', replicas: 1, image: 'registry.example.com/web:latest', templateAnnotations: { 'iac.dev/revision': NEW }, outcome: 'steady' }]);
    const { events, onEvent } = collector();
    const outcomes = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['deployment/web'], timeoutMs: 10_000, expectedRevision: NEW, revisionAnnotation: 'iac.dev/revision', onEvent });
    expect(outcomes[0]?.verdict?.revision).toEqual({ state: 'ours', running: NEW });
    expect(events.some((e) => e.type === 'warning')).toBe(false);
  });

  it('rolled to a third image during the wait: exit 40 naming it', async () => {
    const kubeconfigPath = await start([{ kind: 'deployment', name: 'web', namespace: 'shop', replicas: 2, image: image(OLD), outcome: 'steady' }]);
    setTimeout(() => sandbox!.setScenario([{ kind: 'deployment', name: 'web', namespace: 'shop', replicas: 2, previousImage: image(OLD), image: image(THIRD), stepMs: 150 }]), 800);
    const error = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['deployment/web'], timeoutMs: 20_000, expectedRevision: NEW, onEvent: () => {} }).catch((e: unknown) => e);
    expect(isIacError(error) && error.exitCode).toBe(40);
    expect((error as Error).message).toBe('deployment/web moved to 1a2b3c4 while iac waited for 3472e6a (it ran 89a72f5 when the wait began): another deploy changed it');
    expect(isIacError(error) && error.hint).toBe(`kubectl rollout history deployment/web -n shop --kubeconfig ${join(dir, 'kubeconfig')}`);
  });

  it('moved away from our commit after reaching it: exit 40', async () => {
    const kubeconfigPath = await start([{ kind: 'deployment', name: 'web', namespace: 'shop', replicas: 2, previousImage: image(OLD), image: image(NEW), outcome: 'stuck', stepMs: 150 }]);
    // Someone else applies another image over ours, as `kubectl set image` would.
    setTimeout(() => {
      const current = structuredClone(sandbox!.store.get('deployments', 'shop', 'web'));
      if (current === undefined) return;
      const template = current.spec?.template as { spec: { containers: { image: string }[] } };
      template.spec.containers[0]!.image = image(THIRD);
      sandbox!.store.put('deployments', current);
    }, 1500);
    const { statuses, onEvent } = collector();
    const error = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['deployment/web'], timeoutMs: 20_000, expectedRevision: NEW, onEvent }).catch((e: unknown) => e);
    expect(isIacError(error) && error.exitCode).toBe(40);
    expect((error as Error).message).toBe('deployment/web moved from 3472e6a to 1a2b3c4 while iac waited for its rollout: another deploy changed it');
    expect(statuses('deployment/web').some((line) => line.startsWith('Waiting for deployment "web" rollout to finish'))).toBe(true);
  });

  it(':latest: kubectl\'s semantics, and ONE warning for all workloads whose commit cannot be read', async () => {
    const kubeconfigPath = await start([
      { kind: 'deployment', name: 'web', namespace: 'shop', replicas: 2, previousImage: 'registry.example.com/web:v1', image: 'registry.example.com/web:latest', stepMs: 100 },
      { kind: 'statefulset', name: 'db', namespace: 'shop', replicas: 1, image: 'postgres@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', outcome: 'steady' },
    ]);
    const { events, onEvent } = collector();
    const outcomes = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['deployment/web', 'statefulset/db'], timeoutMs: 20_000, expectedRevision: NEW, onEvent });
    expect(outcomes.map((o) => o.message)).toEqual(['deployment "web" successfully rolled out', 'partitioned roll out complete: 1 new pods have been updated...']);
    const warnings = events.filter((e): e is Extract<RolloutEvent, { type: 'warning' }> => e.type === 'warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.code).toBe('revision-unknown');
    expect(warnings[0]?.workloads).toEqual(['deployment/web', 'statefulset/db']);
    expect(warnings[0]?.message).toContain('iac cannot tell which commit deployment/web, statefulset/db run');
    expect(warnings[0]?.message).toContain('tag images with the commit SHA (e.g. :3472e6a) or set kubernetes.revisionAnnotation');
  });
});
