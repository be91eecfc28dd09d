import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { parseConfig } from '../../../src/config/parse.js';
import { doctorChecks } from '../../../src/doctor/plan.js';
import { runChecks } from '../../../src/doctor/run-checks.js';
import { createTempRepos } from '../../helpers/git-repos.js';

const probe = { signal: new AbortController().signal, timeoutMs: 5000 };

function loaded(config: Record<string, unknown>, dir = '/nonexistent/project') {
  return parseConfig(stringify(config), join(dir, 'iac.yaml'));
}

const CONFIG = {
  project: 'shop',
  jenkins: { url: 'http://ci.example.com/' },
  environments: {
    dev: {
      branch: 'develop',
      jenkins: { job: 'shop/dev', parameters: { TOKEN_NAME: '${env.IAC_UNIT_DEPLOY_KEY}' } },
      ansible: { playbook: 'site.yml', inventory: 'hosts.ini', secretExtraVars: { db_password: '${env.IAC_UNIT_DB_PASSWORD}' } },
      kubernetes: { namespace: 'shop', workloads: ['deployment/web', 'sts/db', 'deploy/api'] },
    },
    prod: { branch: 'main', aws: { region: 'eu-central-1', tags: { Environment: 'prod' } } },
  },
};

describe('doctorChecks', () => {
  it('asks only what the configuration needs: project-wide checks first, then each environment in pipeline order', () => {
    const specs = doctorChecks({ loaded: loaded(CONFIG), env: {}, secret: () => undefined, ...probe });
    expect(specs.map((s) => `${s.env ?? '-'} ${s.id}`)).toEqual([
      '- git.repo',
      '- git.remote',
      '- ansible.tool',
      'dev git.branch',
      'dev config.env',
      'dev ansible.inventory',
      'dev ansible.syntax',
      'dev ansible.secrets',
      'dev jenkins.credentials',
      'dev jenkins.reachable',
      'dev jenkins.auth',
      'dev jenkins.job',
      'dev kube.kubeconfig',
      'dev kube.context',
      'dev kube.namespace',
      'dev kube.access.deployment',
      'dev kube.access.statefulset',
      'dev kube.workload.deployment/web',
      'dev kube.workload.sts/db',
      'dev kube.workload.deploy/api',
      'prod git.branch',
      'prod aws.region',
      'prod aws.credentials',
      'prod aws.instances',
    ]);
  });

  it('one environment only, and no ansible tool check when it has no ansible section', () => {
    const specs = doctorChecks({ loaded: loaded(CONFIG), only: 'prod', env: {}, secret: () => undefined, ...probe });
    expect(specs.map((s) => s.id)).toEqual(['git.repo', 'git.remote', 'git.branch', 'aws.region', 'aws.credentials', 'aws.instances']);
  });

  it('unset variables become failing checks that name them (never values), not an exception', async () => {
    const env = { IAC_UNIT_DEPLOY_KEY: 'value-that-must-not-show' };
    const specs = doctorChecks({ loaded: loaded(CONFIG), only: 'dev', env, secret: () => undefined, ...probe });
    const picked = specs.filter((s) => s.id === 'config.env' || s.id === 'ansible.secrets');
    const results = await runChecks(picked, probe);
    expect(results.map((r) => [r.id, r.severity, r.message, r.fix])).toEqual([
      ['config.env', 'ok', 'IAC_UNIT_DEPLOY_KEY set', undefined],
      ['ansible.secrets', 'error', 'not set: IAC_UNIT_DB_PASSWORD (for db_password)', 'export IAC_UNIT_DB_PASSWORD=…'],
    ]);

    const unset = doctorChecks({ loaded: loaded(CONFIG), only: 'dev', env: { IAC_UNIT_DB_PASSWORD: '' }, secret: () => undefined, ...probe });
    const [configEnv, secrets] = await runChecks(unset.filter((s) => s.id === 'config.env' || s.id === 'ansible.secrets'), probe);
    expect(configEnv).toMatchObject({ severity: 'error', message: 'iac.yaml reads unset IAC_UNIT_DEPLOY_KEY', fix: 'export IAC_UNIT_DEPLOY_KEY=…' });
    expect(secrets).toMatchObject({ severity: 'warning', message: 'set but empty: IAC_UNIT_DB_PASSWORD' });
  });

  it('refuses to send Jenkins credentials over plain http to a remote host, without touching the network', async () => {
    const env = { IAC_JENKINS_USER: 'ci', IAC_JENKINS_TOKEN: 'unit-token-123' };
    const specs = doctorChecks({ loaded: loaded(CONFIG), only: 'dev', env, secret: () => undefined, ...probe });
    const results = await runChecks(specs.filter((s) => s.id.startsWith('jenkins.')), probe);
    expect(results.map((r) => [r.id, r.severity])).toEqual([
      ['jenkins.credentials', 'error'],
      ['jenkins.reachable', 'skipped'],
      ['jenkins.auth', 'skipped'],
      ['jenkins.job', 'skipped'],
    ]);
    expect(results[0]?.message).toBe('refusing to send Jenkins credentials over plain http to ci.example.com');
    expect(results[0]?.fix).toContain('allowInsecureHttp');
    expect(JSON.stringify(results)).not.toContain('unit-token-123');
  });

  it('a Jenkins nobody listens on is ✗ unreachable with the fix; auth and job are not checked', async () => {
    // A port that was just free (fetch refuses "bad ports" such as 9 before connecting).
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const config = { ...CONFIG, jenkins: { url: `http://127.0.0.1:${port}/` } };
    const specs = doctorChecks({ loaded: loaded(config), only: 'dev', env: { IAC_JENKINS_USER: 'ci', IAC_JENKINS_TOKEN: 'unit-token-123' }, secret: () => undefined, ...probe });
    const results = await runChecks(specs.filter((s) => s.id.startsWith('jenkins.')), probe);
    expect(results.map((r) => [r.id, r.severity])).toEqual([
      ['jenkins.credentials', 'ok'],
      ['jenkins.reachable', 'error'],
      ['jenkins.auth', 'skipped'],
      ['jenkins.job', 'skipped'],
    ]);
    expect(results[0]?.message).toBe('user ci from IAC_JENKINS_USER / IAC_JENKINS_TOKEN');
    expect(results[1]?.message).toBe(`Jenkins at http://127.0.0.1:${port}/ is unreachable (connection refused)`);
    expect(results[1]?.fix).toContain('jenkins.url');
  });

  it('git: a remote that refuses is ✗ without the credentials of its URL; branches are still checked locally', async () => {
    const repos = createTempRepos({ branches: ['develop'] });
    try {
      repos.git('remote', 'set-url', 'origin', 'http://deploy:hunter2secret@127.0.0.1:9/shop.git');
      const config = { project: 'shop', environments: { dev: { branch: 'develop' }, prod: { branch: 'main' }, qa: { branch: 'qa' } } };
      const specs = doctorChecks({ loaded: loaded(config, repos.work), env: {}, secret: () => undefined, ...probe });
      const results = await runChecks(specs, probe);
      expect(results.map((r) => [r.env ?? '-', r.id, r.severity])).toEqual([
        ['-', 'git.repo', 'ok'],
        ['-', 'git.remote', 'error'],
        ['dev', 'git.branch', 'ok'],
        ['prod', 'git.branch', 'ok'],
        ['qa', 'git.branch', 'error'],
      ]);
      expect(results[1]?.message).toMatch(/^cannot reach origin \(http:\/\/127\.0\.0\.1:9\/shop\.git\): /);
      expect(results[1]?.fix).toBe('git ls-remote origin');
      expect(results[4]).toMatchObject({ message: 'qa does not exist locally', fix: 'git switch -c qa && git push -u origin qa' });
      expect(JSON.stringify(results)).not.toContain('hunter2secret');
    } finally {
      repos.cleanup();
    }
  });
});
