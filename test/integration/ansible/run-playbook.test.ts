import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { AnsibleError, InterruptedError, PreflightError, UsageError } from '../../../src/errors.js';
import { checkPlaybook } from '../../../src/ansible/preflight.js';
import { runPlaybook, type AnsibleEvent } from '../../../src/ansible/run-playbook.js';
import { settleBackground } from '../../../src/util/background.js';
import { toolAvailable } from '../../helpers/tools.js';
import { listProcesses, processesMatching, waitFor } from './procs.js';

const PLAYBOOKS = new URL('../../fixtures/ansible/playbooks/', import.meta.url).pathname;
const dirs: string[] = [];

/** A private copy of the test playbooks, so every test has unique absolute paths to look for in /proc. */
function workdir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'iac-ansible-it-'));
  cpSync(PLAYBOOKS, dir, { recursive: true });
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function capture<T>(promise: Promise<T>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the run to fail');
}

/** The `-e @<fifo>` argument of the running ansible-playbook started from `dir`, plus every argv seen. */
function secretFileOfRun(dir: string): { file: string | undefined; cmdlines: string[] } {
  const cmdlines = processesMatching(dir).map((p) => p.cmdline);
  const file = cmdlines.join(' ').match(/@(\S*secret-vars\.fifo)/)?.[1];
  return { file, cmdlines };
}

/** write-vars.yml on localhost with small vars and one secret var (writes out.json in `dir`). */
function writeVars(dir: string, secret: string) {
  return {
    cwd: dir,
    playbook: join(dir, 'write-vars.yml'),
    inventory: 'local.ini',
    extraVars: { app_version: '1', replicas: 1, nested: {}, out_file: join(dir, 'out.json') },
    secretExtraVars: { db_password: secret },
  };
}

describe.runIf(toolAvailable('ansible-playbook'))('runPlaybook with the real ansible-playbook', () => {
  it('runs a passing playbook with typed extra vars and a secret var kept off the command line and off the disk', async () => {
    const dir = workdir();
    const secret = `s3cr3t-${Math.random().toString(36).slice(2)}`;
    const outFile = join(dir, 'vars-out.json');
    const logFile = join(dir, 'runs', 'ansible.log');
    const events: AnsibleEvent[] = [];
    let seen: { file: string | undefined; cmdlines: string[] } | undefined;
    let secretFileLeft: boolean | undefined;
    let anyArgvWithSecret: string[] | undefined;

    const result = await runPlaybook({
      cwd: dir,
      playbook: join(dir, 'write-vars.yml'),
      inventory: 'local.ini',
      extraVars: { app_version: '1.2.3', replicas: 3, nested: { a: [1, 2] }, out_file: outFile },
      secretExtraVars: { db_password: secret },
      logFile,
      onEvent: (event) => {
        events.push(event);
        if (event.type === 'task-start' && !seen) {
          seen = secretFileOfRun(dir);
          // Ansible has read the vars by the first task: the named pipe and its directory are gone.
          if (seen.file) secretFileLeft = existsSync(seen.file) || existsSync(dirname(seen.file));
          anyArgvWithSecret = listProcesses().filter((p) => p.cmdline.includes(secret)).map((p) => p.cmdline);
        }
      },
    });

    expect(result.exitCode).toBe(0);
    expect(result.stats.localhost).toMatchObject({ failures: 0, unreachable: 0, changed: 1 });
    // Ansible got every var with its type, the secret included.
    expect(JSON.parse(readFileSync(outFile, 'utf8'))).toEqual({
      app_version: '1.2.3',
      replicas: 3,
      replicas_type: 'int',
      nested: { a: [1, 2] },
      db_password: secret,
    });
    // While it ran: the secret was in no process argv, only the 0600 file was referenced.
    expect(seen?.cmdlines.length).toBeGreaterThan(0);
    expect(seen?.cmdlines.join('\n')).not.toContain(secret);
    expect(anyArgvWithSecret).toEqual([]); // no process on the machine had it in its argv
    expect(seen?.file).toMatch(/\/iac-secret-[^/]+\/secret-vars\.fifo$/);
    expect(secretFileLeft).toBe(false);
    expect(existsSync(seen?.file as string)).toBe(false);
    // Nothing we report or log contains it, although a task printed it.
    expect(JSON.stringify(events)).not.toContain(secret);
    expect(JSON.stringify(events)).toContain('password is ***');
    const log = readFileSync(logFile, 'utf8');
    expect(log).not.toContain(secret);
    // The log is Ansible's own output (default callback): its task headers and PLAY RECAP.
    expect(log).toContain('TASK [Record extra vars]');
    expect(log).toMatch(/PLAY RECAP \*+\nlocalhost\s+: ok=3\s+changed=1 /);
    expect(log).toContain('"msg": "password is ***"');
    expect(result.totals).toEqual({ ok: 3, changed: 1, failures: 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 });
    expect(result.tasks).toBe(3);

    const tasks = events.filter((e) => e.type === 'task');
    expect(tasks.map((t) => (t.type === 'task' ? [t.name, t.hosts.changed, t.hosts.ok] : []))).toEqual([
      ['Record extra vars', 1, 1],
      ['Say done', 0, 1],
      ['Echo the secret (iac must redact it from events and logs)', 0, 1],
    ]);
    expect(events.find((e) => e.type !== 'output')).toMatchObject({ type: 'playbook' });
    expect(events.filter((e) => e.type !== 'output').at(-1)).toMatchObject({ type: 'stats' });
    // Ansible's own output arrives as output events too (what --verbose streams).
    expect(events).toContainEqual({ type: 'output', stream: 'stdout', line: 'TASK [Say done] ****************************************************************' });
  });

  it('fails with exit 30 naming the task, host, msg, rc and stderr; the secret pipe is gone; the hint re-runs as run', async () => {
    const dir = workdir();
    const secret = `pw-${Math.random().toString(36).slice(2)}`;
    let secretFile: string | undefined;
    const events: AnsibleEvent[] = [];
    const error = await capture(
      runPlaybook({
        cwd: dir,
        playbook: join(dir, 'failing.yml'),
        inventory: 'local.ini',
        secretExtraVars: { token: secret },
        onEvent: (event) => {
          events.push(event);
          if (event.type === 'task-start') secretFile ??= secretFileOfRun(dir).file;
        },
      }),
    );
    expect(error).toBeInstanceOf(AnsibleError);
    const err = error as AnsibleError;
    expect(err.exitCode).toBe(30);
    expect(err.message).toBe('task "Fail on purpose" failed on localhost: non-zero return code');
    expect(err.details).toEqual(
      expect.arrayContaining(['task: Fail on purpose', 'host: localhost', 'msg: non-zero return code', 'rc: 3', 'stderr: boom']),
    );
    // The ignore_errors failure is reported as ignored, not failed, and is not blamed.
    expect(events).toContainEqual(expect.objectContaining({ type: 'host', task: 'Tolerated failure', status: 'ignored' }));
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'task', name: 'Fail on purpose', hosts: expect.objectContaining({ failed: 1 }) }),
    );
    expect(secretFile).toBeDefined();
    expect(existsSync(secretFile as string)).toBe(false);
    expect(`${err.message}${err.details.join('')}${JSON.stringify(events)}`).not.toContain(secret);
    expect(err.hint).toBe(`cd ${dir} && ansible-playbook -i local.ini ${join(dir, 'failing.yml')}   # secret extra vars token not included: add -e @<file with them>`);
  });

  it('changes nothing with check and diff, and reports the diff', async () => {
    const dir = workdir();
    const outFile = join(dir, 'vars-out.json');
    const events: AnsibleEvent[] = [];
    const result = await runPlaybook({
      cwd: dir,
      playbook: 'write-vars.yml',
      inventory: 'local.ini',
      extraVars: { app_version: '2.0', replicas: 1, nested: {}, out_file: outFile },
      secretExtraVars: { db_password: 'check-mode-secret' },
      check: true,
      diff: true,
      onEvent: (event) => events.push(event),
    });
    expect(result.exitCode).toBe(0);
    expect(existsSync(outFile)).toBe(false);
    expect(events).toContainEqual(expect.objectContaining({ type: 'host', task: 'Say done', status: 'ok' }));
    expect(events).toContainEqual(expect.objectContaining({ type: 'host', task: 'Record extra vars', status: 'changed' }));
  });

  it('reports an unreachable host with exit 31', async () => {
    const dir = workdir();
    const error = await capture(
      runPlaybook({ cwd: dir, playbook: 'ok.yml', inventory: 'unreachable.ini', onEvent: () => undefined }),
    );
    expect(error).toBeInstanceOf(AnsibleError);
    expect((error as AnsibleError).exitCode).toBe(31);
    expect((error as AnsibleError).message).toMatch(/^host deadhost unreachable at task "Run a command": Failed to connect/);
    expect((error as AnsibleError).hint).toBe(`cd ${dir} && ansible all -i unreachable.ini -m ping --limit deadhost`);
  });

  it('held (started early): loads and waits before its first task; released, it runs; cancelled, it is killed having run nothing', async () => {
    const run = (dir: string, hold: Promise<void>, events: AnsibleEvent[]): Promise<unknown> =>
      runPlaybook({ ...writeVars(dir, 'pw'), hold, onEvent: (event) => events.push(event) });
    // Released after a while: nothing ran before, everything after.
    const released = workdir();
    const releasedEvents: AnsibleEvent[] = [];
    let release!: () => void;
    const running = run(released, new Promise<void>((resolve) => (release = resolve)), releasedEvents);
    await waitFor(() => (processesMatching(released).some((p) => p.cmdline.includes('ansible-playbook')) ? true : undefined), 10_000);
    await new Promise((resolve) => setTimeout(resolve, 2_500)); // ansible-playbook is up, parsed, and held
    expect(releasedEvents.filter((e) => e.type === 'task-start')).toEqual([]);
    expect(existsSync(join(released, 'out.json'))).toBe(false);
    release();
    await expect(running).resolves.toMatchObject({ exitCode: 0 });
    expect(existsSync(join(released, 'out.json'))).toBe(true);

    // Cancelled: the group is killed, no task ran, nothing is left.
    const cancelled = workdir();
    const cancelledEvents: AnsibleEvent[] = [];
    let cancel!: (error: Error) => void;
    const doomed = run(cancelled, new Promise<void>((_resolve, reject) => (cancel = reject)), cancelledEvents);
    await waitFor(() => (processesMatching(cancelled).some((p) => p.cmdline.includes('ansible-playbook')) ? true : undefined), 10_000);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    cancel(new Error('the build failed'));
    expect(await capture(doomed)).toBeInstanceOf(InterruptedError);
    expect(cancelledEvents.filter((e) => e.type === 'task-start')).toEqual([]);
    expect(existsSync(join(cancelled, 'out.json'))).toBe(false);
    await waitFor(() => (processesMatching(cancelled).length === 0 ? true : undefined), 5_000);
  });

  it('endAtCleanStats: returns at clean final stats; the exit, the log and the secret pipe finish in the background before iac exits', async () => {
    const dir = workdir();
    const logFile = join(dir, 'runs', 'ansible.log');
    let pipe: string | undefined;
    const result = await runPlaybook({
      ...writeVars(dir, 'pw-background'),
      logFile,
      endAtCleanStats: true,
      onEvent: (event) => {
        if (event.type === 'task-start' && pipe === undefined) pipe = secretFileOfRun(dir).file;
      },
    });
    expect(result.exitCode).toBe(0);
    expect(result.stats.localhost).toMatchObject({ failures: 0, unreachable: 0 });
    // What cli.ts does before exiting: the background work completes.
    await settleBackground(10_000);
    expect(readFileSync(logFile, 'utf8')).toMatch(/PLAY RECAP \*+\nlocalhost +: ok=3 +changed=1/);
    expect(processesMatching(dir)).toEqual([]);
    expect(pipe).toBeDefined();
    expect(existsSync(dirname(pipe as string))).toBe(false);
  });

  it('stops on abort: SIGINT to the process group, InterruptedError (130), nothing left running', async () => {
    const dir = workdir();
    const sleepArg = `41.${String(Date.now()).slice(-6)}`;
    const controller = new AbortController();
    let groupId: number | undefined;
    let sleeperGroupId: number | undefined;
    const run = runPlaybook({
      cwd: dir,
      playbook: join(dir, 'sleep.yml'),
      inventory: 'local.ini',
      extraVars: { sleep_seconds: sleepArg },
      signal: controller.signal,
      interruptGraceMs: 20_000,
      onEvent: (event) => {
        if (event.type !== 'task-start') return;
        // Abort once the module's `sleep` is really running (that is the process a pid-only kill orphans).
        void waitFor(() => processesMatching(`sleep ${sleepArg}`)[0], 15_000).then((sleeper) => {
          sleeperGroupId = sleeper.pgid;
          groupId = processesMatching(join(dir, 'sleep.yml'))[0]?.pgid;
          controller.abort();
        });
      },
    });
    const error = await capture(run);
    expect(error).toBeInstanceOf(InterruptedError);
    expect((error as InterruptedError).exitCode).toBe(130);
    expect((error as InterruptedError).message).toContain('Sleep');
    expect(groupId).toBeDefined();
    expect(sleeperGroupId).toBe(groupId); // the module's sleep ran inside ansible's process group
    // Zombies have exited already (only their exit status waits for init to reap it).
    expect(listProcesses().filter((p) => p.pgid === groupId && p.state !== 'Z')).toEqual([]);
    expect(processesMatching(`sleep ${sleepArg}`)).toEqual([]);
    expect(processesMatching(dir)).toEqual([]);
  });

  it('throws PreflightError (exit 3) with the install hint when ansible-playbook is missing', async () => {
    const dir = workdir();
    const error = await capture(
      runPlaybook({
        cwd: dir,
        playbook: 'ok.yml',
        inventory: 'local.ini',
        ansiblePlaybookBin: 'ansible-playbook-not-installed',
        onEvent: () => undefined,
      }),
    );
    expect(error).toBeInstanceOf(PreflightError);
    expect((error as PreflightError).exitCode).toBe(3);
    expect((error as PreflightError).hint).toContain('apt-get install ansible-core');
  });

  it('gives local tasks no secret they do not need: Jenkins credentials, secret-looking and secret-var variables are gone', async () => {
    const dir = workdir();
    const outFile = join(dir, 'env-out.json');
    const vaultPasswordFile = join(dir, 'vault-pass');
    writeFileSync(vaultPasswordFile, 'not-used\n', { mode: 0o600 });
    await runPlaybook({
      cwd: dir,
      playbook: 'print-env.yml',
      inventory: 'local.ini',
      extraVars: { out_file: outFile },
      env: {
        ...process.env,
        IAC_JENKINS_TOKEN: 'jenkins-token-value',
        IAC_JENKINS_USER: 'jenkins-user',
        MY_API_TOKEN: 'api-token-value',
        DEPLOY_PASSWORD: 'deploy-password-value',
        PLAIN_DB_URL: 'db-secret-behind-a-harmless-name',
        AWS_SECRET_ACCESS_KEY: 'aws-secret-value',
        ANSIBLE_VAULT_PASSWORD_FILE: vaultPasswordFile,
        HARMLESS_SETTING: 'kept',
      },
      dropEnv: ['PLAIN_DB_URL'],
      secretExtraVars: { db_url: 'db-secret-behind-a-harmless-name' },
      onEvent: () => undefined,
    });
    const seen = JSON.parse(readFileSync(outFile, 'utf8')) as { lookup: Record<string, string>; module_env: string };
    expect(seen.lookup).toEqual({
      IAC_JENKINS_TOKEN: '',
      IAC_JENKINS_USER: '',
      MY_API_TOKEN: '',
      DEPLOY_PASSWORD: '',
      PLAIN_DB_URL: '',
      AWS_SECRET_ACCESS_KEY: 'aws-secret-value',
      ANSIBLE_VAULT_PASSWORD_FILE: vaultPasswordFile,
      HARMLESS_SETTING: 'kept',
    });
    // The environment a module process really had (`env` run by the command module).
    for (const gone of ['jenkins-token-value', 'jenkins-user', 'api-token-value', 'deploy-password-value', 'IAC_EVENTS_FD', 'IAC_CONTROL_FD', 'IAC_SECRET_DIR']) {
      expect(seen.module_env).not.toContain(gone);
    }
    expect(seen.module_env).toContain('HARMLESS_SETTING=kept');
  });

  it('masks every secret the caller knows of in the log and events (the output redactor), not only the secret vars', async () => {
    const dir = workdir();
    const logFile = join(dir, 'runs', 'ansible.log');
    const events: AnsibleEvent[] = [];
    await runPlaybook({
      cwd: dir,
      playbook: 'ok.yml',
      inventory: 'local.ini',
      extraVars: { target: 'local' },
      logFile,
      redact: (text) => text.replaceAll('hi from', '[masked]'),
      onEvent: (event) => events.push(event),
    });
    expect(readFileSync(logFile, 'utf8')).not.toContain('hi from');
    expect(readFileSync(logFile, 'utf8')).toContain('"msg": "[masked] localhost"');
    expect(JSON.stringify(events)).not.toContain('hi from');
  });
});

describe.runIf(toolAvailable('ansible-playbook'))('checkPlaybook', () => {
  it('accepts a valid playbook and inventory', async () => {
    const dir = workdir();
    await expect(checkPlaybook({ cwd: dir, playbook: 'ok.yml', inventory: 'local.ini' })).resolves.toEqual({ cached: false });
    await expect(checkPlaybook({ cwd: dir, playbook: 'ok.yml', inventory: { ec2: {} } })).resolves.toEqual({ cached: false });
    await expect(checkPlaybook({ cwd: dir, playbook: 'ok.yml', inventory: 'web1,web2,' })).resolves.toEqual({ cached: false });
  });

  it('rejects a syntax error with exit 2, file, line and column, before anything ran', async () => {
    const dir = workdir();
    const error = await capture(checkPlaybook({ cwd: dir, playbook: 'syntax.yml', inventory: 'local.ini' }));
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).exitCode).toBe(2);
    expect((error as UsageError).message).toBe(
      'syntax.yml:4:7: conflicting action statements: ansible.builtin.debug, not_a_keyword',
    );
    const yaml = await capture(checkPlaybook({ cwd: dir, playbook: 'yamlerr.yml', inventory: 'local.ini' }));
    expect((yaml as UsageError).message).toBe('yamlerr.yml:5:4: YAML: did not find expected key');
  });

  it('rejects a missing playbook or inventory with exit 2', async () => {
    const dir = workdir();
    const noBook = await capture(checkPlaybook({ cwd: dir, playbook: 'nope.yml', inventory: 'local.ini' }));
    expect(noBook).toBeInstanceOf(UsageError);
    expect((noBook as UsageError).message).toBe('playbook not found: nope.yml');
    const noInv = await capture(checkPlaybook({ cwd: dir, playbook: 'ok.yml', inventory: 'inventories/nope' }));
    expect((noInv as UsageError).message).toBe('inventory not found: inventories/nope');
  });
});
