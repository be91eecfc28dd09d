import { describe, expect, it } from 'vitest';
import type { Ec2Instance } from '../../../src/aws/ec2.js';
import { tagFilters } from '../../../src/aws/ec2.js';
import {
  camelToSnake,
  hasConstructed,
  hostnameOf,
  markUnsafe,
  sanitizeGroupName,
  toAnsibleInventory,
  toConstructedConfig,
  toStaticYaml,
  unsafeList,
} from '../../../src/aws/inventory.js';

function instance(id: string, tags: Record<string, string>, extra: Partial<Ec2Instance> = {}): Ec2Instance {
  const raw = { InstanceId: id, PrivateDnsName: extra.privateDnsName ?? '', PublicDnsName: extra.publicDnsName ?? '', PrivateIpAddress: extra.privateIp };
  return { instanceId: id, state: 'running', tags, raw, ...extra };
}

describe('names like amazon.aws.aws_ec2', () => {
  it('sanitizes group names like to_safe_group_name', () => {
    expect(sanitizeGroupName('tag_Name_web-1')).toBe('tag_Name_web_1');
    expect(sanitizeGroupName('az_us-west-2a')).toBe('az_us_west_2a');
    expect(sanitizeGroupName('tag_aws:cloudformation:stack-name_my stack')).toBe('tag_aws_cloudformation_stack_name_my_stack');
    expect(sanitizeGroupName('1st')).toBe('_st');
    expect(sanitizeGroupName('tag_Team_café')).toBe('tag_Team_café');
  });

  it('snake-cases like camel_dict_to_snake_dict', () => {
    expect(camelToSnake('PublicDnsName')).toBe('public_dns_name');
    expect(camelToSnake('AmiLaunchIndex')).toBe('ami_launch_index');
    expect(camelToSnake('EbsOptimized')).toBe('ebs_optimized');
    expect(camelToSnake('TargetGroupARNs')).toBe('target_group_arns');
    expect(camelToSnake('Ipv6Address')).toBe('ipv6_address');
  });

  it('picks the host name from preferences; none found means no host', () => {
    const web = instance('i-1', { Name: 'web-1', Role: 'web' }, { privateDnsName: 'ip-10-0-0-1.ec2.internal', privateIp: '10.0.0.1' });
    expect(hostnameOf(web)).toBe('ip-10-0-0-1.ec2.internal');
    expect(hostnameOf(web, ['tag:Name'])).toBe('web-1');
    expect(hostnameOf(web, ['tag:Missing,Role'])).toBe('web');
    expect(hostnameOf(web, ['tag:Name=web-1'])).toBe('Name_web-1');
    expect(hostnameOf(web, ['private-ip-address'])).toBe('10.0.0.1');
    expect(hostnameOf(web, [{ name: 'tag:Name', prefix: 'tag:Role', separator: '-' }])).toBe('web-web-1');
    expect(hostnameOf(web, ['dns-name'])).toBeUndefined();
    // A filter name the plugin does not know is used literally, as the plugin does.
    expect(hostnameOf(web, ['somewhere'])).toBe('somewhere');
    expect(hostnameOf(instance('i-2', {}))).toBeUndefined();
  });

  it('never names a host with something Ansible would template', () => {
    const evil = instance('i-3', { Name: "{{ lookup('pipe','id') }}" }, { privateDnsName: 'ip-10-0-0-3.ec2.internal' });
    expect(hostnameOf(evil, ['tag:Name', 'private-dns-name'])).toBe('ip-10-0-0-3.ec2.internal');
  });

  it('sorts by instance id, drops instances without a name, merges duplicate names (the later id wins), no ansible_host', () => {
    const list = toAnsibleInventory(
      [
        instance('i-3', { Name: 'web', Only3: 'x' }),
        instance('i-1', { Name: 'web', Role: 'a' }),
        instance('i-2', { Role: 'nameless' }),
        instance('i-0', { Name: 'api' }),
      ],
      { hostnames: ['tag:Name'] },
    );
    expect(list.aws_ec2).toEqual({ hosts: ['api', 'web'] });
    expect(list.all).toEqual({ children: ['ungrouped', 'aws_ec2'] });
    expect(list._meta.hostvars.web).toMatchObject({ instance_id: 'i-3', tags: { Name: 'web', Only3: 'x' } });
    expect(Object.values(list._meta.hostvars).some((v) => 'ansible_host' in v)).toBe(false);
  });

  it('allow_duplicated_hosts: one host per matching preference', () => {
    const list = toAnsibleInventory([instance('i-1', { Name: 'web' }, { privateDnsName: 'ip-1.internal' })], {
      hostnames: ['tag:Name', 'private-dns-name'],
      allowDuplicatedHosts: true,
    });
    expect(list.aws_ec2).toEqual({ hosts: ['web', 'ip-1.internal'] });
  });

  it('builds tag and state filters for DescribeInstances', () => {
    expect(tagFilters({ Environment: 'dev', Role: 'web' }, ['running'])).toEqual([
      { Name: 'tag:Environment', Values: ['dev'] },
      { Name: 'tag:Role', Values: ['web'] },
      { Name: 'instance-state-name', Values: ['running'] },
    ]);
  });
});

describe('everything from EC2 is marked unsafe', () => {
  const note = "{{ lookup('pipe','touch pwned') }}";
  const list = toAnsibleInventory([instance('i-1', { Name: 'web', Note: note, Accent: 'café ☃ 😀 "q" \\' }, { privateDnsName: 'ip-1.internal' })]);

  it('as __ansible_unsafe objects in --list output', () => {
    expect(markUnsafe({ a: ['x', 1, true, null], b: { c: 'y' } })).toEqual({
      a: [{ __ansible_unsafe: 'x' }, 1, true, null],
      b: { c: { __ansible_unsafe: 'y' } },
    });
    const hostvars = unsafeList(list)._meta.hostvars['ip-1.internal'] as Record<string, unknown>;
    expect(hostvars.tags).toMatchObject({ Note: { __ansible_unsafe: note } });
    expect(unsafeList(list).aws_ec2).toEqual({ hosts: ['ip-1.internal'] });
  });

  it('as !unsafe scalars in pure-ASCII YAML for the static file', () => {
    const yaml = toStaticYaml(list);
    expect(yaml).toContain(`"Note": !unsafe "{{ lookup('pipe','touch pwned') }}"`);
    expect(yaml).toContain('"Accent": !unsafe "caf\\u00e9 \\u2603 \\U0001f600 \\"q\\" \\\\"');
    expect(/^[\x20-\x7e\n]*$/.test(yaml)).toBe(true);
  });
});

describe('compose, groups and keyed_groups are handed to Ansible\'s constructed plugin', () => {
  it('only when configured, with strict off by default', () => {
    expect(hasConstructed({})).toBe(false);
    expect(hasConstructed({ strict: true })).toBe(false);
    expect(hasConstructed({ compose: { ansible_host: 'private_ip_address' } })).toBe(true);
    expect(JSON.parse(toConstructedConfig({ keyed_groups: [{ prefix: 'tag', key: 'tags' }] }))).toEqual({
      plugin: 'ansible.builtin.constructed',
      strict: false,
      keyed_groups: [{ prefix: 'tag', key: 'tags' }],
    });
  });
});
