import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJenkinsSandbox, type JenkinsSandbox } from '../../src/sandbox/jenkins.js';
import { createProject } from '../helpers/project.js';
import { IAC_BIN, parseNdjson, runIac } from '../helpers/run-cli.js';

const USER = 'deployer';
const TOKEN = '0dd1f0c0ffee1234567890abcdef0dd1';
const ENV = { IAC_JENKINS_USER: USER, IAC_JENKINS_TOKEN: TOKEN };

describe('odd iac.yaml files end at once with exit 2 and file:line', () => {
  let project: ReturnType<typeof createProject>;
  beforeAll(() => {
    project = createProject({ jenkinsUrl: 'https://ci.example.invalid/' });
  });
  afterAll(() => project.cleanup());

  const cases: Array<[name: string, make: (file: string) => void, message: RegExp]> = [
    [
      'a YAML alias bomb',
      (file) => {
        const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
        for (let i = 1; i < 10; i++) lines.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill(`*${String.fromCharCode(96 + i)}`).join(',')}]`);
        writeFileSync(file, `${lines.join('\n')}\n`);
      },
      /bomb\.yaml:1:1: Excessive alias count/,
    ],
    ['a symlink to /dev/zero', (file) => symlinkSync('/dev/zero', file), /zero\.yaml: not a regular file/],
    ['a FIFO', (file) => execFileSync('mkfifo', [file]), /fifo\.yaml: not a regular file/],
    ['a file over 256 KiB', (file) => writeFileSync(file, `project: x\n${'#'.repeat(300 * 1024)}\n`), /big\.yaml: \d+ bytes is more than an iac\.yaml can be/],
    ['thousands of nested brackets', (file) => writeFileSync(file, `project: ${'['.repeat(50_000)}${']'.repeat(50_000)}\n`), /deep\.yaml:1:\d+: nested more than 32 levels deep/],
    [
      'tens of thousands of keys',
      (file) => writeFileSync(file, `project: x\nenvironments: {${Array.from({ length: 25_000 }, (_, i) => `k${i}:1`).join(',')}}\n`),
      /keys\.yaml:2:\d+: more than 20000 keys and list items/,
    ],
    ['an ftp:// Jenkins URL', (file) => writeFileSync(file, 'project: x\njenkins: { url: "ftp://ci.example.com/" }\nenvironments: { dev: { branch: develop } }\n'), /ftp\.yaml:2:\d+: jenkins\.url: expected an http\(s\) URL/],
    [
      'a timeout longer than a timer can hold',
      (file) => writeFileSync(file, 'project: x\nenvironments:\n  dev:\n    branch: develop\n    kubernetes: { namespace: shop, workloads: [deployment/web], timeout: 30d }\n'),
      /long\.yaml:5:\d+: environments\.dev\.kubernetes\.timeout: at most 24d/,
    ],
  ];

  for (const [name, make, message] of cases) {
    it(name, async () => {
      const file = join(project.root, `${/bomb|zero|fifo|big|deep|keys|ftp|long/.exec(message.source)?.[0]}.yaml`);
      make(file);
      const result = await runIac(['status', '--config', file], { cwd: project.work, timeoutMs: 20_000 });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).not.toContain('this is a bug in iac');
    });
  }

  it('--timeout accepts days and refuses what overflows a timer (600h)', async () => {
    const refused = await runIac(['up', '--dry-run', '--timeout', '600h'], { cwd: project.work });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--timeout 600h: at most 24d');
    const days = await runIac(['up', '--dry-run', '--timeout', '2d', '--only', 'git'], { cwd: project.work });
    expect(days.stderr).toBe('');
    expect(days.code).toBe(0);
  });
});

describe('flags and their environment twins', () => {
  let project: ReturnType<typeof createProject>;
  beforeAll(() => {
    project = createProject({ jenkinsUrl: 'https://ci.example.invalid/' });
  });
  afterAll(() => project.cleanup());

  it('boolean twins are strict: IAC_DRY_RUN=0/false/no/"" are off, anything unknown is exit 2', async () => {
    for (const off of ['0', 'false', 'no', '']) {
      const result = await runIac(['up', '--only', 'git', '--json'], { cwd: project.work, env: { IAC_DRY_RUN: off } });
      expect(parseNdjson(result.stdout).some((e) => e.type === 'plan'), `IAC_DRY_RUN=${off}`).toBe(false);
    }
    const on = await runIac(['up', '--only', 'git', '--json'], { cwd: project.work, env: { IAC_DRY_RUN: 'yes' } });
    expect(parseNdjson(on.stdout).some((e) => e.type === 'plan')).toBe(true);
    const plain = await runIac(['up', '--dry-run', '--only', 'git'], { cwd: project.work, env: { IAC_JSON: '0' } });
    expect(plain.stdout).toContain('dry run: nothing will be changed');
    const bad = await runIac(['status'], { cwd: project.work, env: { IAC_YES: 'maybe' } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('IAC_YES=maybe: expected 1, true or yes (on) or 0, false, no or empty (off)');
  });

  it('IAC_YES=false does not confirm a promotion without a terminal (exit 3, nothing pushed)', async () => {
    const p = createProject({ environments: { dev: { branch: 'develop' }, prod: { branch: 'main', promoteFrom: 'dev', confirm: true } } });
    try {
      p.git('push', '-q', 'origin', 'develop');
      const before = p.git('ls-remote', 'origin', 'refs/heads/main');
      const result = await runIac(['promote', 'develop', 'main', '--no-deploy', '--skip-gate'], { cwd: p.work, env: { IAC_YES: 'false' } });
      expect(result.code).toBe(3);
      expect(result.stderr).toContain('needs confirmation');
      expect(p.git('ls-remote', 'origin', 'refs/heads/main')).toBe(before);
    } finally {
      p.cleanup();
    }
  });

  it('a usage error with --json still ends with a result event; conflicting inventory flags are refused', async () => {
    const bogus = await runIac(['status', '--bogus', '--json'], { cwd: project.work });
    expect(bogus.code).toBe(2);
    expect(parseNdjson(bogus.stdout).at(-1)).toMatchObject({ type: 'result', exitCode: 2, outcome: 'failed', error: { code: 'usage' } });
    const both = await runIac(['inventory', '--list', '--host', 'x'], { cwd: project.work });
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("option '--host <name>' cannot be used with option '--list'");
  });
});

describe('a closed stdout never stops a run', () => {
  let jenkins: JenkinsSandbox;
  beforeAll(async () => {
    jenkins = await startJenkinsSandbox({
      users: [{ user: USER, token: TOKEN }],
      jobs: { 'shop/deploy': { parameters: ['GIT_SHA'], builds: [{ result: 'SUCCESS', durationMs: 800, consoleLines: Array.from({ length: 50 }, (_, i) => `line ${i}`) }] } },
    });
  });
  afterAll(async () => jenkins.close());

  it('`iac up | head -3`: the push and the build complete, and the run record ends with its result', async () => {
    const project = createProject({ jenkinsUrl: jenkins.url });
    try {
      const sha = project.git('rev-parse', 'HEAD');
      const before = jenkins.triggers.length;
      const child = spawn(process.execPath, [IAC_BIN, 'up', '--verbose'], {
        cwd: project.work,
        env: { ...process.env, ...ENV, NO_COLOR: '1', CI: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      // Read three lines like `head -3`, then close the pipe for good.
      let seen = '';
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (chunk: Buffer) => {
          seen += chunk.toString();
          if (seen.split('\n').length > 3) {
            child.stdout.destroy();
            resolve();
          }
        });
      });
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(code).toBe(0);
      expect(project.git('ls-remote', 'origin', 'refs/heads/develop').split('\t')[0]).toBe(sha);
      expect(jenkins.triggers.slice(before)).toHaveLength(1);
      const runs = join(project.work, '.iac', 'runs');
      const [dir] = readdirSync(runs);
      const events = parseNdjson(readFileSync(join(runs, dir as string, 'events.ndjson'), 'utf8'));
      expect(events.at(-1)).toMatchObject({ type: 'result', exitCode: 0, outcome: 'success' });
      expect(events.filter((e) => e.type === 'step.finished').map((e) => e.outcome)).toEqual(['success', 'success']);
    } finally {
      project.cleanup();
    }
  });

  it('`iac up --dry-run | head -1` exits 0', async () => {
    const project = createProject({ jenkinsUrl: jenkins.url });
    try {
      const child = spawn(process.execPath, [IAC_BIN, 'up', '--dry-run'], { cwd: project.work, env: { ...process.env, NO_COLOR: '1', CI: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.stdout.once('data', () => child.stdout.destroy());
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      expect(stderr).not.toContain('EPIPE');
      expect(code).toBe(0);
    } finally {
      project.cleanup();
    }
  });
});
