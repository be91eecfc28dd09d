import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEc2Sandbox, type Ec2Sandbox } from '../../src/sandbox/ec2.js';
import { createProject } from '../helpers/project.js';
import { runIac } from '../helpers/run-cli.js';
import { toolAvailable } from '../helpers/tools.js';

const AWS_ENV = { AWS_ACCESS_KEY_ID: 'AKIATEST0000000000', AWS_SECRET_ACCESS_KEY: 'test-secret-key', AWS_REGION: 'eu-central-1', AWS_EC2_METADATA_DISABLED: 'true' };

describe.runIf(toolAvailable('ansible-playbook'))('iac up --only ansible with EC2 discovery', () => {
  let ec2: Ec2Sandbox;
  beforeAll(async () => {
    ec2 = await startEc2Sandbox({
      pageSize: 2,
      instances: [
        { id: 'i-0000000000000c001', tags: { Name: 'api-1', Environment: 'dev' }, privateIp: '10.0.3.11' },
        { id: 'i-0000000000000c002', tags: { Name: 'api-2', Environment: 'dev' }, privateIp: '10.0.3.12' },
        { id: 'i-0000000000000c003', tags: { Name: 'api-3', Environment: 'dev' }, privateIp: '10.0.3.13' },
        { id: 'i-0000000000000d001', tags: { Name: 'other', Environment: 'prod' }, privateIp: '10.0.4.11' },
      ],
    });
  });
  afterAll(async () => ec2.close());

  it('runs the playbook against exactly the instances the tags select (connection: local, no network)', async () => {
    const p = createProject({
      environments: {
        dev: { branch: 'develop', ansible: { playbook: 'deploy/site.yml', inventory: { ec2: { region: 'eu-central-1', endpoint: ec2.url, tags: { Environment: 'dev' } } } } },
      },
    });
    try {
      mkdirSync(join(p.work, 'deploy'));
      // connection: local — the "hosts" are only names here; nothing is sent to their addresses.
      writeFileSync(
        join(p.work, 'deploy/site.yml'),
        '- hosts: all\n  connection: local\n  gather_facts: false\n  vars: { ansible_python_interpreter: /usr/bin/python3 }\n  tasks:\n    - name: Record the host\n      ansible.builtin.lineinfile:\n        path: "{{ playbook_dir }}/../hosts-seen.txt"\n        line: "{{ ansible_host }}"\n        create: true\n        mode: "0644"\n      throttle: 1\n',
      );
      p.git('add', '.');
      p.git('commit', '-q', '-m', 'playbook');
      const result = await runIac(['up', '--only', 'ansible'], { cwd: p.work, env: AWS_ENV });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('found 3 EC2 instances');
      expect(result.stdout).toMatch(/1 tasks on 3 hosts/);
      const seen = readFileSync(join(p.work, 'hosts-seen.txt'), 'utf8').trim().split('\n').sort();
      expect(seen).toEqual(['10.0.3.11', '10.0.3.12', '10.0.3.13']);
      const runs = join(p.work, '.iac', 'runs');
      const inventory = readFileSync(join(runs, readdirSync(runs)[0] as string, 'inventory.json'), 'utf8');
      expect(inventory).toContain('10.0.3.12');
      expect(inventory).not.toContain('10.0.4.11');
    } finally {
      p.cleanup();
    }
  });
});
