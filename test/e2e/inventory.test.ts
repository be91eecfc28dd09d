import { execFile } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEc2Sandbox, type Ec2Sandbox } from '../../src/sandbox/ec2.js';
import { createProject } from '../helpers/project.js';
import { IAC_BIN, runIac } from '../helpers/run-cli.js';
import { toolAvailable } from '../helpers/tools.js';

const AWS_ENV = { AWS_ACCESS_KEY_ID: 'AKIATEST0000000000', AWS_SECRET_ACCESS_KEY: 'test-secret-key', AWS_REGION: 'eu-central-1', AWS_EC2_METADATA_DISABLED: 'true' };

describe('iac inventory against the EC2 sandbox', () => {
  let ec2: Ec2Sandbox;
  beforeAll(async () => {
    ec2 = await startEc2Sandbox({
      pageSize: 2,
      instances: [
        { id: 'i-0000000000000aaa1', tags: { Name: 'web-1', Environment: 'dev', Role: 'web' }, privateIp: '10.0.1.11' },
        { id: 'i-0000000000000aaa2', tags: { Name: 'web-2', Environment: 'dev', Role: 'web' }, privateIp: '10.0.1.12' },
        { id: 'i-0000000000000aaa3', tags: { Name: 'db-1', Environment: 'dev', Role: 'db' }, privateIp: '10.0.1.13' },
        { id: 'i-0000000000000bbb1', tags: { Name: 'prod-1', Environment: 'prod', Role: 'web' }, privateIp: '10.0.2.11' },
      ],
    });
  });
  afterAll(async () => ec2.close());

  function project() {
    return createProject({
      environments: {
        dev: { branch: 'develop', ansible: { playbook: 'site.yml', inventory: { ec2: { region: 'eu-central-1', endpoint: ec2.url, tags: { Environment: 'dev' } } } } },
      },
    });
  }

  it('prints a --list inventory with hostvars and tag groups, over 2 pages, and --host', async () => {
    const p = project();
    try {
      const result = await runIac(['inventory', '--list'], { cwd: p.work, env: AWS_ENV });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const inventory = JSON.parse(result.stdout) as { _meta: { hostvars: Record<string, { ansible_host: string }> }; tag_Role_web: { hosts: string[] } };
      const hosts = Object.keys(inventory._meta.hostvars);
      expect(hosts).toHaveLength(3);
      expect(inventory.tag_Role_web.hosts).toHaveLength(2);
      expect(Object.values(inventory._meta.hostvars).map((v) => v.ansible_host).sort()).toEqual(['10.0.1.11', '10.0.1.12', '10.0.1.13']);
      const host = await runIac(['inventory', '--host', hosts[0] as string], { cwd: p.work, env: AWS_ENV });
      expect(JSON.parse(host.stdout)).toMatchObject({ ansible_host: expect.stringMatching(/^10\.0\.1\./) });
    } finally {
      p.cleanup();
    }
  });

  it.runIf(toolAvailable('ansible-inventory'))('is accepted by the real ansible-inventory as an inventory script', async () => {
    const p = project();
    try {
      const script = join(p.root, 'inventory.sh');
      writeFileSync(script, `#!/bin/sh\ncd ${JSON.stringify(p.work)} && exec ${JSON.stringify(process.execPath)} ${JSON.stringify(IAC_BIN)} inventory "$@"\n`);
      chmodSync(script, 0o755);
      const out = await new Promise<string>((resolve, reject) =>
        execFile('ansible-inventory', ['-i', script, '--list'], { env: { ...process.env, ...AWS_ENV } }, (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(stdout))),
      );
      const parsed = JSON.parse(out) as { _meta: { hostvars: Record<string, unknown> } };
      expect(Object.keys(parsed._meta.hostvars)).toHaveLength(3);
    } finally {
      p.cleanup();
    }
  });

  it('an environment without EC2 discovery is a usage error with the fix (exit 2)', async () => {
    const p = createProject({ environments: { dev: { branch: 'develop' } } });
    try {
      const result = await runIac(['inventory'], { cwd: p.work, env: AWS_ENV });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('has no EC2 discovery');
    } finally {
      p.cleanup();
    }
  });
});
