import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { kubectlFor, tableRows } from '../helpers/kubectl.js';
import { IAC_BIN, runIac } from '../helpers/run-cli.js';
import { toolAvailable } from '../helpers/tools.js';

function scratchDir(output: string): string {
  const match = /a scratch project in (\S+),/.exec(output);
  if (!match) throw new Error(`no scratch dir in: ${output.slice(0, 300)}`);
  return match[1] as string;
}

/** The output of each `▶ n/4` step. */
function sections(stdout: string): string[] {
  return stdout.split(/^▶ \d\/4 {2}/m).slice(1);
}

/** Each workload's rollout lines in one step's output: progress first, success last. */
function expectWatchedRollout(section: string): void {
  for (const name of ['web', 'worker']) {
    const lines = section.split('\n').filter((line) => line.includes(`rollout: deployment/${name}: `));
    const waiting = lines.findIndex((line) => line.includes(`Waiting for deployment "${name}" rollout to finish`));
    const done = lines.findIndex((line) => line.endsWith(`deployment "${name}" successfully rolled out`));
    expect(waiting, `${name}: no progress line before success in:\n${lines.join('\n')}`).toBeGreaterThanOrEqual(0);
    expect(done).toBeGreaterThan(waiting);
  }
}

describe.runIf(toolAvailable('ansible-playbook'))('iac demo', () => {
  it('runs up, status, promote and status against the sandboxes — the playbook really deploys — exits 0 and leaves nothing behind', async () => {
    const result = await runIac(['demo'], { cwd: process.cwd(), timeoutMs: 240_000 });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    for (const step of ['▶ 1/4  iac up dev', '▶ 2/4  iac status', '▶ 3/4  iac promote develop main', '▶ 4/4  iac status']) expect(result.stdout).toContain(step);
    expect(result.stdout).toContain('⚠ 1 commit on develop not yet on main — run: iac promote develop main');
    const promoted = /git .*origin\/main (\w{7}) → (\w{7}) \(fast-forward, 1 commit\)/.exec(result.stdout);
    expect(promoted).not.toBeNull();
    const [, mainSha, featureSha] = promoted as unknown as [string, string, string];
    expect(result.stdout).toContain('✔ demo complete');
    expect(result.stdout).not.toContain('11e5d3m0t0k3n');

    const [up, status1, promote, status2] = sections(result.stdout) as [string, string, string, string];
    // The playbook applied the commit's manifests, and up's rollout step watched that rollout happen.
    const applyTask = toolAvailable('kubectl') ? 'Apply the manifests with kubectl' : 'Apply the manifests through the Kubernetes API (server-side apply)';
    for (const deploy of [up, promote]) {
      expect(deploy).toMatch(new RegExp(`ansible: ✓ ${applyTask.replace(/[()]/g, '\\$&')}\\s+ok=1 changed=\\d`));
      expectWatchedRollout(deploy);
    }
    expect(up).toContain(`ansible: ✓ Render the manifests for image ${featureSha}`);
    // Both status screens agree with what up and promote reported.
    expect(status1).toMatch(new RegExp(`deployment/web\\s+3/3\\s+✔ runs ${featureSha} \\(develop head\\)`));
    expect(status1).toMatch(new RegExp(`deployment/web\\s+3/3\\s+✔ runs ${mainSha} \\(main head\\)`));
    expect(status2).not.toContain(`runs ${mainSha}`);
    expect(status2).toMatch(new RegExp(`promoted .* from develop: ${mainSha} → ${featureSha} \\(success\\)`));
    expect(status2.match(new RegExp(`✔ runs ${featureSha} \\((develop|main) head\\)`, 'g'))).toHaveLength(4);
    expect(existsSync(scratchDir(result.stdout))).toBe(false);
  }, 300_000);

  it.runIf(toolAvailable('kubectl'))('--keep: the cluster runs the deployed commit, and every printed command works exactly as printed', async () => {
    const home = mkdtempSync(join(tmpdir(), 'iac-demo-keep-home-'));
    const demo = spawn(process.execPath, [IAC_BIN, 'demo', '--keep'], { env: { ...process.env, NO_COLOR: '1', CI: '' } });
    let out = '';
    demo.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const ended = new Promise<number>((resolve) => demo.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
    let scratch: string | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no instructions within 240 s:\n${out}`)), 240_000);
        const check = (): void => {
          if (/^ {2}kubectl rollout history .*$/m.test(out)) {
            clearTimeout(timer);
            resolve();
          }
        };
        demo.stdout.on('data', check);
        void ended.then((code) => reject(new Error(`demo exited ${code} early:\n${out}`)));
      });
      scratch = scratchDir(out);
      const printed = out.slice(out.indexOf('Try it in another terminal:\n') + 'Try it in another terminal:\n'.length).split('\n');
      const commands = printed.slice(0, printed.findIndex((line) => !line.startsWith('  '))).map((line) => line.slice(2));
      expect(commands.map((command) => command.split(' ')[0])).toEqual(['cd', 'export', IAC_BIN, 'kubectl', 'kubectl', IAC_BIN, 'kubectl']);

      // Before anything by hand: both environments run the commit the demo deployed, as full-SHA image tags.
      const work = commands[0]?.slice(3) as string;
      const kubeconfig = /KUBECONFIG=(\S+)/.exec(commands[1] as string)?.[1] as string;
      const kubectl = kubectlFor(kubeconfig, home);
      const sha = await new Promise<string>((resolve, reject) =>
        execFile('git', ['rev-parse', 'main'], { cwd: work }, (error, stdout) => (error ? reject(error) : resolve(stdout.trim()))),
      );
      expect(sha).toMatch(/^[0-9a-f]{40}$/);
      for (const namespace of ['shop-dev', 'shop-prod']) {
        const images = await kubectl(['get', 'deploy', '-n', namespace, '-o', 'jsonpath={range .items[*]}{.spec.template.spec.containers[0].image}{"\\n"}{end}']);
        expect(images.stdout.trim().split('\n')).toEqual([`registry.example.com/shop-web:${sha}`, `registry.example.com/shop-worker:${sha}`]);
        const pods = await kubectl(['get', 'pods', '-n', namespace, '-o', 'jsonpath={range .items[*]}{.spec.containers[0].image}{"\\n"}{end}']);
        expect(new Set(pods.stdout.trim().split('\n'))).toEqual(new Set([`registry.example.com/shop-web:${sha}`, `registry.example.com/shop-worker:${sha}`]));
        expect((await kubectl(['rollout', 'history', 'deployment/web', '-n', namespace])).stdout).toBe('deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n');
      }

      // Now as a user would: one shell, the printed lines typed one after another.
      const script = commands.map((command, index) => `${command}\necho "::rc ${index} $?"\n`).join('');
      const shell = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
        const child = execFile('bash', ['--noprofile', '--norc'], { env: { PATH: process.env.PATH ?? '', HOME: home, NO_COLOR: '1', CI: '' }, timeout: 180_000, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stdout}\n${stderr}`)) : resolve({ stdout, stderr }),
        );
        child.stdin?.end(script);
      });
      const codes = [...shell.stdout.matchAll(/^::rc (\d+) (\d+)$/gm)].map((match) => [commands[Number(match[1])], Number(match[2])]);
      expect(codes, `${shell.stdout}\n${shell.stderr}`).toEqual(commands.map((command) => [command, 0]));
      const output = shell.stdout.split(/^::rc \d+ \d+$/m);
      expect(output[2]).toMatch(new RegExp(`deployment/web\\s+3/3\\s+✔ runs ${sha.slice(0, 7)} \\(develop head\\)`));
      const pods = tableRows(output[3] as string);
      expect(pods[0]).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
      expect(pods.slice(1).filter((row) => row[2] === 'Running')).toHaveLength(6);
      expect(output[4]?.trim()).toBe('deployment.apps/web image updated');
      expect(output[5]).toContain('deployment "web" successfully rolled out');
      expect(output[5]).toContain('deployment "worker" successfully rolled out');
      expect(output[6]?.trim()).toBe('deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n3         <none>');
      const web = await kubectl(['get', 'deploy', 'web', '-n', 'shop-dev', '-o', 'jsonpath={.spec.template.spec.containers[0].image} {.status.updatedReplicas}/{.status.availableReplicas}']);
      expect(web.stdout).toBe(`registry.example.com/shop-web:${sha.slice(0, 7)} 3/3`);

      // The demo's EC2 instances are where its iac.yaml says (eu-central-1), with that region's names.
      const exported = Object.fromEntries((commands[1] as string).slice('export '.length).split(' ').map((pair) => pair.split('=') as [string, string]));
      const inventory = await runIac(['inventory', 'prod', '--list'], { cwd: work, env: { ...exported, HOME: home } });
      expect(inventory.code, inventory.stderr).toBe(0);
      // EC2 values reach Ansible marked unsafe ({"__ansible_unsafe": …}, as Ansible's JSON decoder reads it).
      type Unsafe = { __ansible_unsafe: string };
      const hostvars = (JSON.parse(inventory.stdout) as { _meta: { hostvars: Record<string, { placement: { region: Unsafe; availability_zone: Unsafe } }> } })._meta.hostvars;
      // Running instances only (aws_ec2's default states): shop-prod-3 is stopped.
      expect(Object.keys(hostvars).sort()).toEqual(['ip-10-0-2-11', 'ip-10-0-2-12'].map((host) => `${host}.eu-central-1.compute.internal`));
      for (const vars of Object.values(hostvars)) {
        expect(vars.placement.region.__ansible_unsafe).toBe('eu-central-1');
        expect(vars.placement.availability_zone.__ansible_unsafe).toMatch(/^eu-central-1[abc]$/);
      }
    } finally {
      demo.kill('SIGINT');
      await ended;
      if (scratch) rmSync(scratch, { recursive: true, force: true });
      rmSync(home, { recursive: true, force: true });
    }
  }, 480_000);

  it.runIf(toolAvailable('script'))('draws the live task list on a terminal (pseudo-TTY via script)', async () => {
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(
        'script',
        ['-qfec', `stty cols 120 rows 40; ${JSON.stringify(process.execPath)} ${JSON.stringify(IAC_BIN)} demo`, '/dev/null'],
        { env: { ...process.env, TERM: 'xterm-256color', CI: '', NO_COLOR: '' }, timeout: 240_000, maxBuffer: 64 * 1024 * 1024 },
        (error, out) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout: out }),
      );
    });
    expect(code).toBe(0);
    // Spinner frames and in-place updates: the listr2 live renderer, not plain lines.
    expect(stdout).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] /);
    expect(stdout).toContain('\x1b[');
    expect(stdout).toContain('Roll out 2 workloads');
    expect(stdout).not.toMatch(/^\[\d\d:\d\d:\d\d\] /m);
  }, 300_000);

  it('Ctrl-C stops the demo with exit 130 and removes the scratch project', async () => {
    const child = spawn(process.execPath, [IAC_BIN, 'demo'], { env: { ...process.env, NO_COLOR: '1', CI: '' } });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('jenkins: #1 running') && !child.killed) child.kill('SIGINT');
    });
    const code = await new Promise<number>((resolve) => child.on('close', (c, signal) => resolve(c ?? (signal ? 128 : 1))));
    expect(code).toBe(130);
    expect(existsSync(scratchDir(out))).toBe(false);
  });
});
