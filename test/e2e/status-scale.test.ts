import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startKubeSandbox, type KubeSandbox, type WorkloadScenario } from '../../src/sandbox/kubernetes.js';
import type { StatusReport } from '../../src/status/model.js';
import { createProject } from '../helpers/project.js';
import { parseNdjson, runIac } from '../helpers/run-cli.js';

/**
 * DESIGN.md "status over 300 workloads in 3 namespaces: one LIST per kind per namespace". Three
 * environments × 100 workloads of three kinds; in prod two deployments cannot pull their image,
 * so exactly that namespace also needs its one pod LIST (list-workloads.ts `diagnosePods`).
 */
const NAMESPACES = { dev: 'develop', staging: 'staging', prod: 'main' } as const;
const KINDS = [
  { kind: 'deployment', resource: 'deployments', prefix: 'web', count: 60 },
  { kind: 'statefulset', resource: 'statefulsets', prefix: 'db', count: 30 },
  { kind: 'daemonset', resource: 'daemonsets', prefix: 'agent', count: 10 },
] as const;
const FAILING = new Set(['prod/deployment/web-07', 'prod/deployment/web-42']);
const PER_NAMESPACE = KINDS.reduce((n, k) => n + k.count, 0);

function workloadsOf(namespace: string): WorkloadScenario[] {
  return KINDS.flatMap(({ kind, prefix, count }) =>
    Array.from({ length: count }, (_, i): WorkloadScenario => {
      const name = `${prefix}-${String(i).padStart(2, '0')}`;
      const failing = FAILING.has(`${namespace}/${kind}/${name}`);
      return { kind, name, namespace, replicas: 1, stepMs: 50, outcome: failing ? 'ImagePullBackOff' : 'steady' };
    }),
  );
}

const refsOf = (namespace: string): string[] => workloadsOf(namespace).map((w) => `${w.kind}/${w.name}`);

describe('iac status over 300 workloads in 3 namespaces', () => {
  let kube: KubeSandbox;

  beforeAll(async () => {
    kube = await startKubeSandbox({ workloads: Object.keys(NAMESPACES).flatMap(workloadsOf) });
    // Wait until the failing pods have reached ImagePullBackOff, so the verdict does not depend on timing.
    await vi.waitFor(
      () => {
        const backOff = kube.store.list('pods', 'prod').filter((pod) => JSON.stringify(pod.status ?? {}).includes('"ImagePullBackOff"'));
        expect(backOff.length).toBeGreaterThanOrEqual(FAILING.size);
      },
      { timeout: 10_000, interval: 50 },
    );
  });
  afterAll(async () => {
    await kube.close();
  });

  it('reports all 300 with one LIST per kind per namespace, and one pod LIST only where something is not ready', async () => {
    const p = createProject({
      environments: Object.fromEntries(
        Object.entries(NAMESPACES).map(([namespace, branch]) => [
          namespace,
          { branch, kubernetes: { kubeconfig: 'kubeconfig.yaml', namespace, workloads: refsOf(namespace) } },
        ]),
      ),
    });
    try {
      p.git('branch', 'staging');
      p.git('push', '-q', 'origin', 'staging');
      await kube.kubeconfig(join(p.work, 'kubeconfig.yaml'));
      kube.requests.reset();

      const result = await runIac(['status', '--json'], { cwd: p.work });
      expect(result.stderr).toBe('');
      const events = parseNdjson(result.stdout);
      const report = (events.find((e) => e.type === 'data') as { data: StatusReport }).data;

      expect(report.environments.map((e) => e.name)).toEqual(Object.keys(NAMESPACES));
      const all = report.environments.flatMap((env) => (env.workloads?.value ?? []).map((w) => ({ ...w, namespace: env.name })));
      expect(all).toHaveLength(3 * PER_NAMESPACE);
      for (const env of report.environments) {
        expect(env.workloads?.state).toBe('ok');
        expect(env.workloads?.value?.map((w) => w.ref)).toEqual(refsOf(env.name));
      }
      expect(all.every((w) => w.found)).toBe(true);
      const failing = all.filter((w) => w.state !== 'ready').map((w) => `${w.namespace}/${w.ref}`);
      expect(failing.sort()).toEqual([...FAILING].sort());
      expect(all.filter((w) => w.state === 'failing').every((w) => w.message.includes('ImagePullBackOff'))).toBe(true);
      expect(report.exitCode).toBe(40);
      expect(events.at(-1)).toMatchObject({ type: 'result', exitCode: 40 });
      expect(result.code).toBe(40);

      // The request counter: per namespace one LIST per kind, one pod LIST where a workload is not
      // ready, one GET of the environment's deploy lease (who deploys now) — and nothing else (no GET
      // per workload, no watch).
      const expected: string[] = [];
      for (const namespace of Object.keys(NAMESPACES)) {
        expected.push(`get leases ${namespace}`);
        for (const { resource } of KINDS) {
          expect(kube.requests.count('list', resource, namespace), `${resource} in ${namespace}`).toBe(1);
          expected.push(`list ${resource} ${namespace}`);
        }
        const notReady = all.some((w) => w.namespace === namespace && w.state !== 'ready');
        expect(kube.requests.count('list', 'pods', namespace), `pods in ${namespace}`).toBe(notReady ? 1 : 0);
        if (notReady) expected.push(`list pods ${namespace}`);
      }
      const seen = kube.requests.log.map((r) => `${r.verb} ${r.resource} ${r.namespace ?? ''}`);
      expect(seen.sort()).toEqual(expected.sort());
    } finally {
      p.cleanup();
    }
  });
});
