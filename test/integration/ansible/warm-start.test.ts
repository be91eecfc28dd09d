import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { syntaxCheckEnv, WORKING_TREE_CHECK_ENV } from '../../../src/ansible/argv.js';
import { findExecutableSync } from '../../../src/ansible/executable.js';
import { checkPlaybook } from '../../../src/ansible/preflight.js';
import { playbookCheck, releaseWarmPlaybook, waitingPlaybookPid, warmStartPlaybook } from '../../../src/ansible/warm-start.js';
import { UsageError } from '../../../src/errors.js';
import { createTempRepos, type TempRepos } from '../../helpers/git-repos.js';
import { toolAvailable } from '../../helpers/tools.js';
import { until } from '../../helpers/until.js';

const dirs: string[] = [];
const repos: TempRepos[] = [];
afterEach(() => {
  releaseWarmPlaybook();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  for (const r of repos.splice(0)) r.cleanup();
});

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Playbooks whose `--syntax-check` answers differ: success, Ansible's own errors, a missing file or inventory. */
const CASES: Record<string, { files: Record<string, string>; args: string[] }> = {
  'a valid playbook': {
    files: { 'site.yml': '- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.debug: { msg: hi }\n' },
    args: ['-i', 'hosts.ini', 'site.yml'],
  },
  'conflicting action statements': {
    files: { 'site.yml': '- hosts: all\n  tasks:\n    - name: two\n      ansible.builtin.debug: { msg: a }\n      ansible.builtin.command: echo b\n' },
    args: ['-i', 'hosts.ini', 'site.yml'],
  },
  'a YAML error': { files: { 'site.yml': '- hosts: all\n  tasks:\n   - bad: [\n' }, args: ['-i', 'hosts.ini', 'site.yml'] },
  'an imported file that is missing': {
    files: { 'site.yml': '- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.import_tasks: extra.yml\n' },
    args: ['-i', 'hosts.ini', 'site.yml'],
  },
  'a role that is missing': { files: { 'site.yml': '- hosts: all\n  roles: [nowhere]\n' }, args: ['-i', 'hosts.ini', 'site.yml'] },
  'an inventory that is missing': {
    files: { 'site.yml': '- hosts: all\n  gather_facts: false\n  tasks: []\n' },
    args: ['-i', 'missing.ini', 'site.yml'],
  },
};

function scratch(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'iac-warm-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'hosts.ini'), 'localhost ansible_connection=local\n');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe.runIf(toolAvailable('ansible-playbook'))('ansible-playbook through warm_start.py (real Ansible)', () => {
  const bin = (): string => findExecutableSync('ansible-playbook') as string;

  it.each(Object.keys(CASES))('answers exactly as `ansible-playbook --syntax-check` does: %s', async (name) => {
    const { files, args } = CASES[name] as (typeof CASES)[string];
    const dir = scratch(files);
    const env = syntaxCheckEnv(process.env, WORKING_TREE_CHECK_ENV);
    const argv = ['--syntax-check', ...args];
    const direct = spawnSync(bin(), argv, { cwd: dir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const check = playbookCheck(bin(), dir, env);
    expect(check).toBeDefined();
    const warm = await check?.run(argv, {});
    expect(warm).toEqual({ stdout: direct.stdout, stderr: direct.stderr, exitCode: direct.status, timedOut: false, aborted: false });
  });

  it('started ahead, the check for the same directory and environment takes it; another directory starts its own', async () => {
    const dir = scratch(CASES['a valid playbook']?.files ?? {});
    const repo = createTempRepos();
    repos.push(repo);
    warmStartPlaybook(dir, repo.git('rev-parse', 'HEAD'));
    const ahead = waitingPlaybookPid();
    expect(ahead).toBeGreaterThan(0);
    const env = syntaxCheckEnv(process.env, WORKING_TREE_CHECK_ENV);
    const elsewhere = playbookCheck(bin(), scratch({}), env);
    expect(elsewhere?.pid).not.toBe(ahead);
    expect(waitingPlaybookPid()).toBe(ahead);
    const check = playbookCheck(bin(), dir, env);
    expect(check?.pid).toBe(ahead);
    expect(waitingPlaybookPid()).toBeUndefined();
    expect((await check?.run(['--syntax-check', '-i', 'hosts.ini', 'site.yml'], {}))?.exitCode).toBe(0);
    expect((await elsewhere?.run(['--version'], {}))?.exitCode).toBe(0);
  });

  it('one started ahead and not needed is stopped when released', async () => {
    const repo = createTempRepos();
    repos.push(repo);
    warmStartPlaybook(scratch({}), repo.git('rev-parse', 'HEAD'));
    const pid = waitingPlaybookPid() as number;
    expect(alive(pid)).toBe(true);
    releaseWarmPlaybook();
    expect(waitingPlaybookPid()).toBeUndefined();
    await until(() => !alive(pid), 'the released ansible-playbook to exit', 5000);
  });

  it('is not started ahead when the commit has the files the last check read (the cache will answer)', async () => {
    const repo = createTempRepos();
    repos.push(repo);
    mkdirSync(join(repo.work, 'deploy', 'roles', 'app', 'tasks'), { recursive: true });
    repo.commit('iac.yaml', 'project: shop\n', 'config');
    repo.commit('deploy/hosts.ini', 'localhost ansible_connection=local\n', 'inventory');
    repo.commit('deploy/roles/app/tasks/main.yml', '- ansible.builtin.debug: { msg: role }\n', 'role');
    const first = repo.commit('deploy/site.yml', '- hosts: all\n  gather_facts: false\n  roles: [app]\n', 'playbook');
    const check = (sha: string): Promise<unknown> => checkPlaybook({ cwd: repo.work, playbook: 'deploy/site.yml', inventory: 'deploy/hosts.ini', sha });
    // No check yet: started ahead, and that check (the working tree is the commit) takes it.
    warmStartPlaybook(repo.work, first);
    expect(waitingPlaybookPid()).toBeGreaterThan(0);
    expect(await check(first)).toEqual({ cached: false });
    expect(waitingPlaybookPid()).toBeUndefined();
    // Code changed, not Ansible's files: nothing is started; the cache answers.
    const code = repo.commit('README.md', '# app v2\n', 'code');
    warmStartPlaybook(repo.work, code);
    expect(waitingPlaybookPid()).toBeUndefined();
    expect(await check(code)).toEqual({ cached: true });
    // A role changed: started ahead again.
    const role = repo.commit('deploy/roles/app/tasks/main.yml', '- ansible.builtin.debug: { msg: role v2 }\n', 'role v2');
    warmStartPlaybook(repo.work, role);
    expect(waitingPlaybookPid()).toBeGreaterThan(0);
    expect(await check(role)).toEqual({ cached: false });
  });

  it('a script that only looks like the standard entry point falls back to running it: same verdicts', async () => {
    // Shell, not Python: warm_start.py fails under it before Ansible starts, so the script itself runs.
    const binDir = mkdtempSync(join(tmpdir(), 'iac-bin-'));
    dirs.push(binDir);
    const look = join(binDir, 'ansible-playbook');
    writeFileSync(look, `#!/bin/sh\nfrom ansible.cli.playbook import main\nexec ${JSON.stringify(bin())} "$@"\n`, { mode: 0o755 });
    const good = scratch(CASES['a valid playbook']?.files ?? {});
    expect(await checkPlaybook({ cwd: good, playbook: 'site.yml', inventory: 'hosts.ini', ansiblePlaybookBin: look })).toEqual({ cached: false });
    const bad = scratch(CASES['conflicting action statements']?.files ?? {});
    const error = await checkPlaybook({ cwd: bad, playbook: 'site.yml', inventory: 'hosts.ini', ansiblePlaybookBin: look }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(/^site\.yml:3:7: conflicting action statements/);
  });
});
