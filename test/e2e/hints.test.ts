import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { createProject } from '../helpers/project.js';
import { runIac } from '../helpers/run-cli.js';

const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 'T', GIT_AUTHOR_EMAIL: 't@example.test', GIT_COMMITTER_NAME: 'T', GIT_COMMITTER_EMAIL: 't@example.test' };

/** The `hint:` line of an error, run exactly as printed (comment included) in `cwd`. */
function runHint(stderr: string, cwd: string): string {
  const hint = /hint: (.*)$/m.exec(stderr)?.[1];
  expect(hint, stderr).toBeDefined();
  return execFileSync('sh', ['-c', hint as string], { cwd, env: GIT_ENV, encoding: 'utf8' });
}

describe('every hint runs as printed and leads to a working next command', () => {
  it('--only and --skip naming the same step say that the two flags conflict', async () => {
    const p = createProject({ jenkinsUrl: 'https://ci.example.invalid/' });
    try {
      const result = await runIac(['up', '--only', 'git', '--skip', 'git'], { cwd: p.work });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('--only and --skip both name git: the two flags conflict');
    } finally {
      p.cleanup();
    }
  });

  it('an empty repository with develop checked out: the hint makes the first commit, then `iac up` pushes it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'iac-hint-'));
    try {
      const work = join(root, 'work');
      execFileSync('git', ['init', '-q', '--bare', '-b', 'develop', join(root, 'remote.git')]);
      execFileSync('git', ['init', '-q', '-b', 'develop', work]);
      execFileSync('git', ['remote', 'add', 'origin', join(root, 'remote.git')], { cwd: work });
      writeFileSync(join(work, 'iac.yaml'), stringify({ project: 'shop', environments: { dev: { branch: 'develop' } } }));
      const first = await runIac(['up'], { cwd: work, env: GIT_ENV });
      expect(first.code).toBe(3);
      expect(first.stderr).toContain('environment dev deploys branch "develop", which has no commit here or on origin');
      runHint(first.stderr, work);
      const second = await runIac(['up'], { cwd: work, env: GIT_ENV });
      expect(second.stderr).not.toContain('✗');
      expect(second.code).toBe(0);
      expect(execFileSync('git', ['ls-remote', 'origin', 'refs/heads/develop'], { cwd: work, encoding: 'utf8' })).toContain('refs/heads/develop');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('a branch only the remote has: the hint fetches it, then `iac up` deploys the remote head', async () => {
    const p = createProject({ environments: { dev: { branch: 'develop' }, qa: { branch: 'qa' } } });
    try {
      p.git('push', '-q', 'origin', 'develop:qa');
      const qa = p.git('rev-parse', 'develop');
      p.git('update-ref', '-d', 'refs/remotes/origin/qa');
      const first = await runIac(['up', 'qa'], { cwd: p.work });
      expect(first.code).toBe(3);
      expect(first.stderr).toContain('(origin has it: fetch it)');
      runHint(first.stderr, p.work);
      const second = await runIac(['up', 'qa', '--json'], { cwd: p.work });
      expect(second.code).toBe(0);
      expect(second.stdout).toContain(`"sha":"${qa}"`);
    } finally {
      p.cleanup();
    }
  });

  it('`promote --no-deploy` without a local main suggests `iac up prod`, which then works', async () => {
    const p = createProject({ environments: { dev: { branch: 'develop' }, prod: { branch: 'main', promoteFrom: 'dev' } } });
    try {
      p.git('push', '-q', 'origin', 'develop');
      p.git('branch', '-D', 'main');
      const promoted = await runIac(['promote', 'develop', 'main', '--no-deploy', '--skip-gate'], { cwd: p.work });
      expect(promoted.code).toBe(0);
      const next = /deploy later with `(iac up prod)`/.exec(promoted.stdout)?.[1];
      expect(next).toBe('iac up prod');
      const deployed = await runIac(['up', 'prod'], { cwd: p.work });
      expect(deployed.stderr).toBe('');
      expect(deployed.code).toBe(0);
    } finally {
      p.cleanup();
    }
  });
});
