import { resolveEnvironmentName } from '../config/resolve.js';
import { UsageError } from '../errors.js';
import type { CommandContext } from './context.js';
import { buildDeployPlan } from './support/deploy-plan.js';
import { executePlan } from './support/execute.js';
import { printPlan } from './support/print-plan.js';
import { leaseDurationMs, loadProject } from './support/project.js';

/** `iac up [env]`: push → Jenkins → Ansible → rollout of one commit (the branch head, read once) to one environment. */
export default async function up(ctx: CommandContext): Promise<number> {
  const project = await loadProject(ctx);
  const envName = resolveEnvironmentName(project.loaded.config, ctx.options.env as string | undefined, project.currentBranch);
  // Asked now, answered while the plan is built: only a warning depends on it.
  const clean = project.repo.isClean();
  clean.catch(() => undefined);
  // A re-run of a commit whose last run did not finish picks up where it stopped.
  const { plan, env, target, resume } = await buildDeployPlan(ctx, project, envName, { command: 'up', resumable: true });
  if (resume) {
    const how = resume.outcome === 'unknown' ? `was killed${resume.pending ? ` during ${resume.pending.action}` : ''}` : `ended ${resume.outcome}`;
    ctx.output.info(`resuming: the last run of ${resume.sha.slice(0, 7)} to ${envName} (${resume.run}) ${how}; what is done is not done again${ctx.options.rebuild ? ' (--rebuild: a new Jenkins build)' : ''}`);
  }
  if (plan.steps.length === 0) {
    throw new UsageError('up.nothing', `nothing to run for ${envName}: ${plan.skipped.map((s) => `${s.id} ${s.reason}`).join('; ')}`, {
      hint: 'check --only/--skip, or add the missing section to iac.yaml',
    });
  }
  if (ctx.options.dryRun) {
    printPlan(ctx.output, plan);
    return 0;
  }
  if (project.currentBranch === env.branch && !(await clean)) {
    ctx.output.warn(`you have uncommitted changes on ${env.branch}; iac deploys the committed ${env.sha.slice(0, 7)}, not your working tree`);
  }
  await executePlan(ctx, plan, env.projectDir, { lease: { target, durationMs: leaseDurationMs(project) } });
  return 0;
}
