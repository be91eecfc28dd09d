import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubeSandbox, type KubeSandbox } from '../../src/sandbox/kubernetes.js';
import type { StatusReport } from '../../src/status/model.js';
import { createProject } from '../helpers/project.js';
import { IAC_BIN } from '../helpers/run-cli.js';
import { toolAvailable } from '../helpers/tools.js';
import { execFileSync } from 'node:child_process';

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

  function steadyProject() {
    const p = createProject({ environments: { dev: { branch: 'develop', kubernetes: { kubeconfig: 'kubeconfig.yaml', namespace: 'steady', workloads: ['deployment/api'] } } } });
    writeFileSync(join(p.work, '.gitignore'), 'kubeconfig.yaml\n');
    return p;
  }

  it('--json prints a data event only when something changed: none for a poll round where nothing did', async () => {
    const p = steadyProject();
    const steady = await startKubeSandbox({ workloads: [{ kind: 'deployment', name: 'api', namespace: 'steady', replicas: 1, outcome: 'steady' }] });
    try {
      await steady.kubeconfig(join(p.work, 'kubeconfig.yaml'));
      const child = spawn(process.execPath, [IAC_BIN, 'status', '--watch', '--json'], { cwd: p.work, env: { ...process.env, CI: '' } });
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      // Two poll rounds (5 s each) go by with nothing changing anywhere.
      await new Promise((resolve) => setTimeout(resolve, 11_000));
      child.kill('SIGINT');
      await new Promise((resolve) => child.on('close', resolve));
      const data = out.split('\n').filter((line) => line.includes('"type":"data"'));
      expect(data).toHaveLength(1);
    } finally {
      await steady.close();
      p.cleanup();
    }
  });

  it.runIf(toolAvailable('tmux'))('on a terminal it redraws in place: after Ctrl-C the scrollback holds the last frame once', async () => {
    const p = steadyProject();
    const steady = await startKubeSandbox({ workloads: [{ kind: 'deployment', name: 'api', namespace: 'steady', replicas: 1, outcome: 'steady' }] });
    const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', 'iac-watch-test', ...args], { encoding: 'utf8' });
    try {
      await steady.kubeconfig(join(p.work, 'kubeconfig.yaml'));
      tmux('new-session', '-d', '-s', 'watch', '-x', '100', '-y', '30', `cd '${p.work}' && env CI= '${process.execPath}' '${IAC_BIN}' status --watch; echo "EXIT=$?"; sleep 30`);
      await new Promise((resolve) => setTimeout(resolve, 11_000));
      tmux('send-keys', '-t', 'watch', 'C-c');
      let text = '';
      for (let i = 0; i < 50 && !/EXIT=\d+/.test(text); i++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        text = tmux('capture-pane', '-p', '-J', '-S', '-', '-t', 'watch');
      }
      expect(text).toContain('EXIT=130');
      expect(text.split('\n').filter((line) => line.startsWith('shop — status at'))).toHaveLength(1);
      expect(text.split('\n').filter((line) => line.includes('deployment/api'))).toHaveLength(1);
    } finally {
      try {
        tmux('kill-server');
      } catch {
        // already gone
      }
      await steady.close();
      p.cleanup();
    }
  });
});
