import { resolveEnvironmentName, resolveTarget } from '../config/resolve.js';
import { PreflightError } from '../errors.js';
import type { CommandContext } from './context.js';
import { loadProject } from './support/project.js';

/**
 * `iac unlock <env>`: breaks the deploy lease of an environment — for a run that died holding it
 * when waiting for it to expire is not an option. Shows the holder and asks (`--yes` to skip).
 */
export default async function unlock(ctx: CommandContext): Promise<number> {
  const project = await loadProject(ctx);
  const envName = resolveEnvironmentName(project.loaded.config, String(ctx.options.env), undefined);
  const target = resolveTarget(project.loaded, envName, { env: ctx.env });
  const [{ leaseStoreFor }, { describeHolder, isExpired }] = await Promise.all([import('../lock/environment-lease.js'), import('../lock/lease.js')]);
  const store = await leaseStoreFor(target);
  const lease = await store.read(ctx.signal);
  if (lease?.holder === undefined) {
    ctx.output.info(`${envName} is not locked (${store.where})`);
    return 0;
  }
  const { holder } = lease;
  ctx.output.info(`${envName} is held by ${describeHolder(holder)}${isExpired(holder) ? ' — expired: its holder stopped renewing it' : ''}`);
  if (!ctx.options.yes) {
    if (!ctx.interactive || ctx.output.json) {
      throw new PreflightError('unlock.confirm', `breaking the lease of ${envName} needs confirmation and this is not an interactive terminal: nothing was changed`, {
        hint: `iac unlock ${envName} --yes`,
      });
    }
    if (!(await ctx.confirm(`Break the lease of ${envName}? Only if that run is dead: otherwise two deploys overlap`))) {
      throw new PreflightError('unlock.declined', 'unlock declined: nothing was changed');
    }
  }
  if (!(await store.remove(lease.version, ctx.signal))) {
    throw new PreflightError('unlock.moved', `the lease of ${envName} changed meanwhile (its holder renewed it, or another run took it): nothing was changed`, {
      hint: `iac unlock ${envName}`,
    });
  }
  ctx.output.info(`unlocked ${envName} (${store.where})`);
  return 0;
}
