import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTempRepos, type TempRepos } from '../helpers/git-repos.js';
import { parseNdjson, runIac } from '../helpers/run-cli.js';

const EXAMPLE = join(import.meta.dirname, '../fixtures/config/example.yaml');

describe('iac up --dry-run', () => {
  let repos: TempRepos;
  let sha: string;
  let refsBefore: string;

  beforeEach(() => {
    repos = createTempRepos({ branches: ['develop'] });
    copyFileSync(EXAMPLE, join(repos.work, 'iac.yaml'));
    repos.git('add', 'iac.yaml');
    repos.git('commit', '-q', '-m', 'add iac.yaml');
    sha = repos.git('rev-parse', 'HEAD');
    // Any push or fetch would now fail loudly: the dry run must not try.
    repos.git('remote', 'set-url', 'origin', join(repos.root, 'does-not-exist.git'));
    refsBefore = repos.git('for-each-ref');
  });
  afterEach(() => repos.cleanup());

  it('prints every resolved value of the checked-out environment and changes nothing', async () => {
    const result = await runIac(['up', '--dry-run'], { cwd: repos.work });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).toContain('iac up dev — dry run');
    expect(out).toContain(`deploys develop @ ${sha}`);
    expect(out).toContain(`git push --porcelain -- origin ${sha}:refs/heads/develop`);
    expect(out).toContain(`commit ${sha} → ${join(repos.root, 'does-not-exist.git')}`);
    expect(out).toContain('would POST https://ci.example.com/jenkins/job/shop/job/deploy/buildWithParameters?delay=0sec');
    expect(out).toContain(`parameters: ENV=dev GIT_SHA=${sha} BRANCH=develop`);
    expect(out).toContain(
      `would run: ansible-playbook -i deploy/inventories/dev --limit web -e '{"image_tag":"${sha}","replicas":2}' -e '@<private fifo>' deploy/site.yml`,
    );
    expect(out).toContain(`playbook, roles, inventory and vars files from commit ${sha.slice(0, 7)} (develop), not the working tree`);
    expect(out).toContain('secret extra vars db_password from $DB_PASSWORD');
    expect(out).toContain('would wait for deployment/web in context dev-eks, namespace shop');
    expect(out).toContain('would wait for statefulset/db in context dev-eks, namespace shop');
    expect(out).toContain('deadline 5m');
    expect(repos.git('for-each-ref')).toBe(refsBefore);
    expect(repos.git('status', '--porcelain')).toBe('');
    expect(existsSync(join(repos.work, '.iac'))).toBe(false);
  });

  it('resolves a named environment, multibranch job paths and --timeout', async () => {
    const result = await runIac(['up', 'prod', '--dry-run', '--timeout', '90s'], { cwd: repos.work });
    expect(result.code).toBe(0);
    const mainSha = repos.git('rev-parse', 'main');
    expect(result.stdout).toContain(`deploys main @ ${mainSha}`);
    expect(result.stdout).toContain('would POST https://ci.example.com/jenkins/job/shop/job/main/buildWithParameters?delay=0sec');
    expect(result.stdout).toContain('<EC2 eu-central-1 tags Environment=prod states running>');
    expect(result.stdout).toContain('deadline 1m30s');
  });

  it('--only and --skip choose steps and say why the others are skipped', async () => {
    const result = await runIac(['up', '--dry-run', '--only', 'git,jenkins'], { cwd: repos.work });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('ansible  skipped: not in --only');
    expect(result.stdout).toContain('rollout  skipped: not in --only');
    const bad = await runIac(['up', '--dry-run', '--only', 'git,jenkin'], { cwd: repos.work });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--only: unknown step "jenkin" (did you mean "jenkins"?)');
  });

  it('--json emits valid NDJSON whose last event carries the exit code', async () => {
    const result = await runIac(['up', '--dry-run', '--json'], { cwd: repos.work });
    expect(result.code).toBe(0);
    const events = parseNdjson(result.stdout);
    expect(events.map((e) => e.type)).toEqual(['plan', 'result']);
    const plan = events[0] as { steps: Array<{ id: string; actions: string[] }> };
    expect(plan.steps.map((s) => s.id)).toEqual(['git', 'jenkins', 'ansible', 'rollout']);
    expect(events.at(-1)).toMatchObject({ type: 'result', exitCode: 0, outcome: 'success' });
  });

  it('a parameter under a secret-looking name is masked in the plan, whatever variable it came from', async () => {
    const text = readFileSync(join(repos.work, 'iac.yaml'), 'utf8').replace('BRANCH: "${branch}"', 'DEPLOY_TOKEN: "${env.CI_DEPLOY_VALUE}"');
    writeFileSync(join(repos.work, 'iac.yaml'), text);
    const result = await runIac(['up', '--dry-run'], { cwd: repos.work, env: { CI_DEPLOY_VALUE: 'zq-deploy-0987654321' } });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('DEPLOY_TOKEN=***');
    expect(result.stdout).not.toContain('zq-deploy-0987654321');
  });

  it('an unknown environment is exit 2 and lists the known ones', async () => {
    const result = await runIac(['up', 'staging', '--dry-run'], { cwd: repos.work });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown environment "staging"; known: dev, prod');
    const json = await runIac(['up', 'staging', '--dry-run', '--json'], { cwd: repos.work });
    expect(json.code).toBe(2);
    const last = parseNdjson(json.stdout).at(-1);
    expect(last).toMatchObject({ type: 'result', exitCode: 2, error: { code: 'config.unknown-environment' } });
  });

  it('a broken iac.yaml is exit 2 with file:line:column', async () => {
    const result = await runIac(['up', '--dry-run', '--config', join(import.meta.dirname, '../fixtures/config/bad/02-unknown-key-typo.yaml')], {
      cwd: repos.work,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/02-unknown-key-typo\.yaml:9:7: environments\.dev\.kubernetes\.namespce: unknown key \(did you mean "namespace"\?\)/);
  });
});
