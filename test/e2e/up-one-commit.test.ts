import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJenkinsSandbox, type JenkinsSandbox } from '../../src/sandbox/jenkins.js';
import { createProject } from '../helpers/project.js';
import { parseNdjson, runIac } from '../helpers/run-cli.js';
import { until as waitUntil } from '../helpers/until.js';

const USER = 'deployer';
const TOKEN = '5e1f0c0ffee1234567890abcdef0c0mm';
const ENV = { IAC_JENKINS_USER: USER, IAC_JENKINS_TOKEN: TOKEN };

const until = (condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> => waitUntil(condition, what, timeoutMs, 20);

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
    // Refusing (the environment's lease is held) and waiting (--wait-lock) are both tried.
    for (const flags of [[], ['--wait-lock', '2m']]) {
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
        const [promoteResult, upResult] = await Promise.all([
          runIac(['promote', 'develop', 'main', '--yes', '--skip-gate', ...flags], { cwd: project.work, env: ENV }),
          runIac(['up', 'prod', ...flags], { cwd: project.work, env: ENV }),
        ]);
        const finalMain = project.git('ls-remote', 'origin', 'refs/heads/main').split('\t')[0];
        const runs = runRecords(project.work).filter((r) => !Number.isNaN(r.endedAt));
        for (const result of [promoteResult, upResult]) {
          // Whoever did not deploy says why: the other run held prod, or main moved under it.
          if (result.code !== 0) expect(result.stderr).toMatch(/prod is being deployed by|origin\/main (moved|has \d+ commit)|rejected the push of main/);
        }
        if (promoteResult.code === 0 && upResult.code === 0) {
          // Both succeeded: the deploy that ended last is what prod runs, and it is main's head.
          const last = runs.sort((a, b) => a.endedAt - b.endedAt).at(-1);
          expect(last?.sha).toBe(finalMain);
        }
        expect([oldMain, promoted]).toContain(finalMain);
        if (promoteResult.code === 0) expect(finalMain).toBe(promoted);
      } finally {
        project.cleanup();
      }
    }
  });

  it('a teammate pushing the branch while iac deploys an older commit fails the run (exit 10) with the next command', async () => {
    const project = createProject({
      jenkinsUrl: jenkins.url,
      environments: { dev: { branch: 'develop', jenkins: { job: 'shop/prod', parameters: { GIT_SHA: '${git.sha}' }, pollInterval: '50ms' } } },
    });
    try {
      const bound = project.git('rev-parse', 'HEAD');
      const before = jenkins.triggers.length;
      const run = runIac(['up'], { cwd: project.work, env: ENV });
      await until(() => jenkins.triggers.length > before, 'the Jenkins trigger');
      // The teammate's commit lands on origin/develop while the build of ours runs.
      const theirs = project.git('commit-tree', `${bound}^{tree}`, '-p', bound, '-m', 'a teammate\'s change');
      project.git('push', '-q', 'origin', `${theirs}:refs/heads/develop`);
      const result = await run;
      expect(result.code).toBe(10);
      expect(result.stderr).toContain(`origin/develop moved to ${theirs.slice(0, 7)} during this run: dev now runs ${bound.slice(0, 7)}, not the newest develop`);
      expect(result.stderr).toContain('hint: iac up dev');
    } finally {
      project.cleanup();
    }
  });
});
