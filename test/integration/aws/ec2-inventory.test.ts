import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { findInstances } from '../../../src/aws/ec2.js';
import { hostFor, toAnsibleInventory, toStaticYaml, unsafeList, type InventoryList } from '../../../src/aws/inventory.js';
import { InterruptedError, UnreachableError, UsageError } from '../../../src/errors.js';
import { startEc2Sandbox, type Ec2Sandbox } from '../../../src/sandbox/ec2.js';
import { toolAvailable } from '../../helpers/tools.js';
import { TAGGED_INSTANCES } from '../../fixtures/ec2/scenario-tagged.js';

const KEYED_LIST = JSON.parse(
  readFileSync(new URL('../../fixtures/ansible/aws_ec2-keyed-list.json', import.meta.url), 'utf8'),
) as { _meta: { hostvars: Record<string, Record<string, unknown>> } };

// Static test credentials for the SDK's default chain, in this test process only; no real AWS is touched.
const savedEnv = { ...process.env };
beforeAll(() => {
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'test-secret-key',
    AWS_CONFIG_FILE: '/nonexistent/aws-config',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
});
afterAll(() => {
  process.env = savedEnv;
});

const sandboxes: Ec2Sandbox[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const sandbox of sandboxes.splice(0)) await sandbox.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function sandbox(options: Parameters<typeof startEc2Sandbox>[0]): Promise<Ec2Sandbox> {
  const started = await startEc2Sandbox(options);
  sandboxes.push(started);
  return started;
}

const DEV = { region: 'us-west-2', tags: { Environment: 'dev' } };

describe('EC2 discovery against the sandbox', () => {
  it('finds 3 tagged instances over 2 pages and builds hosts, groups and hostvars like aws_ec2', async () => {
    const ec2 = await sandbox({ instances: TAGGED_INSTANCES, pageSize: 2 });
    const instances = await findInstances({ ...DEV, endpoint: ec2.url });

    expect(instances.map((i) => [i.instanceId, i.state])).toEqual([
      ['i-0a1b2c3d4e5f60001', 'running'],
      ['i-0a1b2c3d4e5f60002', 'running'],
      ['i-0a1b2c3d4e5f60003', 'stopped'],
    ]);
    expect(ec2.requests.map((r) => [r.action, r.status, r.params.NextToken !== undefined])).toEqual([
      ['DescribeInstances', 200, false],
      ['DescribeInstances', 200, true],
    ]);
    expect(ec2.requests[0]?.signed).toBe(true);
    expect(ec2.requests[0]?.params).toMatchObject({
      'Filter.1.Name': 'tag:Environment',
      'Filter.1.Value.1': 'dev',
      'Filter.2.Name': 'instance-state-name',
      'Filter.2.Value.1': 'pending',
      'Filter.2.Value.4': 'stopped',
    });

    const list = toAnsibleInventory(instances, { hostnames: ['tag:Name', 'instance-id'] });
    // Like the plugin by default: one group, hosts in instance-id order, no ansible_host.
    expect(list.all.children).toEqual(['ungrouped', 'aws_ec2']);
    expect(list.aws_ec2).toEqual({ hosts: ['web-1', 'web-2', 'db-1'] });

    // Hostvars equal what the real amazon.aws.aws_ec2 plugin produced for the same instances
    // (its recording used compose: ansible_host, which iac only adds when asked to).
    for (const host of ['web-1', 'web-2', 'db-1']) {
      const { tags, ...ours } = list._meta.hostvars[host] as Record<string, unknown>;
      const { tags: pluginTags, ansible_host: _theirs, ...plugin } = KEYED_LIST._meta.hostvars[host] as Record<string, unknown>;
      expect(ours).toEqual(plugin);
      expect(tags).toEqual({ ...(pluginTags as object), Environment: 'dev' });
    }
    expect(hostFor(list, 'db-1')).toBe(list._meta.hostvars['db-1']);
    expect(hostFor(list, 'nope')).toEqual({});

    // Default naming like the plugin: public DNS, else private DNS.
    const byDns = toAnsibleInventory(instances);
    expect((byDns.aws_ec2 as { hosts: string[] }).hosts).toEqual([
      'ec2-34-219-17-11.us-west-2.compute.amazonaws.com',
      'ip-10-0-1-12.us-west-2.compute.internal',
      'ip-10-0-2-21.us-west-2.compute.internal',
    ]);
  });

  it('filters by state and by tag values with wildcards', async () => {
    const ec2 = await sandbox({ instances: TAGGED_INSTANCES });
    const running = await findInstances({ ...DEV, endpoint: ec2.url, states: ['running'] });
    expect(running.map((i) => i.tags.Name)).toEqual(['web-1', 'web-2']);
    const prod = await findInstances({ region: 'us-west-2', endpoint: ec2.url, tags: { Environment: 'prod', Role: 'w*' } });
    expect(prod.map((i) => i.tags.Name)).toEqual(['prod-web-1']);
    const none = await findInstances({ region: 'us-west-2', endpoint: ec2.url, tags: { Environment: 'staging' } });
    expect(none).toEqual([]);
  });

  it('retries RequestLimitExceeded twice and still completes the inventory', async () => {
    const ec2 = await sandbox({ instances: TAGGED_INSTANCES, pageSize: 2, faults: { throttleFirst: 2 } });
    const instances = await findInstances({ ...DEV, endpoint: ec2.url });
    expect(instances).toHaveLength(3);
    expect(ec2.requests.map((r) => r.status)).toEqual([503, 503, 200, 200]);
    expect(ec2.requests.map((r) => r.sdkRequest?.split(';')[0])).toEqual(['attempt=1', 'attempt=2', 'attempt=3', 'attempt=1']);
  });

  it('turns AuthFailure into UnreachableError (exit 4) with a credentials hint, without retrying', async () => {
    const ec2 = await sandbox({ instances: TAGGED_INSTANCES, faults: { authFailure: true } });
    const error = await findInstances({ ...DEV, endpoint: ec2.url }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnreachableError);
    expect((error as UnreachableError).exitCode).toBe(4);
    expect((error as UnreachableError).code).toBe('aws.auth');
    expect((error as UnreachableError).message).toContain('AuthFailure');
    expect((error as UnreachableError).message).not.toContain('test-secret-key');
    expect((error as UnreachableError).hint).toContain('AWS_ACCESS_KEY_ID');
    expect(ec2.requests).toHaveLength(1);
  });

  it('reports an endpoint that does not answer as UnreachableError', async () => {
    const ec2 = await startEc2Sandbox({ instances: [] });
    await ec2.close(); // nothing listens on this port any more
    const error = await findInstances({ ...DEV, endpoint: ec2.url, maxAttempts: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnreachableError);
    expect((error as UnreachableError).code).toBe('aws.unreachable');
  });

  it('stops on abort with InterruptedError', async () => {
    const ec2 = await sandbox({ instances: TAGGED_INSTANCES, faults: { latencyMs: 5_000 } });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await findInstances({ ...DEV, endpoint: ec2.url, signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InterruptedError);
  });

  it('asks for a region when none is configured (exit 2)', async () => {
    const ec2 = await sandbox({ instances: TAGGED_INSTANCES });
    const { AWS_REGION, AWS_DEFAULT_REGION } = process.env;
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    try {
      const error = await findInstances({ tags: DEV.tags, endpoint: ec2.url }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).hint).toContain('AWS_REGION');
    } finally {
      Object.assign(process.env, AWS_REGION === undefined ? {} : { AWS_REGION }, AWS_DEFAULT_REGION === undefined ? {} : { AWS_DEFAULT_REGION });
    }
  });

  it('reports missing credentials as UnreachableError with a hint', async () => {
    const ec2 = await sandbox({ instances: TAGGED_INSTANCES });
    const { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY } = process.env;
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    try {
      const error = await findInstances({ ...DEV, endpoint: ec2.url }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnreachableError);
      expect((error as UnreachableError).code).toBe('aws.no-credentials');
      expect(ec2.requests).toHaveLength(0);
    } finally {
      Object.assign(process.env, { AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY });
    }
  });
});

describe.runIf(toolAvailable('ansible-inventory'))('the real ansible-inventory reads the inventory, every EC2 value unsafe', () => {
  function ansibleInventory(args: string[]): unknown {
    const out = execFileSync('ansible-inventory', args, {
      encoding: 'utf8',
      env: { ...process.env, ANSIBLE_INVENTORY_UNPARSED_FAILED: '1', ANSIBLE_INVENTORY_ENABLED: 'script,yaml' },
    });
    return JSON.parse(out);
  }

  async function discovered(): Promise<InventoryList> {
    const ec2 = await sandbox({ instances: TAGGED_INSTANCES, pageSize: 2 });
    return toAnsibleInventory(await findInstances({ ...DEV, endpoint: ec2.url }), { hostnames: ['tag:Name', 'instance-id'] });
  }

  type Listed = Record<string, { hosts?: string[]; children?: string[] }> & { _meta: { hostvars: Record<string, Record<string, unknown>> } };

  it('as an executable --list/--host script printing __ansible_unsafe values', async () => {
    const list = await discovered();
    const dir = mkdtempSync(join(tmpdir(), 'iac-inv-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'inventory.json'), JSON.stringify(unsafeList(list)));
    const script = join(dir, 'ec2-inventory.mjs');
    writeFileSync(
      script,
      [
        '#!/usr/bin/env node',
        "import { readFileSync } from 'node:fs';",
        "const list = JSON.parse(readFileSync(new URL('./inventory.json', import.meta.url), 'utf8'));",
        "const [flag, host] = process.argv.slice(2);",
        "if (flag === '--list') console.log(JSON.stringify(list));",
        "else if (flag === '--host') console.log(JSON.stringify(list._meta.hostvars[host] ?? {}));",
        "else { console.error('usage: --list | --host NAME'); process.exit(2); }",
      ].join('\n'),
    );
    chmodSync(script, 0o755);

    const parsed = ansibleInventory(['-i', script, '--list']) as Listed;
    expect(parsed.all?.children).toEqual(['ungrouped', 'aws_ec2']);
    expect(parsed.aws_ec2?.hosts).toEqual(['web-1', 'web-2', 'db-1']);
    // ansible-inventory writes an unsafe value back as {"__ansible_unsafe": …}: Ansible holds them unsafe.
    expect(parsed._meta.hostvars['web-2']).toMatchObject({ instance_id: { __ansible_unsafe: 'i-0a1b2c3d4e5f60002' }, tags: { Role: { __ansible_unsafe: 'web' } } });
  });

  it('as the static YAML file iac up writes (!unsafe)', async () => {
    const list = await discovered();
    const dir = mkdtempSync(join(tmpdir(), 'iac-inv-'));
    dirs.push(dir);
    const file = join(dir, 'ec2-inventory.yml');
    writeFileSync(file, toStaticYaml(list));
    const parsed = ansibleInventory(['-i', file, '--list']) as Listed;
    expect(parsed.aws_ec2?.hosts).toEqual(['web-1', 'web-2', 'db-1']);
    expect(parsed._meta.hostvars['web-1']).toMatchObject({ private_ip_address: { __ansible_unsafe: '10.0.1.11' }, tags: { Role: { __ansible_unsafe: 'web' } } });
    expect(parsed._meta.hostvars['db-1']).toMatchObject({ state: { code: 80, name: { __ansible_unsafe: 'stopped' } } });
  });
});
