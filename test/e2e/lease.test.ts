import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJenkinsSandbox, type JenkinsSandbox } from '../../src/sandbox/jenkins.js';
import { startKubeSandbox, type KubeSandbox } from '../../src/sandbox/kubernetes.js';
import { createProject } from '../helpers/project.js';
import { IAC_BIN, runIac } from '../helpers/run-cli.js';
import { toolAvailable } from '../helpers/tools.js';
import { until } from '../helpers/until.js';

const USER = 'deployer';
const TOKEN = '1ea5ef0c0ffee1234567890abcdef1ea';
const ENV = { IAC_JENKINS_USER: USER, IAC_JENKINS_TOKEN: TOKEN };

/**
 * One deploy per environment at a time, with real git, real ansible-playbook and the sandboxes: two
 * runs started together never overlap (the second refuses, or waits with --wait-lock), a lease whose
 * holder was SIGKILLed expires, and `iac unlock` breaks one.
 */
describe.runIf(toolAvailable('ansible-playbook'))('one run per environment', () => {
  let jenkins: JenkinsSandbox;
  let kube: KubeSandbox | undefined;

  beforeAll(async () => {
    jenkins = await startJenkinsSandbox({
      users: [{ user: USER, token: TOKEN }],
      jobs: { 'shop/deploy': { parameters: ['GIT_SHA'], builds: [{ result: 'SUCCESS', durationMs: 1500 }] } },
    });
  });
  afterAll(async () => {
    await jenkins.close();
    await kube?.close();
  });

  /** The playbook writes `start`/`end` around a second of work into `plays.log`: overlapping runs interleave. */
  function project(options: { kubernetes?: boolean; leaseDuration?: string } = {}) {
    const p = createProject({
      jenkinsUrl: jenkins.url,
      environments: {
        dev: {
          branch: 'develop',
          jenkins: { job: 'shop/deploy', parameters: { GIT_SHA: '${git.sha}' }, pollInterval: '100ms' },
          ansible: { playbook: 'deploy/site.yml', inventory: 'deploy/hosts.ini', extraVars: { record: 'RECORD' } },
          ...(options.kubernetes ? { kubernetes: { kubeconfig: 'kubeconfig.yaml', namespace: 'shop', workloads: ['deployment/web'], timeout: '60s' } } : {}),
        },
      },
    });
    const record = join(p.root, 'plays.log');
    let config = readFileSync(join(p.work, 'iac.yaml'), 'utf8').replace('RECORD', record);
    if (options.leaseDuration) config += `lease: { duration: ${options.leaseDuration} }\n`;
    writeFileSync(join(p.work, 'iac.yaml'), config);
    mkdirSync(join(p.work, 'deploy'));
    writeFileSync(join(p.work, 'deploy/hosts.ini'), 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n');
    writeFileSync(
      join(p.work, 'deploy/site.yml'),
      `- hosts: all\n  gather_facts: false\n  tasks:\n    - name: Deploy\n      ansible.builtin.shell: echo start >> "{{ record }}"; sleep 1; echo end >> "{{ record }}"\n`,
    );
    writeFileSync(join(p.work, '.gitignore'), 'kubeconfig.yaml\n');
    p.git('add', '.');
    p.git('commit', '-q', '-m', 'deploy with iac');
    return { ...p, plays: (): string[] => (existsSync(record) ? readFileSync(record, 'utf8').trim().split('\n') : []) };
  }

  async function withCluster(p: ReturnType<typeof project>): Promise<void> {
    const sha = p.git('rev-parse', 'HEAD');
    await kube?.close();
    kube = await startKubeSandbox({ workloads: [{ kind: 'deployment', name: 'web', namespace: 'shop', replicas: 1, outcome: 'steady', image: `registry.example.com/web:${sha}` }] });
    await kube.kubeconfig(join(p.work, 'kubeconfig.yaml'), { namespace: 'shop' });
  }

  for (const store of ['git', 'kubernetes'] as const) {
    it(`two \`iac up dev\` started together (lease as ${store === 'git' ? 'a ref on the remote' : 'a Kubernetes Lease'}): one deploys, the other refuses with exit 3 naming it; with --wait-lock they take turns`, async () => {
      const p = project({ kubernetes: store === 'kubernetes' });
      try {
        if (store === 'kubernetes') await withCluster(p);
        const before = jenkins.triggers.length;
        const [a, b] = await Promise.all([runIac(['up'], { cwd: p.work, env: ENV }), runIac(['up'], { cwd: p.work, env: ENV })]);
        const codes = [a.code, b.code].sort();
        expect(codes).toEqual([0, 3]);
        const refused = a.code === 3 ? a : b;
        expect(refused.stderr).toMatch(/dev is being deployed by Test Author <author@example\.test> on \S+ \(iac up dev of [0-9a-f]{7}, since/);
        expect(refused.stderr).toContain(store === 'git' ? 'lease: origin refs/iac/locks/dev' : 'lease: Lease iac-dev in namespace shop');
        expect(refused.stderr).toContain('wait for it with --wait-lock 10m');
        expect(jenkins.triggers.length - before).toBe(1);
        expect(p.plays()).toEqual(['start', 'end']);

        const [c, d] = await Promise.all([
          runIac(['up', '--wait-lock', '2m'], { cwd: p.work, env: ENV }),
          runIac(['up', '--wait-lock', '2m'], { cwd: p.work, env: ENV }),
        ]);
        expect([c.code, d.code]).toEqual([0, 0]);
        expect((c.stdout + d.stdout).match(/waiting for dev: .* is deploying it/g)).toHaveLength(1);
        expect(jenkins.triggers.length - before).toBe(3);
        // The playbooks ran one after the other: never two starts in a row.
        expect(p.plays()).toEqual(['start', 'end', 'start', 'end', 'start', 'end']);
      } finally {
        p.cleanup();
      }
    });
  }

  /** A lease held by a run on another machine, written to the remote as iac writes it. */
  function foreignLease(p: ReturnType<typeof project>, durationMs: number): void {
    const now = new Date().toISOString();
    const holder = { user: 'Ana Lima <ana@example.com>', host: 'build-agent-7', pid: 4242, command: 'up', environment: 'dev', commit: 'c0ffee1'.padEnd(40, '0'), run: '2026-12-02T09-00-00Z', since: now, renewedAt: now, durationMs };
    const sha = p.git('commit-tree', '4b825dc642cb6eb9a060e54bf8d69288fbee4904', '-m', JSON.stringify(holder));
    p.git('push', '-q', 'origin', `${sha}:refs/iac/locks/dev`);
  }

  it('a run killed here frees its environment at once; a holder on another machine that stops renewing expires; `iac unlock` breaks a lease', async () => {
    const p = project({ leaseDuration: '4s' });
    try {
      const first = spawn(process.execPath, [IAC_BIN, 'up'], { cwd: p.work, env: { ...process.env, ...ENV, CI: '' }, stdio: 'ignore' });
      await until(() => p.git('ls-remote', 'origin', 'refs/iac/locks/dev') !== '', 'the first run to take the lease');
      first.kill('SIGKILL');
      await new Promise((resolve) => first.on('close', resolve));
      const stale = await runIac(['status', 'dev'], { cwd: p.work, env: ENV });
      expect(stale.stdout).toMatch(/! dev: the deploy lease of Test Author's up of [0-9a-f]{7} is stale \(its run died\); the next run takes it over/);
      const next = await runIac(['up'], { cwd: p.work, env: ENV });
      expect(next.stderr).toBe('');
      expect(next.code).toBe(0);
      expect(p.git('ls-remote', 'origin', 'refs/iac/locks/dev')).toBe('');

      // Another machine's run holds it: refused, shown in status; once it stops renewing, it expires.
      foreignLease(p, 4000);
      const refused = await runIac(['up'], { cwd: p.work, env: ENV });
      expect(refused.code).toBe(3);
      expect(refused.stderr).toContain('dev is being deployed by Ana Lima <ana@example.com> on build-agent-7 (iac up dev of c0ffee1');
      const held = await runIac(['status', 'dev'], { cwd: p.work, env: ENV });
      expect(held.stdout).toMatch(/… dev is being deployed: up of c0ffee1 by Ana Lima on build-agent-7 since \d\d:\d\d UTC — iac unlock dev only if that run is dead/);
      await new Promise((resolve) => setTimeout(resolve, 4500));
      const afterExpiry = await runIac(['up'], { cwd: p.work, env: ENV });
      expect(afterExpiry.stderr).toBe('');
      expect(afterExpiry.code).toBe(0);

      // A long lease of a machine that is gone: `iac unlock` (confirmed) frees the environment at once.
      foreignLease(p, 600_000);
      const unasked = await runIac(['unlock', 'dev'], { cwd: p.work, env: ENV });
      expect(unasked.code).toBe(3);
      expect(unasked.stdout).toContain('dev is held by Ana Lima <ana@example.com> on build-agent-7');
      expect(unasked.stderr).toContain('hint: iac unlock dev --yes');
      const unlocked = await runIac(['unlock', 'dev', '--yes'], { cwd: p.work, env: ENV });
      expect(unlocked.code).toBe(0);
      expect(unlocked.stdout).toContain('unlocked dev (origin refs/iac/locks/dev)');
      const after = await runIac(['up'], { cwd: p.work, env: ENV });
      expect(after.code).toBe(0);
    } finally {
      p.cleanup();
    }
  });
});
