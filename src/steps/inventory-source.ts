import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ec2Instance } from '../aws/ec2.js';
import type { InventoryList } from '../aws/inventory.js';
import type { EnvironmentTarget } from '../config/resolve.js';
import type { Ec2Discovery } from '../config/schema.js';

export type InventorySetting = string[] | { ec2: Ec2Discovery };

/** How the inventory reads in a plan: the paths, or what EC2 discovery will select. */
export function describeInventory(inventory: InventorySetting): string[] {
  if (Array.isArray(inventory)) return inventory;
  const tags = Object.entries(inventory.ec2.tags).map(([k, v]) => `${k}=${v}`).join(',');
  const states = (inventory.ec2.states ?? INVENTORY_STATE_DEFAULT).join(',');
  return [`<EC2 ${inventory.ec2.region ?? 'default region'} tags ${tags} states ${states}>`];
}

/** Which EC2 instances an environment means: its EC2 inventory, else its `aws` section. */
export function ec2DiscoveryOf(env: Pick<EnvironmentTarget, 'ansible' | 'aws'>): Ec2Discovery | undefined {
  const inventory = env.ansible?.inventory;
  if (inventory !== undefined && !Array.isArray(inventory)) return inventory.ec2;
  return env.aws;
}

/** An inventory lists running instances unless `states` says otherwise (the hosts Ansible can reach). */
const INVENTORY_STATE_DEFAULT = ['running'];

/**
 * The EC2 instances an environment selects by tags (AWS SDK loaded only here). `states` defaults to
 * every live state (status and doctor show stopped instances too); inventories pass their own.
 */
export async function findTaggedInstances(discovery: Ec2Discovery, signal: AbortSignal, states?: string[]): Promise<Ec2Instance[]> {
  const { findInstances } = await import('../aws/ec2.js');
  const wanted = states ?? discovery.states;
  return findInstances({
    tags: discovery.tags,
    ...(discovery.region !== undefined ? { region: discovery.region } : {}),
    ...(discovery.profile !== undefined ? { profile: discovery.profile } : {}),
    ...(discovery.endpoint !== undefined ? { endpoint: discovery.endpoint } : {}),
    ...(wanted !== undefined ? { states: wanted } : {}),
    signal,
  });
}

/** Those instances as the amazon.aws.aws_ec2 plugin would list them (before compose/groups/keyed_groups). */
export async function discoverInventory(discovery: Ec2Discovery, signal: AbortSignal): Promise<{ list: InventoryList; count: number }> {
  const instances = await findTaggedInstances(discovery, signal, discovery.states ?? INVENTORY_STATE_DEFAULT);
  const { toAnsibleInventory } = await import('../aws/inventory.js');
  const list = toAnsibleInventory(instances, {
    ...(discovery.hostnames !== undefined ? { hostnames: discovery.hostnames } : {}),
    ...(discovery.allow_duplicated_hosts !== undefined ? { allowDuplicatedHosts: discovery.allow_duplicated_hosts } : {}),
  });
  return { list, count: instances.length };
}

export interface WrittenInventory {
  /** The `-i` arguments, in order: the static hosts file, then the constructed layer if any. */
  paths: string[];
  /** Instances DescribeInstances returned, and hosts the inventory has (instances without a name are left out). */
  instances: number;
  hosts: number;
}

/**
 * Writes the discovered inventory into `dir` as files for `-i`: `ec2-inventory.yml` (every EC2 value
 * `!unsafe`), plus `ec2-constructed.yml` applying compose/groups/keyed_groups with Ansible's own
 * constructed plugin. The playbook then runs against exactly the hosts the run log names.
 */
export async function writeInventory(discovery: Ec2Discovery, dir: string, signal: AbortSignal): Promise<WrittenInventory> {
  const { list, count } = await discoverInventory(discovery, signal);
  const { hasConstructed, toConstructedConfig, toStaticYaml } = await import('../aws/inventory.js');
  const hostsFile = join(dir, 'ec2-inventory.yml');
  await writeFile(hostsFile, toStaticYaml(list), { mode: 0o600 });
  const paths = [hostsFile];
  if (hasConstructed(discovery)) {
    const constructed = join(dir, 'ec2-constructed.yml');
    await writeFile(constructed, toConstructedConfig(discovery), { mode: 0o600 });
    paths.push(constructed);
  }
  return { paths, instances: count, hosts: Object.keys(list._meta.hostvars).length };
}
