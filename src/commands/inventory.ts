import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InterruptedError, UsageError } from '../errors.js';
import { runProcess, SpawnError } from '../util/run-process.js';
import { requireSection, resolveEnvironmentName, resolveTarget } from '../config/resolve.js';
import type { Ec2Discovery } from '../config/schema.js';
import { discoverInventory, ec2DiscoveryOf, writeInventory } from '../steps/inventory-source.js';
import type { CommandContext } from './context.js';
import { loadProject } from './support/project.js';

/**
 * `iac inventory [env] --list | --host NAME`: an Ansible dynamic inventory from EC2 tags, equal to the
 * amazon.aws.aws_ec2 plugin's. Its stdout is the inventory JSON and nothing else, so a script calling it
 * works as `ansible-playbook -i <script>`; every value from EC2 is marked unsafe (`{"__ansible_unsafe": …}`,
 * which Ansible's JSON decoder honours), so no `{{ }}` in a tag is ever templated. With compose, groups or
 * keyed_groups configured, the result is what `ansible-inventory --list` makes of the same files `iac up`
 * writes (Ansible's constructed plugin evaluates their Jinja).
 */
export default async function inventory(ctx: CommandContext): Promise<number> {
  const host = ctx.options.host as string | undefined;
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
  const { hasConstructed, hostFor, markUnsafe, unsafeList } = await import('../aws/inventory.js');
  let text: string;
  if (hasConstructed(discovery)) {
    text = await throughAnsibleInventory(discovery, host, ctx);
  } else {
    const { list } = await discoverInventory(discovery, ctx.signal);
    text = `${JSON.stringify(host !== undefined ? markUnsafe(hostFor(list, host)) : unsafeList(list), null, 2)}\n`;
  }
  if (ctx.output.json) ctx.output.emit({ type: 'data', kind: host !== undefined ? 'inventory.host' : 'inventory.list', data: JSON.parse(text) as unknown });
  else ctx.output.raw(text);
  return 0;
}

/** `ansible-inventory -i <hosts> -i <constructed> --list` in a private directory removed afterwards. */
async function throughAnsibleInventory(discovery: Ec2Discovery, host: string | undefined, ctx: CommandContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'iac-inventory-'));
  try {
    const written = await writeInventory(discovery, dir, ctx.signal);
    const { childEnvironment } = await import('../ansible/child-env.js');
    const args = [...written.paths.flatMap((p) => ['-i', p]), ...(host !== undefined ? ['--host', host] : ['--list'])];
    const env = { ...childEnvironment(ctx.env), ANSIBLE_INVENTORY_UNPARSED_FAILED: '1', ANSIBLE_NOCOLOR: '1' };
    const result = await runProcess('ansible-inventory', args, { cwd: dir, env, signal: ctx.signal, timeoutMs: 120_000 }).catch((error: unknown) => {
      throw error instanceof SpawnError
        ? new UsageError('inventory.ansible-missing', 'compose, groups and keyed_groups need ansible-inventory, which is not on PATH', {
            hint: 'sudo apt-get install ansible-core   (or: pipx install ansible-core)',
          })
        : error;
    });
    if (result.aborted) throw new InterruptedError('ansible-inventory interrupted');
    if (result.exitCode !== 0 || result.timedOut) {
      const reason = result.timedOut ? 'no answer within 120s' : (result.stderr.split('\n').find((l) => /ERROR|error/.test(l))?.trim() ?? `exit ${String(result.exitCode)}`);
      throw new UsageError('inventory.constructed', `ansible-inventory could not build the inventory: ${reason}`, { hint: `ansible-inventory ${args.join(' ')}` });
    }
    return result.stdout;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
