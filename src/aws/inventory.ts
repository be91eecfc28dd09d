/**
 * Ansible dynamic inventory from discovered EC2 instances, named the way the amazon.aws.aws_ec2 plugin
 * names things (protocol §B.3, checked against test/fixtures/ansible/aws_ec2-keyed-list.json):
 * - host name: first non-empty of the `hostnames` preferences (default public DNS, then private DNS);
 * - every host in group `aws_ec2`, plus `tag_<Key>_<Value>` groups (keyed_groups `{prefix: tag, key: tags}`),
 *   invalid characters replaced by `_`;
 * - hostvars: the instance in snake_case (boto3's camel_dict_to_snake_dict), `tags` as a dict, the
 *   reservation's ids, `placement.region`, and `ansible_host`.
 */
import type { Ec2Instance } from './ec2.js';

export type HostnamePreference =
  | 'dns-name'
  | 'private-dns-name'
  | 'ip-address'
  | 'private-ip-address'
  | 'instance-id'
  | `tag:${string}`;

/** What `ansible_host` is set to (iac.yaml `ec2.hostnameVar`). */
export type AddressVar = 'private-ip-address' | 'public-ip-address' | 'private-dns-name' | 'public-dns-name' | 'instance-id';

export interface InventoryOptions {
  /** Naming preferences, like the plugin's `hostnames:`; the instance id is the last resort. */
  hostnames?: HostnamePreference[];
  /** How Ansible connects (`ansible_host`); default the private IP, else the public one. */
  hostnameVar?: AddressVar;
}

export type HostVars = Record<string, unknown>;

/** The `--list` contract: `_meta.hostvars`, `all.children`, then one entry per group. */
export interface InventoryList {
  _meta: { hostvars: Record<string, HostVars> };
  all: { children: string[] };
  [group: string]: { hosts: string[] } | { children: string[] } | { hostvars: Record<string, HostVars> };
}

/** Ansible's to_safe_group_name: `^[\d\W]|[^\w]` → `_`. */
export function sanitizeGroupName(name: string): string {
  return name.replace(/^\p{Nd}|[^\p{L}\p{N}_]/gu, '_');
}

/** boto's `_camel_to_snake` (non-reversible): `PublicDnsName` → `public_dns_name`, `TargetGroupARNs` → `target_group_arns`. */
export function camelToSnake(name: string): string {
  let s1 = name.replace(/[A-Z]{3,}s$/, (m) => `_${m.toLowerCase()}`);
  if (s1.startsWith('_') && !name.startsWith('_')) s1 = s1.slice(1);
  const s2 = s1.replace(/(.)([A-Z][a-z]+)/g, '$1_$2');
  return s2.replace(/([a-z0-9])([A-Z]+)/g, '$1_$2').toLowerCase();
}

/** boto3 prints datetimes as `2019-07-01T21:15:47+00:00`. */
function botoDate(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, '+00:00').replace(/Z$/, '+00:00');
}

function snakeValue(value: unknown): unknown {
  if (value instanceof Date) return botoDate(value);
  if (Array.isArray(value)) return value.map(snakeValue);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (item === undefined) continue;
      out[camelToSnake(key)] = snakeValue(item);
    }
    return out;
  }
  return value;
}

function preferredValue(instance: Ec2Instance, preference: HostnamePreference): string | undefined {
  if (preference.startsWith('tag:')) {
    const spec = preference.slice(4);
    const eq = spec.indexOf('=');
    if (eq < 0) return instance.tags[spec] || undefined;
    // `tag:Name=web` names the host `Name_web` when the tag has that value.
    const [key, value] = [spec.slice(0, eq), spec.slice(eq + 1)];
    return instance.tags[key] === value ? `${key}_${value}` : undefined;
  }
  switch (preference) {
    case 'dns-name':
      return instance.publicDnsName || undefined;
    case 'private-dns-name':
      return instance.privateDnsName || undefined;
    case 'ip-address':
      return instance.publicIp;
    case 'private-ip-address':
      return instance.privateIp;
    case 'instance-id':
      return instance.instanceId || undefined;
    default:
      return undefined;
  }
}

export function hostnameOf(instance: Ec2Instance, preferences: HostnamePreference[] = ['dns-name', 'private-dns-name']): string {
  for (const preference of preferences) {
    const value = preferredValue(instance, preference);
    // The plugin sanitizes names containing ':' (e.g. IPv6) like group names.
    if (value) return value.includes(':') ? sanitizeGroupName(value) : value;
  }
  return instance.instanceId;
}

function addressOf(instance: Ec2Instance, addressVar: AddressVar | undefined): string | undefined {
  switch (addressVar) {
    case 'public-ip-address':
      return instance.publicIp;
    case 'private-dns-name':
      return instance.privateDnsName;
    case 'public-dns-name':
      return instance.publicDnsName;
    case 'instance-id':
      return instance.instanceId;
    default:
      return instance.privateIp ?? instance.publicIp;
  }
}

export function hostVarsOf(instance: Ec2Instance, addressVar?: AddressVar): HostVars {
  const { Tags: _tags, ...rest } = instance.raw;
  const vars = snakeValue(rest) as HostVars;
  vars.tags = { ...instance.tags };
  vars.owner_id = instance.ownerId ?? '';
  vars.requester_id = instance.requesterId ?? '';
  vars.reservation_id = instance.reservationId ?? '';
  const placement = vars.placement;
  if (typeof placement === 'object' && placement !== null && typeof (placement as HostVars).availability_zone === 'string') {
    (placement as HostVars).region = ((placement as HostVars).availability_zone as string).slice(0, -1);
  }
  const address = addressOf(instance, addressVar);
  if (address) vars.ansible_host = address;
  return vars;
}

export function toAnsibleInventory(instances: Ec2Instance[], opts: InventoryOptions = {}): InventoryList {
  const hostvars: Record<string, HostVars> = {};
  const groups = new Map<string, string[]>([['aws_ec2', []]]);
  const join = (group: string, host: string): void => {
    const members = groups.get(group) ?? [];
    if (!members.includes(host)) members.push(host);
    groups.set(group, members);
  };
  for (const instance of instances) {
    let name = hostnameOf(instance, opts.hostnames);
    // Two instances with one name would silently merge into one host: keep them apart.
    if (hostvars[name] !== undefined) name = instance.instanceId;
    hostvars[name] = hostVarsOf(instance, opts.hostnameVar);
    join('aws_ec2', name);
    for (const [key, value] of Object.entries(instance.tags)) join(sanitizeGroupName(`tag_${key}_${value}`), name);
  }
  const list: InventoryList = { _meta: { hostvars }, all: { children: ['ungrouped', ...groups.keys()] } };
  for (const [group, hosts] of groups) list[group] = { hosts };
  return list;
}

/** `--host NAME`: that host's vars, `{}` for an unknown host (Ansible never asks when `_meta` is present). */
export function hostFor(list: InventoryList, name: string): HostVars {
  return list._meta.hostvars[name] ?? {};
}

/**
 * The same inventory in the static YAML/JSON inventory format, for a file given to `-i`: a `--list`
 * document saved as a file is rejected by the yaml plugin (protocol §A.1.3).
 */
export function toYamlInventory(list: InventoryList): { all: { hosts: Record<string, HostVars>; children: Record<string, { hosts: Record<string, null> }> } } {
  const children: Record<string, { hosts: Record<string, null> }> = {};
  for (const group of list.all.children) {
    const entry = list[group];
    if (!entry || !('hosts' in entry)) continue;
    children[group] = { hosts: Object.fromEntries(entry.hosts.map((h) => [h, null])) };
  }
  return { all: { hosts: { ...list._meta.hostvars }, children } };
}
