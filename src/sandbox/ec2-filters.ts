/**
 * DescribeInstances filtering as documented in the EC2 model: values of one filter are ORed, filters are
 * ANDed, names and values are case-sensitive, and values accept `*` and `?` wildcards.
 */
import { STATE_CODES, privateDnsOf, publicDnsOf, stateOf, type ScenarioInstance } from './ec2-xml.js';

export interface Ec2Filter {
  name: string;
  values: string[];
}

/** Reads `Filter.N.Name` / `Filter.N.Value.M` from the form parameters, in N order. */
export function parseFilters(params: URLSearchParams): Ec2Filter[] {
  const byIndex = new Map<number, Ec2Filter>();
  for (const [key, value] of params) {
    const match = /^Filter\.(\d+)\.(Name|Value\.(\d+))$/.exec(key);
    if (!match) continue;
    const index = Number(match[1]);
    const filter = byIndex.get(index) ?? { name: '', values: [] };
    if (match[2] === 'Name') filter.name = value;
    else filter.values[Number(match[3]) - 1] = value;
    byIndex.set(index, filter);
  }
  return [...byIndex.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, f]) => ({ name: f.name, values: f.values.filter((v) => v !== undefined) }));
}

/** `InstanceId.N` parameters. */
export function parseInstanceIds(params: URLSearchParams): string[] {
  return [...params.entries()].filter(([key]) => /^InstanceId\.\d+$/.test(key)).map(([, value]) => value);
}

function wildcard(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 's');
}

/** What a filter name looks at on one instance; undefined for a name this simulator does not know. */
function fieldValues(instance: ScenarioInstance, name: string): string[] | undefined {
  if (name.startsWith('tag:')) {
    const value = instance.tags?.[name.slice(4)];
    return value === undefined ? [] : [value];
  }
  switch (name) {
    case 'tag-key':
      return Object.keys(instance.tags ?? {});
    case 'tag-value':
      return Object.values(instance.tags ?? {});
    case 'instance-id':
      return [instance.id];
    case 'instance-state-name':
      return [stateOf(instance)];
    case 'instance-state-code':
      return [String(STATE_CODES[stateOf(instance)] ?? '')];
    case 'private-ip-address':
      return instance.privateIp ? [instance.privateIp] : [];
    case 'ip-address':
      return instance.publicIp ? [instance.publicIp] : [];
    case 'dns-name':
      return [publicDnsOf(instance)].filter((v) => v !== '');
    case 'private-dns-name':
      return [privateDnsOf(instance)].filter((v) => v !== '');
    case 'availability-zone':
      return [instance.availabilityZone ?? 'us-east-1a'];
    case 'instance-type':
      return [instance.instanceType ?? 't3.micro'];
    case 'vpc-id':
      return [instance.vpcId ?? 'vpc-1de55365'];
    default:
      return undefined;
  }
}

/** Names of filters this simulator cannot evaluate (answered with InvalidParameterValue, like EC2). */
export function unknownFilters(filters: Ec2Filter[]): string[] {
  const probe: ScenarioInstance = { id: 'i-probe' };
  return filters.filter((f) => fieldValues(probe, f.name) === undefined).map((f) => f.name);
}

export function matchesFilters(instance: ScenarioInstance, filters: Ec2Filter[]): boolean {
  return filters.every((filter) => {
    const values = fieldValues(instance, filter.name) ?? [];
    const patterns = filter.values.map(wildcard);
    return values.some((value) => patterns.some((p) => p.test(value)));
  });
}
