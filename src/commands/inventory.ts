import { UsageError } from '../errors.js';
import { requireSection, resolveEnvironmentName, resolveTarget } from '../config/resolve.js';
import { discoverInventory, ec2DiscoveryOf } from '../steps/inventory-source.js';
import type { CommandContext } from './context.js';
import { loadProject } from './support/project.js';

/**
 * `iac inventory [env] --list | --host NAME`: an Ansible dynamic inventory from EC2 tags. Its stdout
 * is the inventory JSON and nothing else, so `ansible-playbook -i <script calling it>` works.
 */
export default async function inventory(ctx: CommandContext): Promise<number> {
  const project = await loadProject(ctx);
  const envName = resolveEnvironmentName(project.loaded.config, ctx.options.env as string | undefined, project.currentBranch);
  const env = resolveTarget(project.loaded, envName, { env: ctx.env });
  const discovery = ec2DiscoveryOf(env);
  if (!discovery) {
    throw new UsageError('inventory.no-ec2', `environment ${envName} has no EC2 discovery (ansible.inventory.ec2 or aws.tags)`, {
      hint: `add to iac.yaml: environments.${envName}.ansible.inventory: { ec2: { region: ..., tags: { Environment: ${envName} } } }`,
    });
  }
  requireSection(env, env.ansible && !Array.isArray(env.ansible.inventory) ? 'ansible' : 'aws');
  const { list } = await discoverInventory(discovery, ctx.signal);
  const { hostFor } = await import('../aws/inventory.js');
  const host = ctx.options.host as string | undefined;
  const data = host !== undefined ? hostFor(list, host) : list;
  if (ctx.output.json) ctx.output.emit({ type: 'data', kind: host !== undefined ? 'inventory.host' : 'inventory.list', data });
  else ctx.output.raw(`${JSON.stringify(data, null, 2)}\n`);
  return 0;
}
