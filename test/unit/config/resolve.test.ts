import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../src/config/parse.js';
import { bindRun, resolveEnvironment, resolveEnvironmentName, resolveTarget } from '../../../src/config/resolve.js';
import { UsageError } from '../../../src/errors.js';

const file = join(import.meta.dirname, '../../fixtures/config/example.yaml');
const loaded = parseConfig(readFileSync(file, 'utf8'), file);
const sha = '0123456789abcdef0123456789abcdef01234567';

describe('environment resolution', () => {
  it('picks the named environment, or the one whose branch is given or checked out', () => {
    expect(resolveEnvironmentName(loaded.config, 'prod', 'develop')).toBe('prod');
    expect(resolveEnvironmentName(loaded.config, 'main', 'develop')).toBe('prod');
    expect(resolveEnvironmentName(loaded.config, undefined, 'develop')).toBe('dev');
  });

  it('an unknown name lists the known environments and suggests the nearest', () => {
    expect(() => resolveEnvironmentName(loaded.config, 'prd', 'develop')).toThrow(/unknown environment "prd" \(did you mean "prod"\?\); known: dev, prod/);
    expect(() => resolveEnvironmentName(loaded.config, undefined, 'feature/x')).toThrow(UsageError);
    expect(() => resolveEnvironmentName(loaded.config, undefined, 'feature/x')).toThrow(/no environment deploys branch "feature\/x"; known: dev \(develop\), prod \(main\)/);
  });

  it('interpolates ${git.sha}, ${branch} and ${env.NAME}; paths become absolute; durations ms', () => {
    const env = resolveEnvironment(loaded, 'dev', { sha, env: {} });
    expect(env.jenkins?.parameters).toEqual({ ENV: 'dev', GIT_SHA: sha, BRANCH: 'develop' });
    expect(env.jenkins?.url).toBe('https://ci.example.com/jenkins/');
    expect(env.ansible?.playbook).toBe(join(loaded.dir, 'deploy/site.yml'));
    expect(env.ansible?.extraVars).toEqual({ image_tag: sha, replicas: 2 });
    expect(env.ansible?.secretExtraVars).toEqual({ db_password: 'DB_PASSWORD' });
    expect(env.kubernetes?.timeoutMs).toBe(300_000);
    const prod = resolveEnvironment(loaded, 'prod', { sha, env: {}, timeoutMs: 1000 });
    expect(prod.jenkins?.job).toBe('shop/main');
    expect(prod.kubernetes?.timeoutMs).toBe(1000);
  });

  it('a missing ${env.NAME} is a usage error naming the variable and where it is used', () => {
    const text = readFileSync(file, 'utf8').replace('BRANCH: "${branch}"', 'BRANCH: "${env.DEPLOY_BRANCH}"');
    const withEnv = parseConfig(text, file);
    expect(() => resolveEnvironment(withEnv, 'dev', { sha, env: {} })).toThrow(
      'environments.dev.jenkins.parameters.BRANCH: environment variable DEPLOY_BRANCH is not set',
    );
    expect(resolveEnvironment(withEnv, 'dev', { sha, env: { DEPLOY_BRANCH: 'x' } }).jenkins?.parameters.BRANCH).toBe('x');
  });

  it('a target has no commit: an unset variable blinds only the section that reads it', () => {
    const text = readFileSync(file, 'utf8').replace('BRANCH: "${branch}"', 'BRANCH: "${env.DEPLOY_BRANCH}"');
    const withEnv = parseConfig(text, file);
    const target = resolveTarget(withEnv, 'dev', { env: {} });
    expect(target).not.toHaveProperty('sha');
    // Parameters are bound by runs only: the target's sections stay usable, the run that binds them fails.
    expect(target.needs).toEqual({});
    expect(target.unsetForRuns).toEqual(['DEPLOY_BRANCH']);
    expect(target.envVarsRead).toContain('DEPLOY_BRANCH');
    expect(target.jenkins?.job).toBe('shop/deploy');
    // A run that does not use Jenkins binds fine; one that does fails naming the variable.
    expect(bindRun(withEnv, target, sha, { env: {}, sections: ['ansible', 'kubernetes'] }).ansible?.extraVars).toEqual({ image_tag: sha, replicas: 2 });
    expect(() => bindRun(withEnv, target, sha, { env: {}, sections: ['jenkins'] })).toThrow(/parameters\.BRANCH: environment variable DEPLOY_BRANCH is not set/);
    const namespaced = parseConfig(readFileSync(file, 'utf8').replace('namespace: shop', 'namespace: "${env.NS}"'), file);
    expect(resolveTarget(namespaced, 'dev', { env: {} }).needs).toEqual({ kubernetes: ['NS'] });
  });

  it('${git.sha} outside jenkins.parameters and ansible.extraVars is a configuration error', () => {
    const text = readFileSync(file, 'utf8').replace('namespace: shop', 'namespace: "shop-${git.shortSha}"');
    expect(() => parseConfig(text, file)).toThrow(/kubernetes\.namespace: \$\{git\.shortSha\} is only allowed in jenkins\.parameters and ansible\.extraVars/);
  });
});
