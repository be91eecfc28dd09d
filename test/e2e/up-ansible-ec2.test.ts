import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEc2Sandbox, type Ec2Sandbox } from '../../src/sandbox/ec2.js';
import { createProject } from '../helpers/project.js';
import { IAC_BIN, runIac } from '../helpers/run-cli.js';
import { toolAvailable } from '../helpers/tools.js';

const AWS_ENV = { AWS_ACCESS_KEY_ID: 'AKIATEST0000000000', AWS_SECRET_ACCESS_KEY: 'test-secret-key', AWS_REGION: 'eu-central-1', AWS_EC2_METADATA_DISABLED: 'true' };
const SLOW = 180_000;

/** A tag that runs a command on the machine running Ansible if it is ever templated. */
const pwnedTag = (marker: string): string => `{{ lookup('pipe', 'touch ${marker}') }}`;

/** Uses tags in templates, as a real playbook does; records what it saw. */
const PLAYBOOK = `- hosts: all
  connection: local
  gather_facts: false
  vars: { ansible_python_interpreter: /usr/bin/python3 }
  tasks:
    - name: Record the host and its tags
      ansible.builtin.lineinfile:
        path: "{{ lookup('env', 'TEST_OUT_DIR') }}/hosts-seen.txt"
        line: "{{ ansible_host }} {{ tags.Role }} {{ tags.Note | default('-') }}"
        create: true
        mode: "0644"
      throttle: 1
`;

describe.runIf(toolAvailable('ansible-playbook'))('iac up --only ansible with EC2 discovery', () => {
  let ec2: Ec2Sandbox;
  let out: string;
  let marker: string;
  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'iac-ec2-e2e-'));
    marker = join(out, 'pwned');
    ec2 = await startEc2Sandbox({
      pageSize: 2,
      instances: [
        { id: 'i-0000000000000c003', tags: { Name: 'api-3', Environment: 'dev', Role: 'api' }, privateIp: '10.0.3.13' },
        { id: 'i-0000000000000c001', tags: { Name: 'api-1', Environment: 'dev', Role: 'api', Note: pwnedTag(marker) }, privateIp: '10.0.3.11' },
        { id: 'i-0000000000000c002', tags: { Name: 'api-2', Environment: 'dev', Role: 'api' }, privateIp: '10.0.3.12' },
        { id: 'i-0000000000000c004', tags: { Name: 'api-4', Environment: 'dev', Role: 'api' }, privateIp: '10.0.3.14', state: 'stopped' },
        { id: 'i-0000000000000d001', tags: { Name: 'other', Environment: 'prod', Role: 'api' }, privateIp: '10.0.4.11' },
      ],
    });
  });
  afterAll(async () => {
    await ec2.close();
    rmSync(out, { recursive: true, force: true });
  });

  function project(ec2Options: Record<string, unknown>) {
    const p = createProject({
      environments: {
        dev: { branch: 'develop', ansible: { playbook: 'deploy/site.yml', inventory: { ec2: { region: 'eu-central-1', endpoint: ec2.url, tags: { Environment: 'dev' }, ...ec2Options } } } },
      },
    });
    mkdirSync(join(p.work, 'deploy'));
    writeFileSync(join(p.work, 'deploy/site.yml'), PLAYBOOK);
    p.git('add', '.');
    p.git('commit', '-q', '-m', 'playbook');
    return p;
  }

  it('runs against exactly the running instances the tags select; tags reach Ansible unsafe (the static file)', async () => {
    const p = project({ compose: { ansible_host: 'private_ip_address' } });
    try {
      rmSync(join(out, 'hosts-seen.txt'), { force: true });
      const result = await runIac(['up', '--only', 'ansible'], { cwd: p.work, env: { ...AWS_ENV, TEST_OUT_DIR: out }, timeoutMs: SLOW });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('found 3 EC2 instances');
      expect(result.stdout).toMatch(/1 tasks on 3 hosts/);
      const seen = readFileSync(join(out, 'hosts-seen.txt'), 'utf8').trim().split('\n').sort();
      expect(seen).toEqual([`10.0.3.11 api ${pwnedTag(marker)}`, '10.0.3.12 api -', '10.0.3.13 api -']);
      expect(existsSync(marker)).toBe(false); // the tag was data, never a template
      const runs = join(p.work, '.iac', 'runs');
      const inventory = readFileSync(join(runs, readdirSync(runs)[0] as string, 'ec2-inventory.yml'), 'utf8');
      expect(inventory).toContain('!unsafe "10.0.3.12"');
      expect(inventory).not.toContain('10.0.3.14'); // stopped: states defaults to running
      expect(inventory).not.toContain('10.0.4.11');
    } finally {
      p.cleanup();
    }
  }, SLOW);

  it('iac inventory --list used as -i by the real ansible-playbook: the tag is not templated either', async () => {
    const p = project({});
    try {
      rmSync(join(out, 'hosts-seen.txt'), { force: true });
      const script = join(p.root, 'inventory.sh');
      writeFileSync(script, `#!/bin/sh\ncd ${JSON.stringify(p.work)} && exec ${JSON.stringify(process.execPath)} ${JSON.stringify(IAC_BIN)} inventory "$@"\n`);
      chmodSync(script, 0o755);
      const code = await new Promise<number>((resolve) =>
        execFile(
          'ansible-playbook',
          ['-i', script, join(p.work, 'deploy/site.yml')],
          { env: { ...process.env, ...AWS_ENV, TEST_OUT_DIR: out, ANSIBLE_INVENTORY_UNPARSED_FAILED: '1' }, timeout: SLOW },
          (error) => resolve(error ? Number((error as { code?: number }).code ?? 1) : 0),
        ),
      );
      expect(code).toBe(0);
      const seen = readFileSync(join(out, 'hosts-seen.txt'), 'utf8').trim().split('\n').sort();
      // No compose here: like aws_ec2, ansible_host is not set, so it is the host name (the private DNS name).
      expect(seen).toEqual([
        `ip-10-0-3-11.eu-central-1.compute.internal api ${pwnedTag(marker)}`,
        'ip-10-0-3-12.eu-central-1.compute.internal api -',
        'ip-10-0-3-13.eu-central-1.compute.internal api -',
      ]);
      expect(existsSync(marker)).toBe(false);
    } finally {
      p.cleanup();
    }
  }, SLOW);

  it('an unreachable EC2 host: exit 31 and a hint that pings it through the same inventory, as printed', async () => {
    const p = project({});
    try {
      // Over ssh this time: the hosts' private DNS names do not resolve here.
      writeFileSync(join(p.work, 'deploy/site.yml'), '- hosts: all\n  gather_facts: false\n  tasks:\n    - name: Reach it\n      ansible.builtin.ping:\n');
      p.git('commit', '-q', '-am', 'ssh playbook');
      const result = await runIac(['up', '--only', 'ansible'], { cwd: p.work, env: { ...AWS_ENV, TEST_OUT_DIR: out }, timeoutMs: SLOW });
      expect(result.code).toBe(31);
      const hint = /hint: (cd .* && ansible all .*)$/m.exec(result.stderr)?.[1] ?? '';
      expect(hint).toMatch(/ansible all -i \S+\/ec2-inventory\.yml -m ping --limit ip-10-0-3-11\.eu-central-1\.compute\.internal$/);
      const ping = await new Promise<string>((resolve) => execFile('sh', ['-c', hint], { timeout: SLOW }, (_error, stdout) => resolve(stdout)));
      expect(ping).toContain('ip-10-0-3-11.eu-central-1.compute.internal | UNREACHABLE!');
    } finally {
      p.cleanup();
    }
  }, SLOW);
});
