import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJenkinsSandbox, type JenkinsSandbox } from '../../src/sandbox/jenkins.js';
import { createProject } from '../helpers/project.js';
import { parseNdjson, runIac } from '../helpers/run-cli.js';

const USER = 'deployer';
const TOKEN = '5e1f0c0ffee1234567890abcdef0c0mm';
const ENV = { IAC_JENKINS_USER: USER, IAC_JENKINS_TOKEN: TOKEN };

async function until(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** `run.started` and `result` of every run of the project, from the run directories' events.ndjson. */
function runRecords(work: string): Array<{ command: string; sha: string; startedAt: number; endedAt: number; steps: Record<string, number> }> {
  const runs = join(work, '.iac', 'runs');
  return readdirSync(runs).map((dir) => {
    const events = parseNdjson(readFileSync(join(runs, dir, 'events.ndjson'), 'utf8'));
    const started = events.find((e) => e.type === 'run.started') as { command: string; sha: string; time: string };
    const steps: Record<string, number> = {};
    for (const e of events) if (e.type === 'step.finished') steps[String(e.step)] = Date.parse(String(e.time));
    return { command: started.command, sha: started.sha, startedAt: Date.parse(started.time), endedAt: Date.parse(String(events.at(-1)?.time)), steps };
  });
}

describe('one commit per run, end to end (real git, Jenkins sandbox)', () => {
  let jenkins: JenkinsSandbox;

  beforeAll(async () => {
    jenkins = await startJenkinsSandbox({
      users: [{ user: USER, token: TOKEN }],
      jobs: {
        'shop/deploy': { parameters: ['GIT_SHA'], builds: [{ result: 'SUCCESS', durationMs: 200 }] },
        'shop/prod': { parameters: ['GIT_SHA'], builds: [{ result: 'SUCCESS', durationMs: 3500 }] },
      },
    });
  });
  afterAll(async () => jenkins.close());

  it('a commit made during the preflight is not pushed: the remote and Jenkins get the run\'s SHA, and the run says the branch moved', async () => {
    const project = createProject({ jenkinsUrl: jenkins.url });
    try {
      const bound = project.git('rev-parse', 'HEAD');
      const requestsBefore = jenkins.requests.length;
      const triggersBefore = jenkins.triggers.length;
      // The preflight asks Jenkins for the job; hold its answer long enough to commit meanwhile.
      jenkins.faults = { latencyMs: 1500 };
      const run = runIac(['up', '--only', 'git,jenkins'], { cwd: project.work, env: ENV });
      await until(() => jenkins.requests.length > requestsBefore, 'the preflight request to Jenkins');
      const later = project.commit('late.txt', 'made while iac up was in preflight\n', 'a commit during the preflight');
      const result = await run;
      jenkins.faults = {};
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(project.git('ls-remote', 'origin', 'refs/heads/develop').split('\t')[0]).toBe(bound);
      expect(jenkins.triggers.slice(triggersBefore).map((t) => t.parameters.GIT_SHA)).toEqual([bound]);
      expect(result.stdout).toContain(`develop moved to ${later.slice(0, 7)} during this run; this run deployed ${bound.slice(0, 7)}`);
      expect(result.stdout).toContain('`iac up dev` deploys the new commit');
      expect(project.git('rev-parse', 'develop')).toBe(later);
    } finally {
      jenkins.faults = {};
      project.cleanup();
    }
  });

  it('promote and `up prod` run at the same time never both succeed with prod left on an older commit than origin/main', async () => {
    // up's build (3.5 s) spans promote's push: the race is real, not a lucky ordering.
    let overlapped = 0;
    for (const offsetMs of [0, 500]) {
      const project = createProject({
        jenkinsUrl: jenkins.url,
        environments: {
          dev: { branch: 'develop', jenkins: { job: 'shop/deploy', parameters: { GIT_SHA: '${git.sha}' }, pollInterval: '50ms' } },
          prod: { branch: 'main', promoteFrom: 'dev', jenkins: { job: 'shop/prod', parameters: { GIT_SHA: '${git.sha}' }, pollInterval: '50ms' } },
        },
      });
      try {
        project.git('push', '-q', 'origin', 'develop');
        const oldMain = project.git('rev-parse', 'main');
        const promoted = project.git('rev-parse', 'develop');
        const promote = runIac(['promote', 'develop', 'main', '--yes', '--skip-gate'], { cwd: project.work, env: ENV });
        await new Promise((resolve) => setTimeout(resolve, offsetMs));
        const up = runIac(['up', 'prod'], { cwd: project.work, env: ENV });
        const [promoteResult, upResult] = await Promise.all([promote, up]);
        const finalMain = project.git('ls-remote', 'origin', 'refs/heads/main').split('\t')[0];
        expect(finalMain).toBe(promoted);
        expect(promoteResult.code, promoteResult.stderr).toBe(0);
        const upRun = runRecords(project.work).find((r) => r.command === 'up');
        const promoteRun = runRecords(project.work).find((r) => r.command === 'promote') as NonNullable<ReturnType<typeof runRecords>[number]>;
        if (upRun && upRun.startedAt < (promoteRun.steps.git as number) && upRun.endedAt > (promoteRun.steps.git as number)) overlapped += 1;
        if (upResult.code === 0 && upRun && upRun.sha !== finalMain) {
          // Allowed only when up's whole run was over before promote moved main: prod then ends on main's commit.
          expect(upRun.sha).toBe(oldMain);
          expect(upRun.endedAt).toBeLessThanOrEqual(promoteRun.steps.git as number);
        } else if (upResult.code !== 0) {
          // The refusal names what happened: main moved, or the remote was ahead of the old commit.
          expect(upResult.stderr).toMatch(/origin\/main (moved|has \d+ commit)|rejected the push of main/);
        }
      } finally {
        project.cleanup();
      }
    }
    expect(overlapped).toBeGreaterThan(0);
  });
});
