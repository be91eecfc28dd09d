import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createProject } from '../helpers/project.js';
import { runIac } from '../helpers/run-cli.js';

const cacheDir = (work: string): string => join(work, '.iac', 'cache');
const cached = (work: string): string[] => readdirSync(cacheDir(work)).filter((name) => name.startsWith('config-')).sort();

describe('the validated-config cache (.iac/cache)', () => {
  it('serves only the exact text it validated: an edit is parsed again, a broken entry is ignored', async () => {
    const project = createProject({ environments: { dev: { branch: 'develop' } } });
    try {
      // --dry-run changes nothing, not even the cache.
      const first = await runIac(['up', '--dry-run'], { cwd: project.work });
      expect(first.code).toBe(0);
      expect(existsSync(join(project.work, '.iac'))).toBe(false);
      const history = await runIac(['history'], { cwd: project.work });
      expect(history.code).toBe(0);
      const [entry] = cached(project.work);
      expect(entry).toMatch(/^config-[0-9a-f]{32}\.json$/);
      // Git never sees it: .iac ignores itself.
      expect(readFileSync(join(project.work, '.iac', '.gitignore'), 'utf8')).toContain('*');
      expect(project.git('status', '--porcelain')).toBe('');

      // The same text again: a hit, and the same plan.
      const again = await runIac(['up', '--dry-run'], { cwd: project.work });
      expect(again.code).toBe(0);
      expect(again.stdout).toBe(first.stdout);

      // A broken edit is validated (file:line:col), never answered from the cache.
      writeFileSync(join(project.work, 'iac.yaml'), `${project.configText}unknownTopLevel: 1\n`);
      const broken = await runIac(['up', '--dry-run'], { cwd: project.work });
      expect(broken.code).toBe(2);
      expect(broken.stderr).toMatch(/iac\.yaml:\d+:\d+/);
      expect(cached(project.work)).toEqual([entry]);

      // A damaged cache entry is not trusted: the file is parsed again.
      writeFileSync(join(project.work, 'iac.yaml'), project.configText);
      writeFileSync(join(cacheDir(project.work), entry as string), '{"not": "a config"');
      const repaired = await runIac(['up', '--dry-run'], { cwd: project.work });
      expect(repaired.code).toBe(0);
      expect(repaired.stdout).toBe(first.stdout);
      // A command that may write replaces the damaged entry.
      expect((await runIac(['history'], { cwd: project.work })).code).toBe(0);
      expect(JSON.parse(readFileSync(join(cacheDir(project.work), entry as string), 'utf8'))).toHaveProperty('environments');
    } finally {
      project.cleanup();
    }
  });
});
