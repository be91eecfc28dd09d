import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Ec2Instance } from '../aws/ec2.js';
import type { InventoryList } from '../aws/inventory.js';
import type { EnvironmentTarget } from '../config/resolve.js';
import type { Ec2Discovery } from '../config/schema.js';
import type { StepContext } from '../pipeline/types.js';

export type InventorySetting = string[] | { ec2: Ec2Discovery };

/** How the inventory reads in a plan: the paths, or what EC2 discovery will select. */
export function describeInventory(inventory: InventorySetting): string[] {
  if (Array.isArray(inventory)) return inventory;
  const tags = Object.entries(inventory.ec2.tags).map(([k, v]) => `${k}=${v}`).join(',');
  return [`<EC2 ${inventory.ec2.region ?? 'default region'} tags ${tags}>`];
}

/** Which EC2 instances an environment means: its EC2 inventory, else its `aws` section. */
export function ec2DiscoveryOf(env: Pick<EnvironmentTarget, 'ansible' | 'aws'>): Ec2Discovery | undefined {
  const inventory = env.ansible?.inventory;
  if (inventory !== undefined && !Array.isArray(inventory)) return inventory.ec2;
  return env.aws;
}

/** The EC2 instances an environment selects by tags (AWS SDK loaded only here). */
export async function findTaggedInstances(discovery: Ec2Discovery, signal: AbortSignal): Promise<Ec2Instance[]> {
  const { findInstances } = await import('../aws/ec2.js');
  return findInstances({
    tags: discovery.tags,
    ...(discovery.region !== undefined ? { region: discovery.region } : {}),
    ...(discovery.profile !== undefined ? { profile: discovery.profile } : {}),
    ...(discovery.endpoint !== undefined ? { endpoint: discovery.endpoint } : {}),
    ...(discovery.states !== undefined ? { states: discovery.states } : {}),
    signal,
  });
}

/** Those instances as an Ansible `--list` inventory. */
export async function discoverInventory(discovery: Ec2Discovery, signal: AbortSignal): Promise<{ list: InventoryList; count: number }> {
  const instances = await findTaggedInstances(discovery, signal);
  const { toAnsibleInventory } = await import('../aws/inventory.js');
  const list = toAnsibleInventory(instances, discovery.hostnameVar !== undefined ? { hostnameVar: discovery.hostnameVar } : {});
  return { list, count: instances.length };
}

/**
 * The `-i` values for ansible-playbook. EC2 discovery is resolved now, once, and written as a static
 * inventory in the run directory, so the playbook runs against exactly the hosts the log names.
 */
export async function prepareInventory(inventory: InventorySetting, ctx: StepContext): Promise<string[]> {
  if (Array.isArray(inventory)) return inventory;
  const { toYamlInventory } = await import('../aws/inventory.js');
  ctx.progress(`discovering EC2 instances (${describeInventory(inventory)[0]})`);
  const { list, count } = await discoverInventory(inventory.ec2, ctx.signal);
  ctx.progress(`found ${count} EC2 instance${count === 1 ? '' : 's'}`);
  const file = join(ctx.runDir, 'inventory.json');
  await writeFile(file, `${JSON.stringify(toYamlInventory(list), null, 2)}\n`, { mode: 0o600 });
  return [file];
}
