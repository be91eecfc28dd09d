/**
 * Ansible inventory from discovered EC2 instances, equal to what the amazon.aws.aws_ec2 inventory plugin
 * builds by default (amazon.aws 5.5 plugins/inventory/aws_ec2.py; conformance-tested against the real
 * plugin in test/integration/aws/aws-ec2-conformance.test.ts):
 * - instances sorted by instance id (the plugin's `_query`), so `run_once` picks the same host;
 * - host name: the first non-empty of the `hostnames` preferences (default public DNS name, then private
 *   DNS name); an instance without one is left out; two instances with one name are one host (the later
 *   instance's variables win, as the plugin's repeated set_variable does);
 * - every host in group `aws_ec2`; no `ansible_host` and no other groups unless asked for
 *   (`compose`, `groups`, `keyed_groups`: applied by Ansible's own constructed plugin, see toConstructedConfig);
 * - hostvars: the instance in snake_case (boto3's camel_dict_to_snake_dict), `tags` as a dict, the
 *   reservation's ids and `placement.region`.
 * Everything that comes from EC2 reaches Ansible marked unsafe, so a `{{ }}` in a tag is never templated:
 * `!unsafe` in the static file, `{"__ansible_unsafe": …}` (AnsibleJSONDecoder) in `--list` output.
 */
import type { Instance } from '@aws-sdk/client-ec2';
import type { Ec2Instance } from './ec2.js';

/** A `hostnames:` entry: a describe-instances filter name, `tag:Key`, `tag:Key=Value`, or `{ name, prefix, separator }`. */
export type HostnamePreference = string | { name: string; prefix?: string; separator?: string };

export interface InventoryOptions {
  hostnames?: HostnamePreference[];
  /** Like the plugin's `allow_duplicated_hosts`: one host per matching name instead of the first. */
  allowDuplicatedHosts?: boolean;
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

// The plugin's filter-name → boto3 attribute chains (the commonly used subset of its two tables).
const FILTER_ATTRS: Record<string, string[]> = {
  'group-id': ['Groups', 'GroupId'],
  'group-name': ['Groups', 'GroupName'],
  'owner-id': ['OwnerId'],
  'requester-id': ['RequesterId'],
  'reservation-id': ['ReservationId'],
  architecture: ['Architecture'],
  'availability-zone': ['Placement', 'AvailabilityZone'],
  'dns-name': ['PublicDnsName'],
  'image-id': ['ImageId'],
  'instance-id': ['InstanceId'],
  'instance-state-code': ['State', 'Code'],
  'instance-state-name': ['State', 'Name'],
  'instance-type': ['InstanceType'],
  'ip-address': ['PublicIpAddress'],
  'key-name': ['KeyName'],
  'launch-time': ['LaunchTime'],
  'network-interface.addresses.private-ip-address': ['NetworkInterfaces', 'PrivateIpAddress'],
  'network-interface.private-dns-name': ['NetworkInterfaces', 'PrivateDnsName'],
  'network-interface.ipv6-addresses.ipv6-address': ['NetworkInterfaces', 'Ipv6Addresses', 'Ipv6Address'],
  'network-interface.mac-address': ['NetworkInterfaces', 'MacAddress'],
  'network-interface.network-interface-id': ['NetworkInterfaces', 'NetworkInterfaceId'],
  'network-interface.subnet-id': ['NetworkInterfaces', 'SubnetId'],
  'network-interface.vpc-id': ['NetworkInterfaces', 'VpcId'],
  'placement-group-name': ['Placement', 'GroupName'],
  platform: ['Platform'],
  'private-dns-name': ['PrivateDnsName'],
  'private-ip-address': ['PrivateIpAddress'],
  'subnet-id': ['SubnetId'],
  tenancy: ['Placement', 'Tenancy'],
  'vpc-id': ['VpcId'],
};

/** The plugin's `_compile_values`: walk one attribute through dicts and lists; a one-element list is its element. */
function compileValues(obj: unknown, attr: string): unknown {
  if (obj === undefined || obj === null) return undefined;
  let found: unknown;
  if (Array.isArray(obj)) {
    found = obj.map((each) => compileValues(each, attr)).filter((v) => isTruthy(v));
  } else if (typeof obj === 'object') {
    found = (obj as Record<string, unknown>)[attr];
  }
  return Array.isArray(found) && found.length === 1 ? found[0] : found;
}

function isTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (typeof value === 'object' && value !== null) return Object.keys(value).length > 0;
  return Boolean(value);
}

/** Python's str() of a value the way `to_text` prints it. */
function pythonText(value: unknown): string {
  if (value instanceof Date) return value.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, '+00:00');
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  return String(value);
}

/** The instance as the plugin sees it: boto3's dict with the reservation's ids merged in. */
function botoInstance(instance: Ec2Instance): Instance & { OwnerId?: string; RequesterId: string; ReservationId?: string } {
  return {
    ...instance.raw,
    ...(instance.ownerId !== undefined ? { OwnerId: instance.ownerId } : {}),
    RequesterId: instance.requesterId ?? '',
    ...(instance.reservationId !== undefined ? { ReservationId: instance.reservationId } : {}),
  };
}

/** `tag:Name`, `tag:Name,Role`, `tag:Name=web` (→ `Name_web`): the values found, in order. */
function tagHostnames(preference: string, instance: Ec2Instance): string[] {
  const values: string[] = [];
  for (const spec of preference.slice('tag:'.length).split(',')) {
    const eq = spec.indexOf('=');
    if (eq >= 0) {
      const [key, value] = [spec.slice(0, eq), spec.slice(eq + 1)];
      if (instance.tags[key] === value) values.push(`${key}_${value}`);
    } else if (instance.tags[spec]) {
      values.push(instance.tags[spec] as string);
    }
  }
  return values;
}

/** The plugin's `_get_boto_attr_chain`: a known filter name's value; an unknown name is used literally. */
function attrChain(filter: string, instance: Ec2Instance): unknown {
  const chain = FILTER_ATTRS[filter];
  if (!chain) return filter;
  let value: unknown = botoInstance(instance);
  for (const attr of chain) value = compileValues(value, attr);
  return value;
}

/** Names containing ':' (IPv6, `a:b`) are sanitized like group names, as the plugin does. */
function sanitizeHostname(name: string): string {
  return name.includes(':') ? sanitizeGroupName(name) : name;
}

/**
 * A host name Ansible would template (`inventory_hostname` is not marked unsafe) is refused: the
 * preference is treated as empty. The plugin itself has no such guard.
 */
function usable(name: string | undefined): string | undefined {
  return name && !/\{\{|\{%|\{#/.test(name) ? name : undefined;
}

function preferredHostname(instance: Ec2Instance, preferences: HostnamePreference[]): string | undefined {
  for (const preference of preferences) {
    let hostname: string | undefined;
    if (typeof preference === 'object') {
      const name = preferredHostname(instance, [preference.name]);
      const prefix = preference.prefix !== undefined ? preferredHostname(instance, [preference.prefix]) : undefined;
      hostname = name && prefix ? `${prefix}${preference.separator ?? '_'}${name}` : name;
    } else if (preference.startsWith('tag:')) {
      hostname = tagHostnames(preference, instance)[0];
    } else {
      const value = attrChain(preference, instance);
      const scalar = value instanceof Date || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
      hostname = scalar && isTruthy(value) ? pythonText(value) : undefined;
    }
    hostname = usable(hostname === undefined ? undefined : sanitizeHostname(hostname));
    if (hostname) return hostname;
  }
  return undefined;
}

function allHostnames(instance: Ec2Instance, preferences: HostnamePreference[]): string[] {
  const names: string[] = [];
  for (const preference of preferences) {
    if (typeof preference === 'object') {
      const name = allHostnames(instance, [preference.name]);
      const prefix = preference.prefix !== undefined ? allHostnames(instance, [preference.prefix]) : [];
      if (name[0] && prefix[0]) names.push(`${prefix[0]}${preference.separator ?? '_'}${name[0]}`);
      else names.push(...name);
    } else if (preference.startsWith('tag:')) {
      names.push(...tagHostnames(preference, instance));
    } else {
      const value = attrChain(preference, instance);
      if (typeof value === 'string' && value !== '') names.push(value);
    }
  }
  return names.map(sanitizeHostname).map(usable).filter((n): n is string => n !== undefined);
}

export const DEFAULT_HOSTNAMES: HostnamePreference[] = ['dns-name', 'private-dns-name'];

export function hostnameOf(instance: Ec2Instance, preferences: HostnamePreference[] = DEFAULT_HOSTNAMES): string | undefined {
  return preferredHostname(instance, preferences);
}

export function hostVarsOf(instance: Ec2Instance): HostVars {
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
  return vars;
}

export function toAnsibleInventory(instances: Ec2Instance[], opts: InventoryOptions = {}): InventoryList {
  const preferences = opts.hostnames && opts.hostnames.length > 0 ? opts.hostnames : DEFAULT_HOSTNAMES;
  const sorted = [...instances].sort((a, b) => (a.instanceId < b.instanceId ? -1 : a.instanceId > b.instanceId ? 1 : 0));
  const hostvars: Record<string, HostVars> = {};
  const hosts: string[] = [];
  for (const instance of sorted) {
    const names = opts.allowDuplicatedHosts ? allHostnames(instance, preferences) : [preferredHostname(instance, preferences)];
    if (names.length === 0 || names[0] === undefined) continue;
    const vars = hostVarsOf(instance);
    for (const name of names as string[]) {
      if (hostvars[name] === undefined) {
        hosts.push(name);
        hostvars[name] = { ...vars };
      } else {
        Object.assign(hostvars[name] as HostVars, vars);
      }
    }
  }
  return { _meta: { hostvars }, all: { children: ['ungrouped', 'aws_ec2'] }, aws_ec2: { hosts } };
}

/** `--host NAME`: that host's vars, `{}` for an unknown host (Ansible never asks when `_meta` is present). */
export function hostFor(list: InventoryList, name: string): HostVars {
  return list._meta.hostvars[name] ?? {};
}

/** Every string inside `value` as `{"__ansible_unsafe": …}`, which Ansible's JSON decoder turns into an unsafe value. */
export function markUnsafe(value: unknown): unknown {
  if (typeof value === 'string') return { __ansible_unsafe: value };
  if (Array.isArray(value)) return value.map(markUnsafe);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, markUnsafe(item)]));
  }
  return value;
}

/** The `--list` document for Ansible's script plugin: hostvars marked unsafe. */
export function unsafeList(list: InventoryList): InventoryList {
  return { ...list, _meta: { hostvars: markUnsafe(list._meta.hostvars) as Record<string, HostVars> } };
}

/** A YAML double-quoted scalar in pure ASCII (PyYAML rejects some raw code points; escapes are safe). */
function yamlString(text: string): string {
  let out = '"';
  for (const char of text) {
    const code = char.codePointAt(0) as number;
    if (char === '"' || char === '\\') out += `\\${char}`;
    else if (code >= 0x20 && code < 0x7f) out += char;
    else if (code <= 0xffff) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += `\\U${code.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}

/** Flow-style YAML with every string value tagged `!unsafe` (keys are names, never templated). */
function unsafeYaml(value: unknown): string {
  if (typeof value === 'string') return `!unsafe ${yamlString(value)}`;
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(unsafeYaml).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  return `{${entries.map(([k, v]) => `${yamlString(k)}: ${unsafeYaml(v)}`).join(', ')}}`;
}

/**
 * The same inventory as a static YAML inventory file for `-i` (a `--list` document saved as a file is
 * rejected by the yaml plugin, protocol §A.1.3). Hosts are listed in the plugin's order.
 */
export function toStaticYaml(list: InventoryList): string {
  const hosts = (list.aws_ec2 as { hosts: string[] } | undefined)?.hosts ?? [];
  const lines = ['# EC2 inventory written by iac; every value from EC2 is !unsafe (never templated).', 'all:', '  children:', '    aws_ec2:'];
  if (hosts.length === 0) {
    lines.push('      hosts: {}');
  } else {
    lines.push('      hosts:');
    for (const host of hosts) lines.push(`        ${yamlString(host)}: ${unsafeYaml(list._meta.hostvars[host] ?? {})}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `compose`, `groups`, `keyed_groups`, `strict`: the constructed options aws_ec2 shares with ansible.builtin.constructed. */
export interface ConstructedOptions {
  compose?: Record<string, string>;
  groups?: Record<string, string>;
  keyed_groups?: Array<Record<string, unknown>>;
  strict?: boolean;
}

export function hasConstructed(options: ConstructedOptions): boolean {
  return (
    Object.keys(options.compose ?? {}).length > 0 || Object.keys(options.groups ?? {}).length > 0 || (options.keyed_groups ?? []).length > 0
  );
}

/**
 * A config for Ansible's own `constructed` inventory plugin, given after the static file: the same code
 * (Constructable) aws_ec2 uses for these options, so their Jinja means exactly what it means there.
 */
export function toConstructedConfig(options: ConstructedOptions): string {
  const config: Record<string, unknown> = { plugin: 'ansible.builtin.constructed', strict: options.strict ?? false };
  if (options.compose) config.compose = options.compose;
  if (options.groups) config.groups = options.groups;
  if (options.keyed_groups) config.keyed_groups = options.keyed_groups;
  // JSON is YAML; the auto plugin reads `plugin:` from a *.yml file.
  return `${JSON.stringify(config, null, 2)}\n`;
}

