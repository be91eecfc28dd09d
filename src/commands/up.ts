import { resolveEnvironmentName, resolveTarget } from '../config/resolve.js';
import { UsageError } from '../errors.js';
import { printRunHeader } from '../pipeline/header.js';
import type { CommandContext } from './context.js';
import { startAnsibleCheck } from './support/early-checks.js';
import { leaseDurationMs, loadProject, type Project } from './support/project.js';
import { headToDeploy, parseTimeoutFlag } from './support/run-commit.js';

/** `iac up [env]`: push → Jenkins → Ansible → rollout of one commit (the branch head, read once) to one environment. */
export default async function up(ctx: CommandContext): Promise<number> {
  const project = await loadProject(ctx);
  const envName = resolveEnvironmentName(project.loaded.config, ctx.options.env as string | undefined, project.currentBranch);
  // The run's commit, read once; on a terminal the header names it at once — before the plan's modules load.
  parseTimeoutFlag(ctx.options.timeout);
  const bound = resolveTarget(project.loaded, envName, { env: ctx.env });
  const sha = await headToDeploy(project, bound);
  const dryRun = ctx.options.dryRun === true;
  if (!dryRun) printRunHeader(ctx.output, { command: 'up', environment: envName, branch: bound.branch, sha });
  // Asked now, answered while the plan is built: only a warning depends on it.
  const clean = project.repo.isClean();
  clean.catch(() => undefined);
  // The slowest check, which the push waits for, starts now: it runs while the rest of the plan is built.
  const syntax = dryRun ? undefined : startAnsibleCheck(ctx, bound, sha);
  try {
    return await deploy(ctx, project, envName, sha, { clean, syntaxChecked: syntax?.done });
  } finally {
    syntax?.cancel();
  }
}

/** The plan for the bound commit, then its run. `clean`: whether the working tree had no changes. */
async function deploy(ctx: CommandContext, project: Project, envName: string, sha: string, { clean, syntaxChecked }: { clean: Promise<boolean>; syntaxChecked: Promise<void> | undefined }): Promise<number> {
  const dryRun = ctx.options.dryRun === true;
  const { buildDeployPlan } = await import('./support/deploy-plan.js');
  // A re-run of a commit whose last run did not finish picks up where it stopped.
  const { plan, env, target, resume } = await buildDeployPlan(ctx, project, envName, { command: 'up', sha, resumable: true, ...(syntaxChecked ? { syntaxChecked } : {}) });
  if (resume) {
    const how = resume.outcome === 'unknown' ? `was killed${resume.pending ? ` during ${resume.pending.action}` : ''}` : `ended ${resume.outcome}`;
    ctx.output.info(`resuming: the last run of ${resume.sha.slice(0, 7)} to ${envName} (${resume.run}) ${how}; what is done is not done again${ctx.options.rebuild ? ' (--rebuild: a new Jenkins build)' : ''}`);
  }
  if (plan.steps.length === 0) {
    throw new UsageError('up.nothing', `nothing to run for ${envName}: ${plan.skipped.map((s) => `${s.id} ${s.reason}`).join('; ')}`, {
      hint: 'check --only/--skip, or add the missing section to iac.yaml',
    });
  }
  if (dryRun) {
    const { printPlan } = await import('./support/print-plan.js');
    printPlan(ctx.output, plan);
    return 0;
  }
  if (project.currentBranch === env.branch && !(await clean)) {
    ctx.output.warn(`you have uncommitted changes on ${env.branch}; iac deploys the committed ${env.sha.slice(0, 7)}, not your working tree`);
  }
  const { executePlan } = await import('./support/execute.js');
  await executePlan(ctx, plan, env.projectDir, { lease: { target, durationMs: leaseDurationMs(project) }, headerShown: true });
  return 0;
}
