import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listProcesses, processesMatching, waitFor } from '../integration/ansible/procs.js';
import { createProject } from '../helpers/project.js';
import { IAC_BIN } from '../helpers/run-cli.js';
import { toolAvailable } from '../helpers/tools.js';

const SLOW = 120_000;

/**
 * `iac up --only ansible` killed while a task runs: the playbook's process group must end with it and the
 * secret extra var must be nowhere on disk, whether iac dies by SIGKILL (no handler can run), by SIGHUP
 * (the terminal closed) or by a double Ctrl-C (iac exits at once).
 */
async function killDuringTask(kill: (iac: ChildProcess) => Promise<void> | void): Promise<void> {
  const secret = `pw-${Math.random().toString(36).slice(2)}-${Date.now()}`;
  const sleepArg = `63.${String(Date.now()).slice(-6)}`;
  const project = createProject({
    environments: {
      dev: {
        branch: 'develop',
        ansible: {
          playbook: 'deploy/site.yml',
          inventory: 'deploy/hosts.ini',
          secretExtraVars: { db_password: '${env.TEST_DB_PASSWORD}' },
        },
      },
    },
  });
  let iac: ChildProcess | undefined;
  try {
    mkdirSync(join(project.work, 'deploy'));
    writeFileSync(join(project.work, 'deploy/hosts.ini'), 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n');
    writeFileSync(
      join(project.work, 'deploy/site.yml'),
      `- hosts: all\n  gather_facts: false\n  tasks:\n    - name: Use the secret\n      ansible.builtin.debug: { msg: "{{ db_password | length }}" }\n    - name: Sleep\n      ansible.builtin.command: sleep ${sleepArg}\n`,
    );
    project.git('add', '.');
    project.git('commit', '-q', '-m', 'playbook');

    iac = spawn(process.execPath, [IAC_BIN, 'up', '--only', 'ansible'], {
      cwd: project.work,
      env: { ...process.env, NO_COLOR: '1', CI: '', TEST_DB_PASSWORD: secret },
      stdio: 'ignore',
    });
    const sleeper = await waitFor(() => processesMatching(`sleep ${sleepArg}`)[0], 60_000);
    const group = sleeper.pgid;
    const playbookCmdline = listProcesses().find((p) => p.pid === group)?.cmdline ?? '';
    expect(playbookCmdline).toContain('ansible-playbook');
    const fifo = /@(\S*secret-vars\.fifo)/.exec(playbookCmdline)?.[1];
    expect(fifo).toBeDefined();

    await kill(iac);

    // Within a few seconds nothing of the playbook's group is left (zombies have exited already).
    await waitFor(() => (listProcesses().some((p) => p.pgid === group && p.state !== 'Z') ? undefined : true), 15_000);
    expect(processesMatching(`sleep ${sleepArg}`).filter((p) => p.state !== 'Z')).toEqual([]);
    // No secret on disk: the named pipe and its private directory are gone, no file anywhere we wrote holds it.
    expect(existsSync(fifo as string)).toBe(false);
    expect(existsSync(dirname(fifo as string))).toBe(false);
    const suspects = [
      ...readdirSync(tmpdir()).filter((n) => n.startsWith('iac-')).map((n) => join(tmpdir(), n)),
      join(project.work, '.iac'),
    ];
    for (const file of suspects.flatMap(filesUnder)) {
      expect(readFileSync(file, 'utf8').includes(secret), file).toBe(false);
    }
  } finally {
    iac?.kill('SIGKILL');
    project.cleanup();
  }
}

function filesUnder(path: string): string[] {
  try {
    const s = statSync(path);
    if (s.isFile()) return s.size < 16 * 1024 * 1024 ? [path] : [];
    if (!s.isDirectory()) return [];
    return readdirSync(path).flatMap((name) => filesUnder(join(path, name)));
  } catch {
    return []; // gone meanwhile, or not ours to read
  }
}

describe.runIf(toolAvailable('ansible-playbook'))('the playbook cannot outlive iac, and no secret survives on disk', () => {
  it('SIGKILL of iac during the Ansible step', async () => {
    await killDuringTask((iac) => void iac.kill('SIGKILL'));
  }, SLOW);

  it('SIGHUP (the terminal closed)', async () => {
    await killDuringTask((iac) => void iac.kill('SIGHUP'));
  }, SLOW);

  it('a double Ctrl-C', async () => {
    await killDuringTask(async (iac) => {
      iac.kill('SIGINT');
      await new Promise((resolve) => setTimeout(resolve, 200));
      iac.kill('SIGINT');
    });
  }, SLOW);
});
