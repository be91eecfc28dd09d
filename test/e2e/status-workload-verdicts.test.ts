/**
 * `iac status` judges workloads by the typed verdict shared with the rollout wait, never by the
 * wording of kubectl's message: a StatefulSet mid-update (kubectl's lowercase "waiting for
 * statefulset rolling update…") is progressing, and status exits 0.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSandbox, type KubeSandbox } from '../../src/sandbox/kubernetes.js';
import type { StatusReport } from '../../src/status/model.js';
import { createProject } from '../helpers/project.js';
import { parseNdjson, runIac } from '../helpers/run-cli.js';

describe('iac status: workload verdicts', () => {
  let kube: KubeSandbox;

  beforeAll(async () => {
    // The sandbox's controllers would carry the update on: keep them from acting while the test reads it.
    kube = await startKubeSandbox({ workloads: [], rollout: { stepMs: 3_600_000, observeDelayMs: 3_600_000 } });
    // Mid-update with every pod ready: kubectl's revision branch (updateStrategy without rollingUpdate).
    kube.store.put('statefulsets', {
      metadata: { name: 'db', namespace: 'dev', labels: { app: 'db' } },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'db' } },
        updateStrategy: { type: 'RollingUpdate' },
        template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'registry.example.com/db:v2' }] } },
      },
      status: { observedGeneration: 1, replicas: 3, readyReplicas: 3, currentReplicas: 2, updatedReplicas: 1, currentRevision: 'db-5d8f7c', updateRevision: 'db-6b9e2a' },
    });
  });
  afterAll(async () => {
    await kube.close();
  });

  it('a StatefulSet mid-update shows as progressing with kubectl\'s message, exit 0', async () => {
    const p = createProject({
      environments: { dev: { branch: 'develop', kubernetes: { kubeconfig: 'kubeconfig.yaml', namespace: 'dev', workloads: ['statefulset/db'] } } },
    });
    try {
      writeFileSync(join(p.work, '.gitignore'), 'kubeconfig.yaml\n');
      await kube.kubeconfig(join(p.work, 'kubeconfig.yaml'));
      const json = await runIac(['status', '--json'], { cwd: p.work });
      const events = parseNdjson(json.stdout);
      const report = (events.find((e) => e.type === 'data') as { data: StatusReport }).data;
      expect(report.environments[0]?.workloads?.value?.[0]).toMatchObject({
        ref: 'statefulset/db',
        state: 'progressing',
        message: 'waiting for statefulset rolling update to complete 1 pods at revision db-6b9e2a...',
      });
      expect(json.code).toBe(0);

      const plain = await runIac(['status'], { cwd: p.work });
      expect(plain.code).toBe(0);
      expect(plain.stdout).toMatch(/statefulset\/db\s+3\/3\s+….*waiting for statefulset rolling update to complete 1 pods at revision db-6b9e2a\.\.\./);
    } finally {
      p.cleanup();
    }
  });
});
