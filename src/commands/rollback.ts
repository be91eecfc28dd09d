import { resolveEnvironmentName, resolveTarget } from '../config/resolve.js';
import { PreflightError, UsageError } from '../errors.js';
import type { RunSummary } from '../journal/history.js';
import type { CommandContext } from './context.js';
import { buildDeployPlan } from './support/deploy-plan.js';
import { executePlan, preflightPlan } from './support/execute.js';
import { printPlan } from './support/print-plan.js';
import { loadProject, type Project } from './support/project.js';
import { runningRevisions } from './support/promotion.js';

/**
 * `iac rollback [env] [--to <sha|run>]`: redeploy the environment's previous successful commit
 * through the same steps — Jenkins with that SHA, Ansible, the rollout waiting for that revision —
 * without moving any branch. The journal records it, so `status` shows the environment pinned.
 */
export default async function rollback(ctx: CommandContext): Promise<number> {
  const project = await loadProject(ctx);
  const envName = resolveEnvironmentName(project.loaded.config, ctx.options.env as string | undefined, project.currentBranch);
  const target = resolveTarget(project.loaded, envName, { env: ctx.env });
  const { readHistory, successfulDeploys } = await import('../journal/history.js');
  const deploys = successfulDeploys(readHistory(project.loaded.dir), envName);
  const current = deploys[0];
  if (current === undefined) {
    throw new UsageError('rollback.no-history', `no successful deploy of ${envName} is recorded here: nothing to roll back to`, {
      hint: `iac history ${envName}`,
    });
  }
  const to = await rollbackTarget(project, envName, deploys, ctx.options.to as string | undefined);
  if (to.sha === current.sha) {
    throw new UsageError('rollback.same', `${envName} already runs ${to.sha.slice(0, 7)} (deployed by run ${current.run})`, { hint: `iac history ${envName}` });
  }

  const c = ctx.output.chalk;
  ctx.output.info(c.bold(`Roll back ${envName}: ${current.sha.slice(0, 7)} → ${to.sha.slice(0, 7)} (no branch moves)`));
  ctx.output.info(`  now: ${current.sha.slice(0, 7)}, deployed ${current.startedAt.slice(0, 16).replace('T', ' ')} by ${current.user} (${current.command}, run ${current.run})`);
  ctx.output.info(`  to:  ${to.sha.slice(0, 7)}${to.run ? `, deployed ${to.run.startedAt.slice(0, 16).replace('T', ' ')} by ${to.run.user} (${to.run.command}, run ${to.run.run})` : ''}`);
  const undone = await project.repo.commitsBetween(to.sha, current.sha).catch(() => []);
  if (undone.length > 0) ctx.output.info(`  ${undone.length} commit${undone.length === 1 ? '' : 's'} leave ${envName}:`);
  for (const commit of undone.slice(0, 10)) ctx.output.info(`    ${c.yellow(commit.shortSha)} ${commit.subject} ${c.dim(`— ${commit.author}`)}`);
  // What actually runs now, from the cluster: the journal says what iac deployed, not what someone changed by hand.
  for (const line of await runningRevisions(target, ctx.signal)) ctx.output.info(`  ${envName} runs now: ${line}`);

  const { plan } = await buildDeployPlan(ctx, project, envName, { command: 'rollback', sha: to.sha, gitStep: null });
  if (plan.steps.length === 0) {
    throw new UsageError('rollback.nothing', `nothing to run for ${envName}: ${plan.skipped.map((s) => `${s.id} ${s.reason}`).join('; ')}`, {
      hint: 'check --only/--skip',
    });
  }
  if (ctx.options.dryRun) {
    printPlan(ctx.output, plan);
    return 0;
  }
  await preflightPlan(ctx, plan);
  if (target.confirm && !ctx.options.yes) {
    if (!ctx.interactive || ctx.output.json) {
      throw new PreflightError('rollback.confirm', `rolling back ${envName} needs confirmation and this is not an interactive terminal: nothing was changed`, {
        hint: `iac rollback ${envName} --yes`,
      });
    }
    if (!(await ctx.confirm(`Roll back ${envName} to ${to.sha.slice(0, 7)}?`))) throw new PreflightError('rollback.declined', 'rollback declined: nothing was changed');
  }
  await executePlan(ctx, plan, project.loaded.dir, { preflightDone: true, from: current.sha });
  ctx.output.info(`${envName} is pinned to ${to.sha.slice(0, 7)} until the next \`iac up ${envName}\``);
  return 0;
}

/** `--to <sha|run>`, else the newest successful deploy of another commit than the current one. */
async function rollbackTarget(project: Project, envName: string, deploys: RunSummary[], to: string | undefined): Promise<{ sha: string; run?: RunSummary }> {
  if (to === undefined) {
    const current = deploys[0] as RunSummary;
    const previous = deploys.find((run) => run.sha !== current.sha);
    if (!previous) {
      throw new UsageError('rollback.no-previous', `${envName} has only ever been deployed with ${current.sha.slice(0, 7)} here: nothing earlier to roll back to`, {
        hint: `iac rollback ${envName} --to <commit>`,
      });
    }
    return { sha: previous.sha, run: previous };
  }
  const byRun = deploys.find((run) => run.run === to);
  if (byRun) return { sha: byRun.sha, run: byRun };
  const sha = /^[0-9a-f]{4,40}$/i.test(to) ? await project.repo.resolve(to) : undefined;
  if (!sha) {
    throw new UsageError('rollback.unknown-target', `--to ${to}: neither a commit of this repository nor a run of ${envName}`, { hint: `iac history ${envName}` });
  }
  const run = deploys.find((r) => r.sha === sha);
  return { sha, ...(run ? { run } : {}) };
}
