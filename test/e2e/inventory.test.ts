import { execFile } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEc2Sandbox, type Ec2Sandbox } from '../../src/sandbox/ec2.js';
import { createProject } from '../helpers/project.js';
import { IAC_BIN, runIac } from '../helpers/run-cli.js';
import { toolAvailable } from '../helpers/tools.js';

const AWS_ENV = {
  AWS_ACCESS_KEY_ID: 'AKIATEST0000000000',
  AWS_SECRET_ACCESS_KEY: 'test-secret-key',
  AWS_REGION: 'eu-central-1',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_CONFIG_FILE: '/nonexistent/aws-config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
  AWS_PROFILE: undefined,
};

type Unsafe = { __ansible_unsafe: string };

describe('iac inventory against the EC2 sandbox', () => {
  let ec2: Ec2Sandbox;
  beforeAll(async () => {
    ec2 = await startEc2Sandbox({
      pageSize: 2,
      instances: [
        { id: 'i-0000000000000aaa2', tags: { Name: 'web-2', Environment: 'dev', Role: 'web' }, privateIp: '10.0.1.12' },
        { id: 'i-0000000000000aaa1', tags: { Name: 'web-1', Environment: 'dev', Role: 'web' }, privateIp: '10.0.1.11' },
        { id: 'i-0000000000000aaa3', tags: { Name: 'db-1', Environment: 'dev', Role: 'db' }, privateIp: '10.0.1.13' },
        { id: 'i-0000000000000aaa4', tags: { Name: 'old-1', Environment: 'dev', Role: 'web' }, privateIp: '10.0.1.14', state: 'stopped' },
        { id: 'i-0000000000000bbb1', tags: { Name: 'prod-1', Environment: 'prod', Role: 'web' }, privateIp: '10.0.2.11' },
      ],
    });
  });
  afterAll(async () => ec2.close());

  function project(ec2Options: Record<string, unknown> = {}) {
    return createProject({
      environments: {
        dev: { branch: 'develop', ansible: { playbook: 'site.yml', inventory: { ec2: { region: 'eu-central-1', endpoint: ec2.url, tags: { Environment: 'dev' }, ...ec2Options } } } },
      },
    });
  }

  it('prints a --list inventory like aws_ec2 (running only, sorted by id, no ansible_host), values unsafe; and --host', async () => {
    const p = project();
    try {
      const result = await runIac(['inventory', '--list'], { cwd: p.work, env: AWS_ENV });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const inventory = JSON.parse(result.stdout) as {
        all: { children: string[] };
        aws_ec2: { hosts: string[] };
        _meta: { hostvars: Record<string, { instance_id: Unsafe; tags: Record<string, Unsafe> }> };
      };
      expect(inventory.all.children).toEqual(['ungrouped', 'aws_ec2']);
      expect(inventory.aws_ec2.hosts).toEqual(['ip-10-0-1-11.eu-central-1.compute.internal', 'ip-10-0-1-12.eu-central-1.compute.internal', 'ip-10-0-1-13.eu-central-1.compute.internal']);
      const web1 = inventory._meta.hostvars['ip-10-0-1-11.eu-central-1.compute.internal'];
      expect(web1?.instance_id).toEqual({ __ansible_unsafe: 'i-0000000000000aaa1' });
      expect(web1?.tags.Role).toEqual({ __ansible_unsafe: 'web' });
      expect(result.stdout).not.toContain('ansible_host');
      const host = await runIac(['inventory', '--host', 'ip-10-0-1-13.eu-central-1.compute.internal'], { cwd: p.work, env: AWS_ENV });
      expect(JSON.parse(host.stdout)).toMatchObject({ private_ip_address: { __ansible_unsafe: '10.0.1.13' } });
    } finally {
      p.cleanup();
    }
  });

  it.runIf(toolAvailable('ansible-inventory'))('hostnames, compose and keyed_groups as aws_ec2 means them (Ansible\'s constructed plugin evaluates them)', async () => {
    const p = project({
      hostnames: ['tag:Name'],
      compose: { ansible_host: 'private_ip_address' },
      keyed_groups: [{ prefix: 'role', key: 'tags.Role' }],
      states: ['running', 'stopped'],
    });
    try {
      const result = await runIac(['inventory', '--list'], { cwd: p.work, env: AWS_ENV, timeoutMs: 120_000 });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const inventory = JSON.parse(result.stdout) as Record<string, { hosts?: string[] }> & { _meta: { hostvars: Record<string, { ansible_host: Unsafe }> } };
      expect(inventory.aws_ec2?.hosts).toEqual(['web-1', 'web-2', 'db-1', 'old-1']);
      expect(inventory.role_web?.hosts).toEqual(['web-1', 'web-2', 'old-1']);
      expect(inventory.role_db?.hosts).toEqual(['db-1']);
      expect(inventory._meta.hostvars['web-2']?.ansible_host).toEqual({ __ansible_unsafe: '10.0.1.12' });
    } finally {
      p.cleanup();
    }
  }, 120_000);

  it.runIf(toolAvailable('ansible-inventory'))('is accepted by the real ansible-inventory as an inventory script', async () => {
    const p = project();
    try {
      const script = join(p.root, 'inventory.sh');
      writeFileSync(script, `#!/bin/sh\ncd ${JSON.stringify(p.work)} && exec ${JSON.stringify(process.execPath)} ${JSON.stringify(IAC_BIN)} inventory "$@"\n`);
      chmodSync(script, 0o755);
      const out = await new Promise<string>((resolve, reject) =>
        execFile('ansible-inventory', ['-i', script, '--list'], { env: { ...process.env, ...AWS_ENV, AWS_PROFILE: '' } }, (error, stdout, stderr) => (error ? reject(new Error(stderr)) : resolve(stdout))),
      );
      const parsed = JSON.parse(out) as { _meta: { hostvars: Record<string, { tags: Record<string, unknown> }> } };
      expect(Object.keys(parsed._meta.hostvars)).toHaveLength(3);
      // ansible-inventory prints an unsafe value back as {"__ansible_unsafe": …}: Ansible holds the tags unsafe.
      expect(parsed._meta.hostvars['ip-10-0-1-11.eu-central-1.compute.internal']?.tags.Role).toEqual({ __ansible_unsafe: 'web' });
    } finally {
      p.cleanup();
    }
  }, 120_000);

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

  it('--list with --host is refused (exit 2)', async () => {
    const p = project();
    try {
      const result = await runIac(['inventory', '--list', '--host', 'x'], { cwd: p.work, env: AWS_ENV });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/--host.*cannot be used with.*--list/);
    } finally {
      p.cleanup();
    }
  });

  it('AWS_PROFILE naming a profile that does not exist: one clear line naming it, no AWS SDK warnings (exit 4)', async () => {
    const p = project();
    try {
      const result = await runIac(['inventory', '--list'], { cwd: p.work, env: { ...AWS_ENV, AWS_PROFILE: 'nope' } });
      expect(result.code).toBe(4);
      expect(result.stdout).toBe('');
      const lines = result.stderr.trim().split('\n');
      expect(lines[0]).toBe('✗ AWS profile "nope" (AWS_PROFILE) is not defined in the AWS config or credentials file');
      expect(result.stderr).toContain('hint: aws configure list-profiles');
      expect(result.stderr).not.toMatch(/set AWS_PROFILE|Warning|WARNING|Multiple credential sources/);
    } finally {
      p.cleanup();
    }
  });
});
