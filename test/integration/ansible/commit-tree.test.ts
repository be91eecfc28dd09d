import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { materializeCommit, repoLocation } from '../../../src/ansible/commit-tree.js';
import { checkPlaybook } from '../../../src/ansible/preflight.js';
import { commitSources, placeIn } from '../../../src/ansible/sources.js';
import { UsageError } from '../../../src/errors.js';
import { createTempRepos, type TempRepos } from '../../helpers/git-repos.js';
import { hasTool, toolAvailable } from '../../helpers/tools.js';

const repos: TempRepos[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const r of repos.splice(0)) r.cleanup();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const PLAYBOOK = '- hosts: all\n  gather_facts: false\n  tasks:\n    - name: Say\n      ansible.builtin.debug: { msg: "v1" }\n';

/** A repo whose iac.yaml lives in infra/, with the playbook and inventory in infra/deploy/ and a role beside it. */
function project(): TempRepos & { projectDir: string } {
  const r = createTempRepos();
  repos.push(r);
  mkdirSync(join(r.work, 'infra', 'deploy', 'roles', 'app', 'tasks'), { recursive: true });
  r.commit('infra/iac.yaml', 'project: shop\n', 'config');
  r.commit('infra/deploy/site.yml', PLAYBOOK, 'playbook');
  r.commit('infra/deploy/hosts.ini', 'localhost ansible_connection=local\n', 'inventory');
  r.commit('infra/deploy/roles/app/tasks/main.yml', '- ansible.builtin.debug: { msg: role }\n', 'role');
  return { ...r, projectDir: join(r.work, 'infra') };
}

describe('the run reads the commit, not the working tree (real git)', () => {
  it('writes the commit out and maps config paths into it, iac.yaml in a subdirectory; paths outside the repo stay', async () => {
    const p = project();
    const sha = p.git('rev-parse', 'HEAD');
    writeFileSync(join(p.projectDir, 'deploy', 'site.yml'), 'uncommitted edit\n');
    p.git('switch', '-q', '-c', 'other');
    p.commit('infra/deploy/hosts.ini', 'another branch\n', 'other inventory');

    expect(await repoLocation(p.projectDir)).toEqual({ top: p.work, prefix: 'infra/' });
    const outside = mkdtempSync(join(tmpdir(), 'iac-outside-'));
    dirs.push(outside);
    writeFileSync(join(outside, 'extra.ini'), 'other ansible_connection=local\n');
    const sources = await commitSources({
      projectDir: p.projectDir,
      sha,
      playbook: join(p.projectDir, 'deploy', 'site.yml'),
      inventories: [join(p.projectDir, 'deploy', 'hosts.ini'), join(outside, 'extra.ini'), 'a,b,'],
    });
    const into = join(mkdtempSync(join(tmpdir(), 'iac-tree-')), 'tree');
    dirs.push(join(into, '..'));
    await materializeCommit(sources.top, sha, into);
    const placed = placeIn(sources, into);
    expect(placed.cwd).toBe(join(into, 'infra'));
    expect(placed.playbook).toBe(join(into, 'infra', 'deploy', 'site.yml'));
    expect(placed.inventories).toEqual([join(into, 'infra', 'deploy', 'hosts.ini'), join(outside, 'extra.ini'), 'a,b,']);
    expect(readFileSync(placed.playbook, 'utf8')).toBe(PLAYBOOK);
    expect(readFileSync(placed.inventories[0] as string, 'utf8')).toBe('localhost ansible_connection=local\n');
    expect(existsSync(join(into, 'infra', 'deploy', 'roles', 'app', 'tasks', 'main.yml'))).toBe(true);
    // The repository's own index and working tree were not touched.
    expect(p.git('status', '--porcelain')).toBe('M infra/deploy/site.yml');
  });

  it('a playbook missing from the commit is a configuration error naming the commit (exit 2)', async () => {
    const p = project();
    writeFileSync(join(p.projectDir, 'deploy', 'new.yml'), PLAYBOOK);
    const error = await commitSources({
      projectDir: p.projectDir,
      sha: p.git('rev-parse', 'HEAD'),
      playbook: join(p.projectDir, 'deploy', 'new.yml'),
      inventories: [],
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    expect((error as UsageError).message).toMatch(/^playbook deploy\/new\.yml is not in commit [0-9a-f]{7}/);
    expect((error as UsageError).hint).toBe('git add deploy/new.yml && git commit');
  });

  it('an uncommitted (generated, ignored) inventory is read from the working tree and said so', async () => {
    const p = project();
    writeFileSync(join(p.projectDir, 'deploy', 'generated.ini'), 'x ansible_connection=local\n');
    const sources = await commitSources({
      projectDir: p.projectDir,
      sha: p.git('rev-parse', 'HEAD'),
      playbook: join(p.projectDir, 'deploy', 'site.yml'),
      inventories: [join(p.projectDir, 'deploy', 'generated.ini')],
    });
    expect(sources.uncommittedInventories).toEqual(['deploy/generated.ini']);
    expect(placeIn(sources, '/tree').inventories).toEqual([join(p.projectDir, 'deploy', 'generated.ini')]);
  });
});

describe.runIf(toolAvailable('ansible-playbook'))('the syntax check of a commit, remembered', () => {
  /** PATH with an `ansible-playbook` that counts its runs before running the real one. */
  function countingAnsible(): { env: NodeJS.ProcessEnv; runs: () => number } {
    const bin = mkdtempSync(join(tmpdir(), 'iac-bin-'));
    dirs.push(bin);
    const counter = join(bin, 'runs');
    writeFileSync(counter, '');
    const shim = join(bin, 'ansible-playbook');
    writeFileSync(shim, `#!/bin/sh\necho run >> ${JSON.stringify(counter)}\nexec ${JSON.stringify(realAnsible())} "$@"\n`);
    chmodSync(shim, 0o755);
    return { env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` }, runs: () => readFileSync(counter, 'utf8').split('\n').filter(Boolean).length };
  }

  it('checks the committed playbook, then remembers: a hit starts no ansible-playbook; a change in a role misses', async () => {
    const p = project();
    const ansible = countingAnsible();
    const check = (sha: string): Promise<unknown> =>
      checkPlaybook({ cwd: p.projectDir, playbook: 'deploy/site.yml', inventory: 'deploy/hosts.ini', sha, env: ansible.env });
    const first = p.git('rev-parse', 'HEAD');
    // An uncommitted syntax error does not matter: the commit is what runs. (The working tree's files were
    // checked at once, in case they were the commit's; they are not, so that answer is dropped.)
    writeFileSync(join(p.projectDir, 'deploy', 'site.yml'), '- hosts: all\n  tasks:\n   - bad: [\n');
    expect(await check(first)).toEqual({ cached: false });
    expect(ansible.runs()).toBe(2);
    expect(await check(first)).toEqual({ cached: true });
    expect(ansible.runs()).toBe(2);
    // A commit that touches nothing Ansible reads keeps the hit.
    p.git('checkout', '-q', '--', 'infra/deploy/site.yml');
    const readme = p.commit('README.md', '# app, changed\n', 'docs');
    expect(await check(readme)).toEqual({ cached: true });
    expect(ansible.runs()).toBe(2);
    // A role change is a miss; the working tree holds the commit's files, so one check of them answers.
    const role = p.commit('infra/deploy/roles/app/tasks/main.yml', '- ansible.builtin.debug: { msg: role v2 }\n', 'role v2');
    expect(await check(role)).toEqual({ cached: false });
    expect(ansible.runs()).toBe(3);
  });

  it("the working tree's answer counts only for the commit's files: an untracked file the playbook imports is not in the commit", async () => {
    const p = project();
    const ansible = countingAnsible();
    // The commit imports a tasks file that exists only in the working tree (untracked): the working tree
    // passes the check, the commit must not.
    const sha = p.commit('infra/deploy/site.yml', '- hosts: all\n  gather_facts: false\n  tasks:\n    - ansible.builtin.import_tasks: extra.yml\n', 'import extra');
    writeFileSync(join(p.projectDir, 'deploy', 'extra.yml'), '- ansible.builtin.debug: { msg: extra }\n');
    const error = await checkPlaybook({ cwd: p.projectDir, playbook: 'deploy/site.yml', inventory: 'deploy/hosts.ini', sha, env: ansible.env }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe('deploy/site.yml: Unable to retrieve file contents: cannot find deploy/extra.yml');
    expect(ansible.runs()).toBe(2);
    // Committed, the same files pass, checked once (working tree and commit agree).
    const fixed = p.commit('infra/deploy/extra.yml', '- ansible.builtin.debug: { msg: extra }\n', 'add extra');
    expect(await checkPlaybook({ cwd: p.projectDir, playbook: 'deploy/site.yml', inventory: 'deploy/hosts.ini', sha: fixed, env: ansible.env })).toEqual({ cached: false });
    expect(ansible.runs()).toBe(3);
  });

  it("checking the working tree's files leaves nothing there, not even the log file ansible.cfg names", async () => {
    const p = project();
    const sha = p.commit('infra/ansible.cfg', '[defaults]\nlog_path = ./ansible.log\n', 'log to a file');
    expect(await checkPlaybook({ cwd: p.projectDir, playbook: 'deploy/site.yml', inventory: 'deploy/hosts.ini', sha })).toEqual({ cached: false });
    expect(existsSync(join(p.projectDir, 'ansible.log'))).toBe(false);
    expect(p.git('status', '--porcelain', '--ignored')).toBe('!! infra/.iac/'); // iac's own cache, which ignores itself
  });

  it('a syntax error in the commit fails even when the working tree fixes it (uncommitted)', async () => {
    const p = project();
    const bad = p.commit('infra/deploy/site.yml', '- hosts: all\n  tasks:\n    - name: two\n      ansible.builtin.debug: { msg: a }\n      ansible.builtin.command: echo b\n', 'broken');
    writeFileSync(join(p.projectDir, 'deploy', 'site.yml'), PLAYBOOK);
    const error = await checkPlaybook({ cwd: p.projectDir, playbook: 'deploy/site.yml', inventory: 'deploy/hosts.ini', sha: bad }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(/^deploy\/site\.yml:3:7: conflicting action statements/);
    expect((error as UsageError).hint).toBe('ansible-playbook --syntax-check deploy/site.yml');
  });

  it('a syntax error in the commit stops with file:line:col and is not remembered', async () => {
    const p = project();
    const ansible = countingAnsible();
    const bad = p.commit('infra/deploy/site.yml', '- hosts: all\n  tasks:\n    - name: two\n      ansible.builtin.debug: { msg: a }\n      ansible.builtin.command: echo b\n', 'broken');
    const run = (): Promise<unknown> =>
      checkPlaybook({ cwd: p.projectDir, playbook: 'deploy/site.yml', inventory: 'deploy/hosts.ini', sha: bad, env: ansible.env }).catch((e: unknown) => e);
    const error = await run();
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(/^deploy\/site\.yml:3:7: conflicting action statements/);
    expect(await run()).toBeInstanceOf(UsageError);
    expect(ansible.runs()).toBe(2);
  });
});

function realAnsible(): string {
  if (!hasTool('ansible-playbook')) throw new Error('ansible-playbook is not installed');
  for (const dir of (process.env.PATH ?? '').split(':')) {
    const candidate = join(dir, 'ansible-playbook');
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  throw new Error('ansible-playbook not on PATH');
}
