import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSandbox, type KubeSandbox } from '../../src/sandbox/kubernetes.js';
import type { StatusReport } from '../../src/status/model.js';
import { createProject } from '../helpers/project.js';
import { IAC_BIN } from '../helpers/run-cli.js';

describe('iac status --watch', () => {
  let kube: KubeSandbox;
  beforeAll(async () => {
    kube = await startKubeSandbox({ workloads: [{ kind: 'deployment', name: 'web', namespace: 'shop', replicas: 2, outcome: 'steady', image: 'registry.example.com/web:v1' }] });
  });
  afterAll(async () => kube.close());

  it('redraws when the cluster changes, driven by a Kubernetes watch, and stops cleanly on Ctrl-C', async () => {
    const p = createProject({ environments: { dev: { branch: 'develop', kubernetes: { kubeconfig: 'kubeconfig.yaml', namespace: 'shop', workloads: ['deployment/web'] } } } });
    try {
      writeFileSync(join(p.work, '.gitignore'), 'kubeconfig.yaml\n');
      await kube.kubeconfig(join(p.work, 'kubeconfig.yaml'));
      const child = spawn(process.execPath, [IAC_BIN, 'status', '--watch', '--json'], { cwd: p.work, env: { ...process.env, CI: '' } });
      const reports: StatusReport[] = [];
      let buffer = '';
      let rolledOut = false;
      child.stdout.on('data', (chunk: Buffer) => {
        buffer += chunk.toString();
        const lines = buffer.split('\n');
        buffer = lines.pop() ?? '';
        for (const line of lines) {
          const event = JSON.parse(line) as { type: string; data?: StatusReport };
          if (event.type !== 'data' || !event.data) continue;
          reports.push(event.data);
          const web = event.data.environments[0]?.workloads?.value?.[0];
          if (!rolledOut) {
            rolledOut = true;
            kube.setScenario([{ kind: 'deployment', name: 'web', namespace: 'shop', replicas: 2, stepMs: 100, image: 'registry.example.com/web:v2', previousImage: 'registry.example.com/web:v1' }]);
          } else if (web?.revision === 'v2' && web.state === 'ready') {
            child.kill('SIGINT');
          }
        }
      });
      const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
      expect(reports[0]?.environments[0]?.workloads?.value?.[0]).toMatchObject({ revision: 'v1', state: 'ready' });
      expect(reports.at(-1)?.environments[0]?.workloads?.value?.[0]).toMatchObject({ revision: 'v2', state: 'ready' });
      expect(reports.length).toBeGreaterThanOrEqual(2);
      expect(kube.requests.count('watch', 'deployments', 'shop')).toBeGreaterThanOrEqual(1);
      expect(code).toBe(130);
    } finally {
      p.cleanup();
    }
  });
});
