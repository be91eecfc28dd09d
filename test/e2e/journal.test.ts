import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJenkinsSandbox, type JenkinsSandbox } from '../../src/sandbox/jenkins.js';
import { createProject } from '../helpers/project.js';
import { IAC_BIN, parseNdjson, runIac } from '../helpers/run-cli.js';
import { toolAvailable } from '../helpers/tools.js';
import { processesMatching } from '../integration/ansible/procs.js';
import { until } from '../helpers/until.js';

const USER = 'deployer';
const TOKEN = '10a1f0c0ffee1234567890abcdef10a1';
const ENV = { IAC_JENKINS_USER: USER, IAC_JENKINS_TOKEN: TOKEN };

/** How many intents of this action the project's journal index holds (a mutation under way counts). */
function intents(work: string, action: string): number {
  const file = join(work, '.iac', 'history.ndjson');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter((l) => l.includes(`"type":"intent","action":"${action}"`)).length : 0;
}

/** Events of the newest run directory so far. */
function newestRunEvents(work: string): Array<Record<string, unknown>> {
  const runs = join(work, '.iac', 'runs');
  if (!existsSync(runs)) return [];
  const dir = readdirSync(runs).sort().at(-1);
  const file = dir ? join(runs, dir, 'events.ndjson') : undefined;
  if (!file || !existsSync(file)) return [];
  try {
    return parseNdjson(readFileSync(file, 'utf8'));
  } catch {
    return [];
  }
}

describe.runIf(toolAvailable('ansible-playbook'))('the run journal: resume, rollback, history (real git, Jenkins sandbox, ansible-playbook)', () => {
  let jenkins: JenkinsSandbox;

  beforeAll(async () => {
    jenkins = await startJenkinsSandbox({
      users: [{ user: USER, token: TOKEN }],
      jobs: {
        'shop/flaky': { parameters: ['GIT_SHA'], builds: [{ result: 'FAILURE', durationMs: 200, consoleLines: ['tests failed'] }, { result: 'SUCCESS', durationMs: 200 }] },
        'shop/deploy': { parameters: ['GIT_SHA'], builds: [{ result: 'SUCCESS', durationMs: 300 }] },
        'shop/slow': { parameters: ['GIT_SHA'], builds: [{ result: 'SUCCESS', durationMs: 4000, consoleLines: ['building slowly'] }] },
      },
    });
  });
  afterAll(async () => jenkins.close());

  /** A project whose playbook appends the deployed commit to `deployed.log` (outside the repository). */
  function project(job: string, options: { pauseSeconds?: number; branch?: string } = {}) {
    const branch = options.branch ?? 'develop';
    const p = createProject({
      jenkinsUrl: jenkins.url,
      environments: {
        [branch === 'develop' ? 'dev' : 'prod']: {
          branch,
          jenkins: { job, parameters: { GIT_SHA: '${git.sha}' }, pollInterval: '100ms' },
          ansible: { playbook: 'deploy/site.yml', inventory: 'deploy/hosts.ini', extraVars: { image_tag: '${git.sha}', record: 'RECORD' } },
        },
      },
    });
    const record = join(p.root, 'deployed.log');
    writeFileSync(join(p.work, 'iac.yaml'), readFileSync(join(p.work, 'iac.yaml'), 'utf8').replace('RECORD', record));
    mkdirSync(join(p.work, 'deploy'));
    writeFileSync(join(p.work, 'deploy/hosts.ini'), 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n');
    const pause = options.pauseSeconds ? `    - name: Wait for the load balancer\n      ansible.builtin.pause: { seconds: ${options.pauseSeconds} }\n` : '';
    writeFileSync(
      join(p.work, 'deploy/site.yml'),
      `- hosts: all\n  gather_facts: false\n  tasks:\n${pause}    - name: Record the deployed commit\n      ansible.builtin.shell: printf '%s\\n' "{{ image_tag }}" >> "{{ record }}"\n`,
    );
    // Count pushes as the remote sees them: a pre-receive hook appends one line per push.
    const pushes = join(p.root, 'pushes.log');
    writeFileSync(join(p.remote, 'hooks', 'pre-receive'), `#!/bin/sh\ncat >> '${pushes}'\n`);
    chmodSync(join(p.remote, 'hooks', 'pre-receive'), 0o755);
    p.git('add', '.');
    p.git('commit', '-q', '-m', 'deploy with iac');
    if (branch !== 'develop') {
      p.git('checkout', '-q', branch);
      p.git('merge', '-q', '--ff-only', 'develop');
    }
    return {
      ...p,
      deployed: (): string[] => (existsSync(record) ? readFileSync(record, 'utf8').trim().split('\n') : []),
      // Branch updates only: the deploy lease of an environment without a cluster is a ref too.
      pushes: (): number => (existsSync(pushes) ? readFileSync(pushes, 'utf8').split('\n').filter((line) => line.includes(' refs/heads/')).length : 0),
    };
  }

  it('a Jenkins FAILURE, then a re-run of the same commit: no second push, a new build, and the deploy', async () => {
    const p = project('shop/flaky');
    try {
      const sha = p.git('rev-parse', 'HEAD');
      const before = jenkins.triggers.length;
      const failed = await runIac(['up'], { cwd: p.work, env: ENV });
      expect(failed.code).toBe(20);
      expect(p.pushes()).toBe(1);
      // The playbook was started early, held during the build: the failed build stopped it having run
      // nothing, and it is gone with iac.
      expect(readFileSync(join(p.work, '.iac', 'runs', readdirSync(join(p.work, '.iac', 'runs')).sort().at(-1) as string, 'events.ndjson'), 'utf8')).not.toContain('"step":"ansible"');
      expect(p.deployed()).toEqual([]);
      expect(processesMatching(p.work).filter((proc) => proc.cmdline.includes('ansible-playbook'))).toEqual([]);
      const rerun = await runIac(['up'], { cwd: p.work, env: ENV });
      expect(rerun.stderr).toBe('');
      expect(rerun.code).toBe(0);
      expect(rerun.stdout).toContain(`resuming: the last run of ${sha.slice(0, 7)} to dev`);
      expect(rerun.stdout).toContain(`${sha.slice(0, 7)} already on origin/develop: not pushed again`);
      expect(p.pushes()).toBe(1);
      expect(jenkins.triggers.slice(before).map((t) => t.parameters.GIT_SHA)).toEqual([sha, sha]);
      expect(p.deployed()).toEqual([sha]);
    } finally {
      p.cleanup();
    }
  });

  it('a run killed (SIGKILL) after its build succeeded: the re-run reuses that build (one trigger in all) and finishes; --rebuild builds again', async () => {
    const p = project('shop/deploy', { pauseSeconds: 3 });
    try {
      const sha = p.git('rev-parse', 'HEAD');
      const before = jenkins.triggers.length;
      const child = spawn(process.execPath, [IAC_BIN, 'up'], { cwd: p.work, env: { ...process.env, ...ENV, CI: '' }, stdio: 'ignore' });
      await until(() => intents(p.work, 'playbook') === 1, 'the playbook of the first run');
      child.kill('SIGKILL');
      await new Promise((resolve) => child.on('close', resolve));
      expect(jenkins.triggers.slice(before)).toHaveLength(1);

      const status = await runIac(['status', 'dev'], { cwd: p.work, env: ENV });
      expect(status.stdout).toMatch(new RegExp(`! dev: the last run was killed during playbook \\(up of ${sha.slice(0, 7)} by Test Author, \\d\\d:\\d\\d UTC\\): its outcome is unknown — iac up dev resumes it`));

      const rerun = await runIac(['up'], { cwd: p.work, env: ENV });
      expect(rerun.stderr).toBe('');
      expect(rerun.code).toBe(0);
      expect(rerun.stdout).toMatch(new RegExp(`jenkins .*reused #\\d+ SUCCESS, built ${sha.slice(0, 7)}`));
      expect(jenkins.triggers.slice(before)).toHaveLength(1);
      expect(p.deployed().at(-1)).toBe(sha);

      // Killed again after a successful build: --rebuild triggers a new build instead of reusing it.
      const third = spawn(process.execPath, [IAC_BIN, 'up'], { cwd: p.work, env: { ...process.env, ...ENV, CI: '' }, stdio: 'ignore' });
      await until(() => intents(p.work, 'playbook') === 3, 'the playbook of the third run');
      third.kill('SIGKILL');
      await new Promise((resolve) => third.on('close', resolve));
      expect(jenkins.triggers.slice(before)).toHaveLength(2);
      const rebuilt = await runIac(['up', '--rebuild'], { cwd: p.work, env: ENV });
      expect(rebuilt.code).toBe(0);
      expect(rebuilt.stdout).toContain('(--rebuild: a new Jenkins build)');
      expect(jenkins.triggers.slice(before)).toHaveLength(3);
    } finally {
      p.cleanup();
    }
  });

  it('rollback redeploys the previous commit through Jenkins and Ansible; status shows prod pinned; history lists A, B and the rollback', async () => {
    const p = project('shop/deploy', { branch: 'main' });
    try {
      const a = p.git('rev-parse', 'HEAD');
      expect((await runIac(['up', 'prod'], { cwd: p.work, env: ENV })).code).toBe(0);
      const b = p.commit('feature.txt', 'new\n', 'Add the risky feature');
      expect((await runIac(['up', 'prod'], { cwd: p.work, env: ENV })).code).toBe(0);
      const before = jenkins.triggers.length;

      const preview = await runIac(['rollback', 'prod', '--dry-run'], { cwd: p.work, env: ENV });
      expect(preview.code).toBe(0);
      expect(preview.stdout).toContain(`Roll back prod: ${b.slice(0, 7)} → ${a.slice(0, 7)} (no branch moves)`);
      expect(preview.stdout).toContain('Add the risky feature');
      expect(jenkins.triggers.length).toBe(before);

      const rolled = await runIac(['rollback', 'prod', '--json'], { cwd: p.work, env: ENV });
      const events = parseNdjson(rolled.stdout);
      expect(events.at(-1)).toMatchObject({ type: 'result', exitCode: 0 });
      expect(events.find((e) => e.type === 'run.started')).toMatchObject({ command: 'rollback', sha: a });
      expect(jenkins.triggers.slice(before).map((t) => t.parameters.GIT_SHA)).toEqual([a]);
      expect(p.deployed()).toEqual([a, b, a]);
      expect(p.git('rev-parse', 'main')).toBe(b);
      expect(p.git('ls-remote', 'origin', 'refs/heads/main').split('\t')[0]).toBe(b);

      const status = await runIac(['status', 'prod'], { cwd: p.work, env: ENV });
      expect(status.stdout).toMatch(new RegExp(`! prod runs ${a.slice(0, 7)} \\(rolled back from ${b.slice(0, 7)} at \\d\\d:\\d\\d UTC by Test Author\\); main is ahead by 1 — iac up prod redeploys main`));

      const history = await runIac(['history', 'prod'], { cwd: p.work });
      expect(history.code).toBe(0);
      const heads = history.stdout.split('\n').filter((line) => /^✔ \d{4}-\d\d-\d\d /.test(line));
      expect(heads).toHaveLength(3);
      expect(heads[0]).toContain(`prod  rollback from ${b.slice(0, 7)}  ${a.slice(0, 7)}`);
      expect(heads[1]).toContain(`prod  up  ${b.slice(0, 7)} Add the risky feature`);
      expect(heads[2]).toContain(`prod  up  ${a.slice(0, 7)}`);
      expect(history.stdout).toContain('by Test Author <author@example.test> on ');
      const json = parseNdjson((await runIac(['history', 'prod', '--json'], { cwd: p.work })).stdout);
      const runs = (json.find((e) => e.type === 'data') as { data: { runs: Array<Record<string, unknown>> } }).data.runs;
      expect(runs.map((r) => [r.command, r.sha, r.outcome])).toEqual([
        ['rollback', a, 'success'],
        ['up', b, 'success'],
        ['up', a, 'success'],
      ]);
      expect(runs[0]).toMatchObject({ from: b, user: 'Test Author <author@example.test>' });
      expect(String(runs[0]?.jenkins)).toMatch(/^#\d+ SUCCESS/);
      expect(String(runs[0]?.ansible)).toContain('ok=');
    } finally {
      p.cleanup();
    }
  });

  it('a promote killed after its push shows in status and history as unknown, with the pushed commit', async () => {
    const p = createProject({
      jenkinsUrl: jenkins.url,
      environments: {
        dev: { branch: 'develop' },
        prod: { branch: 'main', promoteFrom: 'dev', jenkins: { job: 'shop/slow', parameters: { GIT_SHA: '${git.sha}' }, pollInterval: '100ms' } },
      },
    });
    try {
      p.git('push', '-q', 'origin', 'develop');
      const pushed = p.git('rev-parse', 'develop');
      const child = spawn(process.execPath, [IAC_BIN, 'promote', 'develop', 'main', '--yes', '--skip-gate'], { cwd: p.work, env: { ...process.env, ...ENV, CI: '' }, stdio: 'ignore' });
      await until(() => newestRunEvents(p.work).some((e) => e.type === 'step.started' && e.step === 'jenkins'), 'the Jenkins step of the promotion');
      child.kill('SIGKILL');
      await new Promise((resolve) => child.on('close', resolve));
      expect(p.git('ls-remote', 'origin', 'refs/heads/main').split('\t')[0]).toBe(pushed);

      const status = await runIac(['status', 'prod'], { cwd: p.work, env: ENV });
      // Killed as the Jenkins step starts: before or after it journaled its trigger intent (both unknown).
      expect(status.stdout).toMatch(new RegExp(`! prod: the last run was killed (during trigger )?\\(promote of ${pushed.slice(0, 7)} by Test Author, `));
      expect(status.stdout).toContain('its outcome is unknown — iac up prod resumes it');
      const history = parseNdjson((await runIac(['history', 'prod', '--json'], { cwd: p.work })).stdout);
      const runs = (history.find((e) => e.type === 'data') as { data: { runs: Array<Record<string, unknown>> } }).data.runs;
      expect(runs[0]).toMatchObject({ command: 'promote', sha: pushed, outcome: 'unknown' });
    } finally {
      p.cleanup();
    }
  });
});
