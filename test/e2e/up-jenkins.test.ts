import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJenkinsSandbox, type JenkinsSandbox, type SandboxBuildResult } from '../../src/sandbox/jenkins.js';
import { createProject } from '../helpers/project.js';
import { parseNdjson, runIac } from '../helpers/run-cli.js';

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
