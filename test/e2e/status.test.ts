import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJenkinsSandbox, type JenkinsSandbox } from '../../src/sandbox/jenkins.js';
import { startKubeSandbox, type KubeSandbox } from '../../src/sandbox/kubernetes.js';
import type { StatusReport } from '../../src/status/model.js';
import { createProject } from '../helpers/project.js';
import { parseNdjson, runIac } from '../helpers/run-cli.js';

const TOKEN = 'status0token0abcdef0123456789abc';
const ENV = { IAC_JENKINS_USER: 'ci', IAC_JENKINS_TOKEN: TOKEN };

describe('iac status against the sandboxes', () => {
  let jenkins: JenkinsSandbox;
  let kube: KubeSandbox;

  beforeAll(async () => {
    jenkins = await startJenkinsSandbox({
      users: [{ user: 'ci', token: TOKEN }],
      jobs: {
        'shop/dev': { parameters: ['GIT_SHA'], builds: [{ result: 'SUCCESS' }], history: [{ result: 'SUCCESS', revision: 'a'.repeat(40), ageMs: 120_000 }] },
        'shop/prod': { parameters: ['GIT_SHA'], builds: [{ result: 'SUCCESS' }], history: [{ result: 'FAILURE', ageMs: 3_600_000 }] },
      },
    });
    kube = await startKubeSandbox({
      workloads: [
        { kind: 'deployment', name: 'web', namespace: 'dev', replicas: 2, outcome: 'steady', image: 'registry.example.com/web:v7' },
        { kind: 'deployment', name: 'web', namespace: 'prod', replicas: 3, outcome: 'ImagePullBackOff', stepMs: 50 },
      ],
    });
  });
  afterAll(async () => {
    await jenkins.close();
    await kube.close();
  });

  function project(jenkinsUrl: string) {
    const p = createProject({
      jenkinsUrl,
      environments: {
        dev: { branch: 'develop', jenkins: { job: 'shop/dev' }, kubernetes: { kubeconfig: 'kubeconfig.yaml', namespace: 'dev', workloads: ['deployment/web'] } },
        prod: { branch: 'main', promoteFrom: 'dev', jenkins: { job: 'shop/prod' }, kubernetes: { kubeconfig: 'kubeconfig.yaml', namespace: 'prod', workloads: ['deployment/web'] } },
      },
    });
    writeFileSync(join(p.work, '.gitignore'), 'kubeconfig.yaml\n');
    for (let i = 1; i <= 3; i++) p.commit(`feature-${i}.txt`, `${i}\n`, `feature ${i}`);
    p.git('push', '-q', 'origin', 'develop');
    return p;
  }

  it('shows builds, workloads, and the develop→main divergence with the promote command; a failing workload is exit 40', async () => {
    const p = project(jenkins.url);
    try {
      await kube.kubeconfig(join(p.work, 'kubeconfig.yaml'));
      await new Promise((r) => setTimeout(r, 1500));
      const result = await runIac(['status'], { cwd: p.work, env: ENV });
      expect(result.stderr).toBe('');
      expect(result.stdout).toContain('⚠ 4 commits on develop not yet on main — run: iac promote develop main');
      expect(result.stdout).toMatch(/jenkins\s+#1 SUCCESS\s+2m ago\s+aaaaaaa/);
      expect(result.stdout).toMatch(/jenkins\s+#1 FAILURE/);
      expect(result.stdout).toMatch(/deployment\/web\s+2\/2\s+✔ runs v7/);
      expect(result.stdout).toMatch(/deployment\/web\s+\d\/3\s+✖ runs v2\s+.*ImagePullBackOff/);
      expect(result.code).toBe(40);

      const json = await runIac(['status', '--json'], { cwd: p.work, env: ENV });
      const events = parseNdjson(json.stdout);
      const report = (events.find((e) => e.type === 'data') as { data: StatusReport }).data;
      expect(report.environments.map((e) => e.name)).toEqual(['dev', 'prod']);
      expect(report.environments[1]?.promotion?.value).toMatchObject({ pending: 4, fromBranch: 'develop', command: 'iac promote develop main' });
      expect(report.environments[0]?.workloads?.value?.[0]).toMatchObject({ ref: 'deployment/web', ready: 2, desired: 2, state: 'ready', revision: 'v7' });
      expect(report.environments[1]?.workloads?.value?.[0]?.state).toBe('failing');
      expect(events.at(-1)).toMatchObject({ type: 'result', exitCode: 40 });
      // One LIST per kind per namespace, whatever the number of environments.
      expect(kube.requests.count('list', 'deployments', 'dev')).toBe(2);
    } finally {
      p.cleanup();
    }
  });

  it('Jenkins down: the other cells are filled, Jenkins shows unreachable, exit 4', async () => {
    const p = project('http://127.0.0.1:9/');
    try {
      writeFileSync(join(p.work, 'kubeconfig.yaml'), '');
      await kube.kubeconfig(join(p.work, 'kubeconfig.yaml'));
      const result = await runIac(['status', 'dev'], { cwd: p.work, env: ENV });
      expect(result.code).toBe(4);
      expect(result.stdout).toMatch(/jenkins\s+unreachable: .*127\.0\.0\.1:9/);
      expect(result.stdout).toMatch(/deployment\/web\s+2\/2\s+✔/);
      expect(result.stdout).not.toContain('prod');
    } finally {
      p.cleanup();
    }
  });
});
