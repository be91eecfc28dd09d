import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJenkinsSandbox, type JenkinsSandbox } from '../../src/sandbox/jenkins.js';
import { startKubeSandbox, type KubeSandbox } from '../../src/sandbox/kubernetes.js';
import { snapshotRepo } from '../helpers/git-snapshot.js';
import { createProject } from '../helpers/project.js';
import { parseNdjson, runIac } from '../helpers/run-cli.js';

const TOKEN = 'promote0token0abcdef0123456789ab';
const ENV = { IAC_JENKINS_USER: 'ci', IAC_JENKINS_TOKEN: TOKEN };

describe('iac promote develop main', () => {
  let jenkins: JenkinsSandbox;
  let kube: KubeSandbox;

  beforeAll(async () => {
    jenkins = await startJenkinsSandbox({
      users: [{ user: 'ci', token: TOKEN }],
      jobs: {
        'shop/dev': { parameters: ['GIT_SHA'], builds: [{ result: 'SUCCESS', durationMs: 50 }] },
        'shop/prod': { parameters: ['GIT_SHA'], builds: [{ result: 'SUCCESS', durationMs: 100 }] },
        'shop/prod-broken': { parameters: ['GIT_SHA'], builds: [{ result: 'FAILURE', durationMs: 50, consoleLines: ['deploy script: exit 1'] }] },
      },
    });
    kube = await startKubeSandbox({ workloads: [{ kind: 'deployment', name: 'web', namespace: 'prod', replicas: 2, stepMs: 50 }] });
  });
  afterAll(async () => {
    await jenkins.close();
    await kube.close();
  });

  /** develop 2 commits ahead of main, both pushed; dev's head built on Jenkins (the gate) unless told otherwise. */
  async function setup(options: { prodJob?: string; confirm?: boolean; buildDev?: boolean } = {}) {
    const p = createProject({
      jenkinsUrl: jenkins.url,
      environments: {
        dev: { branch: 'develop', jenkins: { job: 'shop/dev', parameters: { GIT_SHA: '${git.sha}' }, pollInterval: '50ms' } },
        prod: {
          branch: 'main',
          promoteFrom: 'dev',
          confirm: options.confirm ?? false,
          jenkins: { job: options.prodJob ?? 'shop/prod', parameters: { GIT_SHA: '${git.sha}' }, pollInterval: '50ms' },
          kubernetes: { kubeconfig: 'kubeconfig.yaml', namespace: 'prod', workloads: ['deployment/web'], timeout: '20s' },
        },
      },
    });
    writeFileSync(join(p.work, '.gitignore'), 'kubeconfig.yaml\n');
    p.git('add', '.gitignore');
    p.git('commit', '-q', '-m', 'ignore kubeconfig');
    p.commit('feature.txt', 'new feature\n', 'add feature');
    p.git('push', '-q', 'origin', 'develop');
    await kube.kubeconfig(join(p.work, 'kubeconfig.yaml'), { namespace: 'prod' });
    if (options.buildDev !== false) {
      const built = await runIac(['up', 'dev', '--only', 'jenkins'], { cwd: p.work, env: ENV });
      expect(built.code).toBe(0);
    }
    return p;
  }

  it('fast-forwards main to the tested SHA, pushes it, and deploys prod with that SHA', async () => {
    const p = await setup();
    try {
      const developSha = p.git('rev-parse', 'develop');
      const before = jenkins.triggers.length;
      const result = await runIac(['promote', 'develop', 'main', '--json'], { cwd: p.work, env: ENV });
      const events = parseNdjson(result.stdout);
      expect(events.at(-1)).toMatchObject({ type: 'result', exitCode: 0 });
      expect(p.git('ls-remote', 'origin', 'refs/heads/main').split('\t')[0]).toBe(developSha);
      const triggers = jenkins.triggers.slice(before);
      expect(triggers).toHaveLength(1);
      expect(triggers[0]).toMatchObject({ job: 'shop/prod', parameters: { GIT_SHA: developSha } });
      const finished = events.filter((e) => e.type === 'step.finished').map((e) => [e.step, e.outcome]);
      // The merge-and-push is a step of the same run, and the deploy that follows uses its SHA.
      expect(finished).toEqual([
        ['git', 'success'],
        ['jenkins', 'success'],
        ['rollout', 'success'],
      ]);
      expect(events.find((e) => e.type === 'run.started')).toMatchObject({ command: 'promote', environment: 'prod', sha: developSha });
      const record = JSON.parse(readFileSync(join(p.work, '.iac', 'promotions.ndjson'), 'utf8').trim()) as Record<string, unknown>;
      expect(record).toMatchObject({ from: { branch: 'develop', sha: developSha }, to: { environment: 'prod', after: developSha }, mode: 'fast-forward', outcome: 'success' });
      // The divergence warning of `iac status` is gone.
      const status = await runIac(['status', 'prod', '--json'], { cwd: p.work, env: ENV });
      const report = (parseNdjson(status.stdout).find((e) => e.type === 'data') as { data: { environments: Array<{ promotion: { value: { pending: number } } }> } }).data;
      expect(report.environments[0]?.promotion.value.pending).toBe(0);
    } finally {
      p.cleanup();
    }
  });

  it('diverged branches: refused without --merge (nothing changed); --merge pushes a merge commit', async () => {
    const p = await setup();
    try {
      p.git('checkout', '-q', 'main');
      p.commit('hotfix.txt', 'hotfix\n', 'hotfix on main');
      p.git('push', '-q', 'origin', 'main');
      p.git('checkout', '-q', 'develop');
      const before = snapshotRepo(p.work, p.remote);
      const refused = await runIac(['promote', 'develop', 'main', '--no-deploy'], { cwd: p.work, env: ENV });
      expect(refused.code).toBe(10);
      expect(refused.stderr).toContain('--merge');
      expect(snapshotRepo(p.work, p.remote)).toEqual(before);

      const merged = await runIac(['promote', 'develop', 'main', '--merge', '--no-deploy'], { cwd: p.work, env: ENV });
      expect(merged.stderr).toBe('');
      expect(merged.code).toBe(0);
      const remoteMain = p.git('ls-remote', 'origin', 'refs/heads/main').split('\t')[0] as string;
      p.git('fetch', '-q', 'origin');
      const parents = p.git('rev-list', '--parents', '-n', '1', remoteMain).split(' ').slice(1);
      expect(parents).toHaveLength(2);
      expect(parents).toContain(p.git('rev-parse', 'develop'));
      expect(p.git('rev-parse', '--abbrev-ref', 'HEAD')).toBe('develop');
    } finally {
      p.cleanup();
    }
  });

  it('a failing gate (no successful build of develop\'s head) is exit 3 and changes nothing', async () => {
    const p = await setup({ buildDev: false });
    try {
      const before = snapshotRepo(p.work, p.remote);
      const result = await runIac(['promote', 'dev', 'prod'], { cwd: p.work, env: ENV });
      expect(result.code).toBe(3);
      expect(result.stderr).toContain('has no successful Jenkins build');
      expect(result.stderr).toContain('--skip-gate');
      expect(snapshotRepo(p.work, p.remote)).toEqual(before);
    } finally {
      p.cleanup();
    }
  });

  it('a dirty working tree is refused before anything is touched (exit 3)', async () => {
    const p = await setup();
    try {
      writeFileSync(join(p.work, 'feature.txt'), 'uncommitted edit\n');
      const before = snapshotRepo(p.work, p.remote);
      const result = await runIac(['promote', 'develop', 'main'], { cwd: p.work, env: ENV });
      expect(result.code).toBe(3);
      expect(result.stderr).toContain('uncommitted');
      expect(snapshotRepo(p.work, p.remote)).toEqual(before);
      expect(readFileSync(join(p.work, 'feature.txt'), 'utf8')).toBe('uncommitted edit\n');
    } finally {
      p.cleanup();
    }
  });

  it('confirm: true without a terminal and without --yes is refused (exit 3); --dry-run changes nothing', async () => {
    const p = await setup({ confirm: true });
    try {
      const before = snapshotRepo(p.work, p.remote);
      const refused = await runIac(['promote', 'develop', 'main'], { cwd: p.work, env: ENV });
      expect(refused.code).toBe(3);
      expect(refused.stderr).toContain('--yes');
      const dry = await runIac(['promote', 'develop', 'main', '--dry-run'], { cwd: p.work, env: ENV });
      expect(dry.code).toBe(0);
      expect(dry.stdout).toContain(`would fast-forward main ${p.git('rev-parse', '--short', 'origin/main')} → ${p.git('rev-parse', '--short', 'develop')}`);
      expect(dry.stdout).toContain(`git push --porcelain -- origin ${p.git('rev-parse', 'develop')}:refs/heads/main`);
      expect(dry.stdout).toContain('add feature');
      expect(dry.stdout).toContain('gate: ✔ Jenkins shop/dev');
      expect(snapshotRepo(p.work, p.remote)).toEqual(before);
    } finally {
      p.cleanup();
    }
  });

  it('a Jenkins failure after the push says exactly what changed remotely and how to resume (exit 20)', async () => {
    const p = await setup({ prodJob: 'shop/prod-broken' });
    try {
      const previousMain = p.git('ls-remote', 'origin', 'refs/heads/main').split('\t')[0] as string;
      const developSha = p.git('rev-parse', 'develop');
      const result = await runIac(['promote', 'develop', 'main', '--yes'], { cwd: p.work, env: ENV });
      expect(result.code).toBe(20);
      expect(p.git('ls-remote', 'origin', 'refs/heads/main').split('\t')[0]).toBe(developSha);
      expect(result.stderr).toContain(`origin/main moved ${previousMain.slice(0, 7)} → ${developSha.slice(0, 7)}`);
      expect(result.stderr).toContain('resume the deploy with: iac up prod');
      expect(result.stderr).toContain('deploy script: exit 1');
      expect(p.git('rev-parse', '--abbrev-ref', 'HEAD')).toBe('develop');
      expect(p.git('status', '--porcelain')).toBe('');
    } finally {
      p.cleanup();
    }
  });
});
