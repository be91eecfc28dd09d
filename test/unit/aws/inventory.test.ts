import { describe, expect, it } from 'vitest';
import type { Ec2Instance } from '../../../src/aws/ec2.js';
import { tagFilters } from '../../../src/aws/ec2.js';
import { camelToSnake, hostnameOf, sanitizeGroupName, toAnsibleInventory, toYamlInventory } from '../../../src/aws/inventory.js';

function instance(id: string, tags: Record<string, string>, extra: Partial<Ec2Instance> = {}): Ec2Instance {
  return { instanceId: id, state: 'running', tags, raw: { InstanceId: id }, ...extra };
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

  it('picks the host name from preferences, falling back to the instance id', () => {
    const web = instance('i-1', { Name: 'web-1' }, { privateDnsName: 'ip-10-0-0-1.ec2.internal', publicDnsName: '' });
    expect(hostnameOf(web)).toBe('ip-10-0-0-1.ec2.internal');
    expect(hostnameOf(web, ['tag:Name'])).toBe('web-1');
    expect(hostnameOf(web, ['tag:Name=web-1'])).toBe('Name_web-1');
    expect(hostnameOf(instance('i-2', {}))).toBe('i-2');
  });

  it('keeps two instances with the same name apart, groups by every tag, and has an empty-value tag group', () => {
    const list = toAnsibleInventory(
      [instance('i-1', { Name: 'web', Role: '' }), instance('i-2', { Name: 'web' })],
      { hostnames: ['tag:Name'] },
    );
    expect(Object.keys(list._meta.hostvars)).toEqual(['web', 'i-2']);
    expect(list.tag_Name_web).toEqual({ hosts: ['web', 'i-2'] });
    expect(list.tag_Role_).toEqual({ hosts: ['web'] });
    expect(toYamlInventory(list).all.children.tag_Name_web).toEqual({ hosts: { web: null, 'i-2': null } });
  });

  it('builds tag and state filters for DescribeInstances', () => {
    expect(tagFilters({ Environment: 'dev', Role: 'web' }, ['running'])).toEqual([
      { Name: 'tag:Environment', Values: ['dev'] },
      { Name: 'tag:Role', Values: ['web'] },
      { Name: 'instance-state-name', Values: ['running'] },
    ]);
  });
});
