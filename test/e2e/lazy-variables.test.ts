import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEc2Sandbox, type Ec2Sandbox } from '../../src/sandbox/ec2.js';
import { startJenkinsSandbox, type JenkinsSandbox } from '../../src/sandbox/jenkins.js';
import { createProject } from '../helpers/project.js';
import { runIac } from '../helpers/run-cli.js';

const AWS_ENV = { AWS_ACCESS_KEY_ID: 'AKIATEST0000000000', AWS_SECRET_ACCESS_KEY: 'test-secret-key', AWS_EC2_METADATA_DISABLED: 'true' };
const UNSET = { PROD_REGION: undefined, PROD_AWS_REGION: undefined };

/**
 * An unset `${env.NAME}` blinds only the command and the cell that need its value: read-only
 * commands resolve targets (no commit, no eager interpolation), runs bind only the sections they use.
 */
describe('unset environment variables are needed only where they are used', () => {
  let jenkins: JenkinsSandbox;
  let ec2: Ec2Sandbox;

  beforeAll(async () => {
    jenkins = await startJenkinsSandbox({
      jobs: {
        'shop/dev': { parameters: ['GIT_SHA'], builds: [{ result: 'SUCCESS' }], history: [{ result: 'SUCCESS' }] },
        'shop/prod': { parameters: ['GIT_SHA', 'REGION'], builds: [{ result: 'SUCCESS' }], history: [{ result: 'SUCCESS' }] },
      },
    });
    ec2 = await startEc2Sandbox({
      instances: [
        { id: 'i-0000000000000aaa1', tags: { Name: 'dev-1', Environment: 'dev' }, privateIp: '10.0.1.11' },
        { id: 'i-0000000000000bbb1', tags: { Name: 'prod-1', Environment: 'prod' }, privateIp: '10.0.2.11' },
      ],
    });
  });
  afterAll(async () => {
    await jenkins.close();
    await ec2.close();
  });

  function project() {
    return createProject({
      jenkinsUrl: jenkins.url,
      environments: {
        dev: {
          branch: 'develop',
          jenkins: { job: 'shop/dev', parameters: { GIT_SHA: '${git.sha}' } },
          aws: { region: 'eu-central-1', endpoint: ec2.url, tags: { Environment: 'dev' } },
        },
        prod: {
          branch: 'main',
          promoteFrom: 'dev',
          jenkins: { job: 'shop/prod', parameters: { GIT_SHA: '${git.sha}', REGION: '${env.PROD_REGION}' } },
          aws: { region: '${env.PROD_AWS_REGION}', endpoint: ec2.url, tags: { Environment: 'prod' } },
        },
      },
    });
  }

  it('`status dev` prints the whole screen when only prod reads an unset variable', async () => {
    const p = project();
    try {
      const result = await runIac(['status', 'dev'], { cwd: p.work, env: { ...AWS_ENV, ...UNSET } });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^dev {2}develop/m);
      expect(result.stdout).toMatch(/jenkins {3}#1 SUCCESS/);
      expect(result.stdout).toContain('ec2       1 instance: 1 running');
      expect(result.stdout).toContain('everything healthy');
    } finally {
      p.cleanup();
    }
  });

  it('`status` shows the cell that needs the variable as "needs NAME"; the other cells of prod still answer', async () => {
    const p = project();
    try {
      const result = await runIac(['status'], { cwd: p.work, env: { ...AWS_ENV, ...UNSET } });
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^prod {2}main/m);
      // prod's Jenkins parameters read PROD_REGION, but status never needs parameters.
      expect(result.stdout.split('\n').filter((line) => /jenkins {3}#1 SUCCESS/.test(line))).toHaveLength(2);
      expect(result.stdout).toContain('ec2       needs PROD_AWS_REGION');
      expect(result.stdout).toContain('! prod: not checked, needs PROD_AWS_REGION');
      expect(result.stdout).not.toContain('everything healthy');
    } finally {
      p.cleanup();
    }
  });

  it('`inventory prod` works while a Jenkins parameter of prod reads an unset variable; its own section names what it needs', async () => {
    const p = project();
    try {
      const listed = await runIac(['inventory', 'prod', '--list'], { cwd: p.work, env: { ...AWS_ENV, PROD_REGION: undefined, PROD_AWS_REGION: 'eu-central-1' } });
      expect(listed.stderr).toBe('');
      expect(listed.code).toBe(0);
      expect(JSON.stringify(JSON.parse(listed.stdout))).toContain('prod-1');
      const refused = await runIac(['inventory', 'prod', '--list'], { cwd: p.work, env: { ...AWS_ENV, ...UNSET } });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('environments.prod.aws: environment variable PROD_AWS_REGION is not set');
      expect(refused.stderr).toContain('export PROD_AWS_REGION=...');
    } finally {
      p.cleanup();
    }
  });

  it('a run needs the variable only when it runs the step that reads it', async () => {
    const p = project();
    try {
      const refused = await runIac(['up', 'prod', '--dry-run'], { cwd: p.work, env: { ...AWS_ENV, ...UNSET } });
      expect(refused.code).toBe(2);
      expect(refused.stderr).toContain('environments.prod.jenkins.parameters.REGION: environment variable PROD_REGION is not set');
      const withoutJenkins = await runIac(['up', 'prod', '--dry-run', '--skip', 'jenkins'], { cwd: p.work, env: { ...AWS_ENV, ...UNSET } });
      expect(withoutJenkins.stderr).toBe('');
      expect(withoutJenkins.code).toBe(0);
    } finally {
      p.cleanup();
    }
  });
});
