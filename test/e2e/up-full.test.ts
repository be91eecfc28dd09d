import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startJenkinsSandbox, type JenkinsSandbox } from '../../src/sandbox/jenkins.js';
import { startKubeSandbox, type KubeSandbox } from '../../src/sandbox/kubernetes.js';
import type { WorkloadScenario } from '../../src/sandbox/kubernetes-scenario.js';
import { createProject } from '../helpers/project.js';
import { parseNdjson, runIac } from '../helpers/run-cli.js';
import { toolAvailable } from '../helpers/tools.js';
import { processesMatching } from '../integration/ansible/procs.js';

const TOKEN = 'e2e0token0abcdef0123456789abcdef';

describe.runIf(toolAvailable('ansible-playbook'))('iac up: git → Jenkins → Ansible → rollout', () => {
  let jenkins: JenkinsSandbox | undefined;
  let kube: KubeSandbox | undefined;
  afterEach(async () => {
    await jenkins?.close();
    await kube?.close();
  });

  async function setup(workloads: WorkloadScenario[]) {
    jenkins = await startJenkinsSandbox({
      users: [{ user: 'ci', token: TOKEN }],
      jobs: { 'shop/deploy': { parameters: ['GIT_SHA'], builds: [{ result: 'SUCCESS', durationMs: 200, consoleLines: ['image built'] }] } },
    });
    kube = await startKubeSandbox({ workloads });
    const project = createProject({
      jenkinsUrl: jenkins.url,
      environments: {
        dev: {
          branch: 'develop',
          jenkins: { job: 'shop/deploy', parameters: { GIT_SHA: '${git.sha}' }, pollInterval: '50ms' },
          ansible: { playbook: 'deploy/site.yml', inventory: 'deploy/hosts.ini', extraVars: { image_tag: '${git.sha}' } },
          kubernetes: { kubeconfig: 'kubeconfig.yaml', namespace: 'shop', workloads: workloads.map((w) => `${w.kind}/${w.name}`), timeout: '30s', crashLoopGrace: '2s' },
        },
      },
    });
    mkdirSync(join(project.work, 'deploy'));
    writeFileSync(join(project.work, 'deploy/hosts.ini'), 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n');
    writeFileSync(join(project.work, 'deploy/site.yml'), '- hosts: all\n  gather_facts: false\n  tasks:\n    - name: Render manifests\n      ansible.builtin.debug: { msg: "{{ image_tag }}" }\n');
    writeFileSync(join(project.work, '.gitignore'), 'kubeconfig.yaml\n');
    await kube.kubeconfig(join(project.work, 'kubeconfig.yaml'), { namespace: 'shop' });
    project.git('add', '.');
    project.git('commit', '-q', '-m', 'deploy files');
    return project;
  }

  it('runs every step and exits 0, with kubectl\'s final message per workload', async () => {
    const project = await setup([
      { kind: 'deployment', name: 'web', namespace: 'shop', replicas: 2, stepMs: 100 },
      { kind: 'statefulset', name: 'db', namespace: 'shop', replicas: 2, stepMs: 100 },
    ]);
    try {
      const result = await runIac(['up', '--json'], { cwd: project.work, env: { IAC_JENKINS_USER: 'ci', IAC_JENKINS_TOKEN: TOKEN } });
      const events = parseNdjson(result.stdout);
      expect(events.at(-1)).toMatchObject({ type: 'result', exitCode: 0 });
      expect(result.code).toBe(0);
      const finished = events.filter((e) => e.type === 'step.finished').map((e) => [e.step, e.outcome]);
      expect(finished).toEqual([
        ['git', 'success'],
        ['jenkins', 'success'],
        ['ansible', 'success'],
        ['rollout', 'success'],
      ]);
      const subtaskMessages = events.filter((e) => (e.type === 'step.progress' || e.type === 'step.subtask') && e.subtask !== undefined).map((e) => `${e.subtask}: ${e.message}`);
      expect(subtaskMessages).toContain('deployment/web: deployment "web" successfully rolled out');
      expect(subtaskMessages.some((m) => m.startsWith('statefulset/db: '))).toBe(true);
      expect(result.stdout).not.toContain(TOKEN);
      // The rollout started at Ansible's clean final stats, while ansible-playbook was still exiting:
      // iac waited for it before exiting — the log is complete and no Ansible process is left.
      const runs = join(project.work, '.iac', 'runs');
      const log = readFileSync(join(runs, readdirSync(runs).sort().at(-1) as string, 'ansible.log'), 'utf8');
      expect(log).toMatch(/PLAY RECAP \*+\nlocalhost +: ok=1 +changed=0/);
      expect(processesMatching(project.work).filter((proc) => proc.cmdline.includes('ansible-playbook'))).toEqual([]);
    } finally {
      project.cleanup();
    }
  });

  it('ImagePullBackOff fails the rollout with exit 40, naming the image, with the pod diagnostics', async () => {
    const project = await setup([{ kind: 'deployment', name: 'web', namespace: 'shop', replicas: 2, stepMs: 100, image: 'registry.example.com/web:does-not-exist', outcome: 'ImagePullBackOff' }]);
    try {
      const result = await runIac(['up'], { cwd: project.work, env: { IAC_JENKINS_USER: 'ci', IAC_JENKINS_TOKEN: TOKEN } });
      expect(result.code).toBe(40);
      expect(result.stderr).toContain('registry.example.com/web:does-not-exist');
      expect(result.stderr).toContain('ImagePullBackOff');
      expect(result.stdout).toMatch(/rollout\s+\S+\s+/);
    } finally {
      project.cleanup();
    }
  });
});
