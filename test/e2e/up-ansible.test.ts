import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HostStats } from '../../src/ansible/events.js';
import { parsePlayRecap } from '../integration/ansible/recap.js';
import { toolAvailable } from '../helpers/tools.js';
import { createProject } from '../helpers/project.js';
import { parseNdjson, runIac } from '../helpers/run-cli.js';

const SECRET = 'hunter2-very-secret-value';
const SLOW = 180_000;

function ansibleProject(playbookBody: string, ansible: Record<string, unknown> = {}) {
  const project = createProject({
    environments: {
      dev: {
        branch: 'develop',
        ansible: {
          playbook: 'deploy/site.yml',
          inventory: 'deploy/hosts.ini',
          extraVars: { image_tag: '${git.sha}', replicas: 3 },
          secretExtraVars: { db_password: '${env.IAC_TEST_DB_PASSWORD}' },
          ...ansible,
        },
      },
      prod: { branch: 'main', ansible: { playbook: 'deploy/site.yml', inventory: 'deploy/hosts.ini' } },
    },
  });
  mkdirSync(join(project.work, 'deploy'), { recursive: true });
  writeFileSync(join(project.work, 'deploy/hosts.ini'), 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n');
  writeFileSync(join(project.work, 'deploy/site.yml'), playbookBody);
  project.git('add', '.');
  project.git('commit', '-q', '-m', 'playbook');
  const out = mkdtempSync(join(tmpdir(), 'iac-e2e-out-'));
  return { ...project, out, cleanup: () => (project.cleanup(), rmSync(out, { recursive: true, force: true })) };
}

/** Every file under a directory (the run directory holds the commit's tree too). */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

function onlyRunDir(work: string): string {
  const runs = join(work, '.iac', 'runs');
  return join(runs, readdirSync(runs)[0] as string);
}

/** Writes the playbook's identity and the vars it got to $TEST_OUT_DIR/got.json. */
const RECORDING_PLAYBOOK = (marker: string): string => `- hosts: all
  gather_facts: false
  tasks:
    - name: Write what we got
      ansible.builtin.copy:
        dest: "{{ lookup('env', 'TEST_OUT_DIR') }}/got.json"
        content: "{{ {'playbook': '${marker}', 'image_tag': image_tag | default(''), 'replicas': replicas | default(0), 'db_password': db_password | default('')} | to_json }}"
`;

describe.runIf(toolAvailable('ansible-playbook'))('iac up --only ansible (real ansible-playbook)', () => {
  it('runs the playbook with the extra vars and the secret from the environment, and logs no secret', async () => {
    const project = ansibleProject(RECORDING_PLAYBOOK('committed'));
    try {
      const sha = project.git('rev-parse', 'HEAD');
      const result = await runIac(['up', '--only', 'ansible'], { cwd: project.work, env: { IAC_TEST_DB_PASSWORD: SECRET, TEST_OUT_DIR: project.out }, timeoutMs: SLOW });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const got = JSON.parse(readFileSync(join(project.out, 'got.json'), 'utf8')) as Record<string, unknown>;
      expect(got).toEqual({ playbook: 'committed', image_tag: sha, replicas: 3, db_password: SECRET });
      expect(result.stdout).toContain('✓ Write what we got  ok=1 changed=1');
      expect(result.stdout).toMatch(/ansible: done in \S+ — 1 tasks on 1 host: ok=1 changed=1/);
      expect(result.stdout).not.toContain(SECRET);
      const runDir = onlyRunDir(project.work);
      for (const file of filesUnder(runDir)) expect(readFileSync(file, 'utf8')).not.toContain(SECRET);
      expect(readFileSync(join(runDir, 'ansible.log'), 'utf8')).toContain('TASK [Write what we got]');
    } finally {
      project.cleanup();
    }
  }, SLOW);

  it('deploys the commit: neither an uncommitted edit nor another checked-out branch changes the playbook that runs', async () => {
    const project = ansibleProject(RECORDING_PLAYBOOK('develop-committed'));
    try {
      const env = { IAC_TEST_DB_PASSWORD: SECRET, TEST_OUT_DIR: project.out };
      // 1. An uncommitted edit of site.yml on develop.
      writeFileSync(join(project.work, 'deploy/site.yml'), RECORDING_PLAYBOOK('uncommitted-edit'));
      const dirty = await runIac(['up', '--only', 'ansible'], { cwd: project.work, env, timeoutMs: SLOW });
      expect(dirty.code).toBe(0);
      expect(JSON.parse(readFileSync(join(project.out, 'got.json'), 'utf8'))).toMatchObject({ playbook: 'develop-committed' });
      project.git('checkout', '--', 'deploy/site.yml');

      // 2. prod deploys main while develop (with another site.yml) is checked out.
      project.git('switch', '-q', 'main');
      mkdirSync(join(project.work, 'deploy'), { recursive: true });
      writeFileSync(join(project.work, 'deploy/hosts.ini'), 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n');
      writeFileSync(join(project.work, 'deploy/site.yml'), RECORDING_PLAYBOOK('main-committed'));
      project.git('add', 'deploy');
      project.git('commit', '-q', '-m', 'main playbook');
      project.git('switch', '-q', 'develop');
      const dryRun = await runIac(['up', 'prod', '--only', 'ansible', '--dry-run'], { cwd: project.work, env, timeoutMs: SLOW });
      expect(dryRun.stdout).toMatch(/from commit [0-9a-f]{7} \(main\), not the working tree/);
      const other = await runIac(['up', 'prod', '--only', 'ansible', '--yes'], { cwd: project.work, env, timeoutMs: SLOW });
      expect(other.code).toBe(0);
      expect(JSON.parse(readFileSync(join(project.out, 'got.json'), 'utf8'))).toMatchObject({ playbook: 'main-committed' });
    } finally {
      project.cleanup();
    }
  }, SLOW);

  it('a failing task is exit 30 with the task, host and msg, and a hint that re-runs with -i and -e as run', async () => {
    const project = ansibleProject(`- hosts: all
  gather_facts: false
  tasks:
    - name: Check the database is reachable
      ansible.builtin.fail:
        msg: database db.internal:5432 refused the connection
`);
    try {
      const result = await runIac(['up', '--only', 'ansible'], { cwd: project.work, env: { IAC_TEST_DB_PASSWORD: SECRET }, timeoutMs: SLOW });
      expect(result.code).toBe(30);
      expect(result.stderr).toContain('Check the database is reachable');
      expect(result.stderr).toContain('localhost');
      expect(result.stderr).toContain('database db.internal:5432 refused the connection');
      const hint = /hint: (cd .* && ansible-playbook .*)$/m.exec(result.stderr)?.[1] ?? '';
      expect(hint).toMatch(/ansible-playbook -i \S+\/tree\/deploy\/hosts\.ini -e '\{"image_tag":"[0-9a-f]{40}","replicas":3\}' \S+\/tree\/deploy\/site\.yml {3}# secret extra vars db_password not included/);
      // The hint runs as printed and fails the same way (the secret var is not used by this playbook).
      const rerun = await new Promise<number>((resolve) => {
        try {
          execFileSync('sh', ['-c', hint], { stdio: 'ignore' });
          resolve(0);
        } catch (error) {
          resolve((error as { status: number }).status);
        }
      });
      expect(rerun).toBe(2);
    } finally {
      project.cleanup();
    }
  }, SLOW);

  it('a syntax error is exit 2 before anything ran: nothing pushed', async () => {
    const project = ansibleProject(`- hosts: all
  tasks:
    - name: Two modules in one task
      ansible.builtin.debug: { msg: a }
      ansible.builtin.command: echo b
`);
    try {
      const remoteBefore = project.git('ls-remote', 'origin', 'refs/heads/develop');
      const result = await runIac(['up'], { cwd: project.work, env: { IAC_TEST_DB_PASSWORD: SECRET }, timeoutMs: SLOW });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/site\.yml:\d+:\d+/);
      expect(project.git('ls-remote', 'origin', 'refs/heads/develop')).toBe(remoteBefore);
    } finally {
      project.cleanup();
    }
  }, SLOW);

  it('a missing secret variable is a preflight error (exit 3) naming the variable', async () => {
    const project = ansibleProject(`- hosts: all
  gather_facts: false
  tasks: []
`);
    try {
      const result = await runIac(['up', '--only', 'ansible'], { cwd: project.work, env: { IAC_TEST_DB_PASSWORD: undefined }, timeoutMs: SLOW });
      expect(result.code).toBe(3);
      expect(result.stderr).toContain('needs environment variable IAC_TEST_DB_PASSWORD');
    } finally {
      project.cleanup();
    }
  }, SLOW);

  it('a secret-looking key in extraVars is a configuration error at load: exit 2, file:line:col, "move it to secretExtraVars"', async () => {
    const project = ansibleProject(RECORDING_PLAYBOOK('x'), { extraVars: { image_tag: '${git.sha}', api_token: '${env.API_TOKEN}' } });
    try {
      const result = await runIac(['up', '--only', 'ansible', '--dry-run'], { cwd: project.work, env: { API_TOKEN: 'tok-123456' }, timeoutMs: SLOW });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/iac\.yaml:\d+:\d+: environments\.dev\.ansible\.extraVars\.api_token: "api_token" looks like a secret: move it to secretExtraVars/);
      expect(result.stderr).not.toContain('tok-123456');
    } finally {
      project.cleanup();
    }
  }, SLOW);
});

describe.runIf(toolAvailable('ansible-playbook'))('iac\'s numbers are PLAY RECAP\'s (same run, ansible.log)', () => {
  const playbooks = new URL('../fixtures/ansible/playbooks/', import.meta.url).pathname;

  function recapProject(ansible: Record<string, unknown>) {
    const project = createProject({
      environments: { dev: { branch: 'develop', ansible: { playbook: 'deploy/recap.yml', inventory: 'deploy/recap.ini', ...ansible } } },
    });
    mkdirSync(join(project.work, 'deploy'), { recursive: true });
    for (const name of ['recap.yml', 'included.yml', 'recap.ini']) writeFileSync(join(project.work, 'deploy', name), readFileSync(join(playbooks, name)));
    project.git('add', '.');
    project.git('commit', '-q', '-m', 'recap playbook');
    const out = mkdtempSync(join(tmpdir(), 'iac-e2e-out-'));
    return { ...project, out, cleanup: () => (project.cleanup(), rmSync(out, { recursive: true, force: true })) };
  }

  /** `recap <host>: ok=… changed=… …` progress events → numbers. */
  function recapEvents(events: Array<Record<string, unknown>>): Record<string, unknown> {
    const text = events
      .filter((e) => e.type === 'step.progress' && typeof e.message === 'string' && e.message.startsWith('recap '))
      .map((e) => (e.message as string).replace(/^recap (\S+):/, '$1 :'))
      .join('\n');
    return parsePlayRecap(`PLAY RECAP\n${text}`);
  }

  it('normal mode with an unreachable host: per-host recap events equal PLAY RECAP; exit 31 blames only the unreachable host', async () => {
    const p = recapProject({ extraVars: { out_dir: '${env.TEST_OUT_DIR}' } });
    try {
      const result = await runIac(['up', '--only', 'ansible', '--json'], { cwd: p.work, env: { TEST_OUT_DIR: p.out }, timeoutMs: SLOW });
      expect(result.code).toBe(31);
      const runDir = onlyRunDir(p.work);
      const recap = parsePlayRecap(readFileSync(join(runDir, 'ansible.log'), 'utf8'));
      expect(Object.keys(recap)).toEqual(['web1', 'web2']);
      expect(recapEvents(parseNdjson(result.stdout))).toEqual(recap);
      expect(recapEvents(parseNdjson(readFileSync(join(runDir, 'events.ndjson'), 'utf8')))).toEqual(recap);
      const resultEvent = parseNdjson(result.stdout).find((e) => e.type === 'result') as { error: { message: string } };
      expect(resultEvent.error.message).toMatch(/^host web2 unreachable at task "Reach the host"/);
      expect(JSON.stringify(resultEvent)).not.toContain('Fails in block');
    } finally {
      p.cleanup();
    }
  }, SLOW);

  it('check mode on web1: the summary totals equal PLAY RECAP and say "would change N"; the diff is in ansible.log and the events', async () => {
    const p = recapProject({ extraVars: { out_dir: '${env.TEST_OUT_DIR}' }, limit: 'web1', check: true });
    try {
      const result = await runIac(['up', '--only', 'ansible'], { cwd: p.work, env: { TEST_OUT_DIR: p.out }, timeoutMs: SLOW });
      expect(result.code).toBe(0);
      const runDir = onlyRunDir(p.work);
      const log = readFileSync(join(runDir, 'ansible.log'), 'utf8');
      const web1 = parsePlayRecap(log).web1 as HostStats;
      const summary = `ok=${web1.ok} would change ${web1.changed} skipped=${web1.skipped} rescued=${web1.rescued} (check mode)`;
      expect(result.stdout).toContain(`on 1 host: ${summary}`);
      expect(log).toContain('+hello web1');
      const events = parseNdjson(readFileSync(join(runDir, 'events.ndjson'), 'utf8'));
      expect(events.some((e) => e.type === 'step.progress' && String(e.message).includes('would change: Write a file on web1\n') && String(e.message).includes('+hello web1'))).toBe(true);
      expect(readdirSync(p.out)).toEqual([]); // check mode changed nothing
    } finally {
      p.cleanup();
    }
  }, SLOW);

  it('--verbose streams Ansible\'s own output once (debug messages included), without iac\'s task lines', async () => {
    const p = recapProject({ extraVars: { out_dir: '${env.TEST_OUT_DIR}' }, limit: 'web1' });
    try {
      const result = await runIac(['up', '--only', 'ansible', '--verbose'], { cwd: p.work, env: { TEST_OUT_DIR: p.out }, timeoutMs: SLOW });
      expect(result.code).toBe(0);
      expect(result.stdout.match(/ansible \| TASK \[Run once\]/g)).toHaveLength(1);
      expect(result.stdout).toContain('ansible |     "msg": "rescued Fails in block"');
      expect(result.stdout).not.toMatch(/ansible: ✓ Run once/);
    } finally {
      p.cleanup();
    }
  }, SLOW);
});
