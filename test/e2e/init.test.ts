import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/parse.js';
import { createTempRepos, type TempRepos } from '../helpers/git-repos.js';
import { runIac } from '../helpers/run-cli.js';

describe('iac init', () => {
  let repos: TempRepos;
  beforeEach(() => {
    repos = createTempRepos({ branches: ['develop'] });
  });
  afterEach(() => repos.cleanup());

  it('writes an iac.yaml with develop→dev and main→prod from the repository, valid against the schema', async () => {
    const result = await runIac(['init'], { cwd: repos.work });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const text = readFileSync(join(repos.work, 'iac.yaml'), 'utf8');
    const loaded = parseConfig(text, 'iac.yaml');
    expect(loaded.config.git?.remote).toBe('origin');
    expect(loaded.config.environments.dev?.branch).toBe('develop');
    expect(loaded.config.environments.prod).toMatchObject({ branch: 'main', promoteFrom: 'dev', confirm: true });
    expect(loaded.config.project).toBe('work');
  });

  it('refuses to overwrite without --force, and overwrites with it', async () => {
    writeFileSync(join(repos.work, 'iac.yaml'), 'project: mine\n');
    const refused = await runIac(['init'], { cwd: repos.work });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('iac.yaml already exists; not overwriting it');
    expect(refused.stderr).toContain('iac init --force');
    expect(readFileSync(join(repos.work, 'iac.yaml'), 'utf8')).toBe('project: mine\n');
    const forced = await runIac(['init', '--force'], { cwd: repos.work });
    expect(forced.code).toBe(0);
    expect(readFileSync(join(repos.work, 'iac.yaml'), 'utf8')).toContain('environments:');
  });

  it('--with-examples writes a Jenkinsfile, playbook, inventories and manifests that fit together, then `up --dry-run` works', async () => {
    const result = await runIac(['init', '--with-examples'], { cwd: repos.work });
    expect(result.code).toBe(0);
    for (const file of ['Jenkinsfile', 'deploy/site.yml', 'deploy/inventories/dev/hosts.yml', 'k8s/web.yaml']) {
      expect(existsSync(join(repos.work, file)), file).toBe(true);
    }
    const jenkinsfile = readFileSync(join(repos.work, 'Jenkinsfile'), 'utf8');
    expect(jenkinsfile).toContain("string(name: 'GIT_SHA'");
    const manifest = readFileSync(join(repos.work, 'k8s/web.yaml'), 'utf8');
    expect(manifest).toContain('name: web');
    expect(manifest).toContain('work-web:{{ image_tag }}');
    expect(readFileSync(join(repos.work, 'deploy/site.yml'), 'utf8')).toContain('src: ../k8s/web.yaml');

    const plan = await runIac(['up', '--dry-run'], { cwd: repos.work });
    expect(plan.code).toBe(0);
    const sha = repos.git('rev-parse', 'develop');
    expect(plan.stdout).toContain(`parameters: ENVIRONMENT=dev GIT_SHA=${sha}`);
    expect(plan.stdout).toContain(`-e '{"environment_name":"dev","image_tag":"${sha}"}'`);
    expect(plan.stdout).toContain('would wait for deployment/web in context dev, namespace work');
  });

  it('outside a git repository it is a usage error (exit 2) that says so', async () => {
    const result = await runIac(['init'], { cwd: repos.root });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('is not inside a git repository');
  });
});
