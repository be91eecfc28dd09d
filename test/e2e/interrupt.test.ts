import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJenkinsSandbox, type JenkinsSandbox } from '../../src/sandbox/jenkins.js';
import { createProject } from '../helpers/project.js';
import { IAC_BIN } from '../helpers/run-cli.js';
import { toolAvailable } from '../helpers/tools.js';

/** Runs bin/iac and sends SIGINT once `ready` appears in its output. */
function interruptWhen(args: string[], cwd: string, env: NodeJS.ProcessEnv, ready: RegExp, times = 1): Promise<{ code: number; out: string }> {
  const child = spawn(process.execPath, [IAC_BIN, ...args], { cwd, env: { ...process.env, NO_COLOR: '1', CI: '', ...env } });
  let out = '';
  let sent = false;
  const onData = (chunk: Buffer): void => {
    out += chunk.toString();
    if (!sent && ready.test(out)) {
      sent = true;
      child.kill('SIGINT');
      // A second Ctrl-C shortly after: "force".
      if (times > 1) setTimeout(() => child.kill('SIGINT'), 150);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? 1, out })));
}

describe('Ctrl-C', () => {
  let jenkins: JenkinsSandbox;
  beforeAll(async () => {
    // One job per test: a build left running by the first would queue the second's behind it.
    const slow = { parameters: ['GIT_SHA'], builds: [{ result: 'SUCCESS' as const, durationMs: 60_000, consoleLines: 600 }] };
    jenkins = await startJenkinsSandbox({ jobs: { 'shop/slow-detach': slow, 'shop/slow-cancel': slow } });
  });
  afterAll(async () => jenkins.close());

  const jenkinsProject = (job: string) =>
    createProject({ jenkinsUrl: jenkins.url, environments: { dev: { branch: 'develop', jenkins: { job, parameters: { GIT_SHA: '${git.sha}' }, pollInterval: '100ms' } } } });

  it('during the Jenkins build: exit 130, and the summary says the build keeps running, with its URL', async () => {
    const p = jenkinsProject('shop/slow-detach');
    try {
      const { code, out } = await interruptWhen(['up', '--only', 'jenkins'], p.work, {}, /jenkins: build #(\d+)/);
      expect(code).toBe(130);
      const number = /build #(\d+): (\S+)/.exec(out);
      expect(out).toContain(`Jenkins build #${number?.[1]} keeps running: ${number?.[2]}`);
      expect(out).toContain('--cancel-on-interrupt');
      const build = (await (await fetch(`${number?.[2]}api/json`)).json()) as { building: boolean };
      expect(build.building).toBe(true);
    } finally {
      p.cleanup();
    }
  });

  it('with --cancel-on-interrupt the build is stopped (ABORTED)', async () => {
    const p = jenkinsProject('shop/slow-cancel');
    try {
      const { code, out } = await interruptWhen(['up', '--only', 'jenkins', '--cancel-on-interrupt'], p.work, {}, /jenkins: build #(\d+)/);
      expect(code).toBe(130);
      const url = /build #\d+: (\S+)/.exec(out)?.[1] as string;
      expect(out).toContain('was asked to stop');
      let result: string | null = null;
      for (let i = 0; i < 50 && result === null; i++) {
        result = ((await (await fetch(`${url}api/json`)).json()) as { result: string | null }).result;
        if (result === null) await new Promise((r) => setTimeout(r, 100));
      }
      expect(result).toBe('ABORTED');
    } finally {
      p.cleanup();
    }
  });

  it.runIf(toolAvailable('ansible-playbook')).each([1, 2])('during the playbook (%i× Ctrl-C): exit 130 and no ansible process is left behind', async (times) => {
    const p = createProject({ environments: { dev: { branch: 'develop', ansible: { playbook: 'deploy/slow.yml', inventory: 'deploy/hosts.ini' } } } });
    try {
      mkdirSync(join(p.work, 'deploy'));
      writeFileSync(join(p.work, 'deploy/hosts.ini'), 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n');
      writeFileSync(join(p.work, 'deploy/slow.yml'), '- hosts: all\n  gather_facts: false\n  tasks:\n    - name: Starting\n      ansible.builtin.debug: { msg: go }\n    - name: Take a long time\n      ansible.builtin.command: sleep 47.5\n');
      p.git('add', '.');
      p.git('commit', '-q', '-m', 'slow playbook');
      const { code, out } = await interruptWhen(['up', '--only', 'ansible'], p.work, {}, /✓ Starting/, times);
      expect(code).toBe(130);
      if (times === 1) expect(out).toContain('interrupted during task');
      await new Promise((r) => setTimeout(r, 300));
      const left = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter((line) => line.includes('sleep 47.5') || line.includes(join(p.work, 'deploy/slow.yml')));
      expect(left).toEqual([]);
    } finally {
      p.cleanup();
    }
  });
});
