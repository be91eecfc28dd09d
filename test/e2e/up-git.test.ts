import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { snapshotRepo } from '../helpers/git-snapshot.js';
import { createProject } from '../helpers/project.js';
import { runIac } from '../helpers/run-cli.js';

describe('iac up: the git step', () => {
  it('refuses in preflight when the remote has commits the branch lacks (exit 3, hint, nothing changed)', async () => {
    const project = createProject({ environments: { dev: { branch: 'develop' } } });
    const other = mkdtempSync(join(tmpdir(), 'iac-other-'));
    try {
      // A teammate pushes to develop meanwhile.
      execFileSync('git', ['clone', '-q', '-b', 'develop', project.remote, other]);
      execFileSync('git', ['-C', other, '-c', 'user.name=Mate', '-c', 'user.email=mate@example.test', 'commit', '-q', '--allow-empty', '-m', 'teammate work']);
      execFileSync('git', ['-C', other, 'push', '-q', 'origin', 'develop']);
      const before = snapshotRepo(project.work, project.remote);
      const result = await runIac(['up'], { cwd: project.work });
      expect(result.code).toBe(3);
      expect(result.stderr).toContain('origin/develop has 1 commit that your develop lacks');
      expect(result.stderr).toContain('hint: git pull --rebase origin develop');
      expect(snapshotRepo(project.work, project.remote)).toEqual(before);
    } finally {
      project.cleanup();
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('--only naming steps the environment does not have is exit 2, not a silent success', async () => {
    const project = createProject({ environments: { dev: { branch: 'develop' } } });
    try {
      const result = await runIac(['up', '--only', 'jenkins'], { cwd: project.work });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('nothing to run for dev: ');
      expect(result.stderr).toContain('jenkins environment dev has no jenkins section');
    } finally {
      project.cleanup();
    }
  });

  it('outside a configured branch, `iac up` says which environments exist (exit 2)', async () => {
    const project = createProject({ environments: { dev: { branch: 'develop' } } });
    try {
      project.git('checkout', '-q', '-b', 'feature/x');
      const result = await runIac(['up'], { cwd: project.work });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('no environment deploys branch "feature/x"; known: dev (develop)');
    } finally {
      project.cleanup();
    }
  });
});
