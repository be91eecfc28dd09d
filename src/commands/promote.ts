import { resolveEnvironment, resolveEnvironmentName } from '../config/resolve.js';
import { GitStepError, isIacError, PreflightError, UsageError, exitCodeOf } from '../errors.js';
import { promoteMerge, promotePreview, type PromotePreview } from '../git/promote.js';
import { assertCleanTree } from '../git/promote-checks.js';
import { describeGitEvent } from '../steps/git-push.js';
import type { CommandContext } from './context.js';
import { buildDeployPlan } from './support/deploy-plan.js';
import { executePlan, preflightPlan } from './support/execute.js';
import { printPlan } from './support/print-plan.js';
import { loadProject, type Project } from './support/project.js';
import { checkGate, recordPromotion, runningRevisions, type GateResult, type PromotionRecord } from './support/promotion.js';
import { createRunDir } from './support/run-dir.js';

/**
 * `iac promote <from> <to>`: preview → gate → confirm → merge (fast-forward by default) → push → deploy.
 * Never forces; the user's branch, index and working tree are never touched (the git adapter merges
 * outside the checkout); a failure after the push says exactly what changed and how to resume.
 */
export default async function promote(ctx: CommandContext): Promise<number> {
  const project = await loadProject(ctx);
  const { config } = project.loaded;
  const targetName = resolveEnvironmentName(config, String(ctx.options.to), undefined);
  const source = await resolveSource(project, String(ctx.options.from));
  const to = config.environments[targetName]?.branch as string;
  if (source.branch === to) throw new UsageError('promote.same', `cannot promote ${to} into itself`);
  const remote = config.git?.remote ?? 'origin';
  const mode = ctx.options.merge === true ? 'merge' : 'ff-only';
  const deploy = ctx.options.deploy !== false;

  // Refuse before fetching or asking anything; promoteMerge checks again right before it merges.
  await assertCleanTree(project.repo);

  const preview = await promotePreview({ cwd: project.loaded.dir, remote, from: source.branch, to, signal: ctx.signal });
  const target = resolveEnvironment(project.loaded, targetName, { sha: preview.fromSha, env: ctx.env });
  const sourceEnv = source.envName ? resolveEnvironment(project.loaded, source.envName, { sha: preview.fromSha, env: ctx.env }) : undefined;
  printPreview(ctx, preview, source.envName, targetName, mode);
  if (preview.upToDate) {
    ctx.output.info(`nothing to promote: ${remote}/${to} already contains ${source.branch} @ ${preview.fromSha.slice(0, 7)}`);
    return 0;
  }
  if (preview.diverged && mode === 'ff-only') {
    throw new GitStepError('git.diverged', `${remote}/${to} has commits that ${remote}/${source.branch} lacks: cannot fast-forward; nothing was changed`, {
      hint: `iac promote ${ctx.options.from} ${ctx.options.to} --merge`,
    });
  }

  const gate: GateResult = ctx.options.skipGate
    ? { text: 'gate skipped (--skip-gate)' }
    : sourceEnv
      ? await checkGate(sourceEnv, preview.fromSha, { env: ctx.env, signal: ctx.signal, secret: (v) => ctx.output.redactor.add(v) })
      : { text: `no gate: ${source.branch} is not an environment's branch` };
  ctx.output.info(`  gate: ${gate.text}`);
  for (const line of await runningRevisions(target, ctx.signal)) ctx.output.info(`  ${targetName} runs now: ${line}`);
  if (target.kubernetes) ctx.output.info(`  target: kube context ${target.kubernetes.context ?? '(current)'}, namespace ${target.kubernetes.namespace}`);
  if (target.aws) ctx.output.info(`  target AWS: ${[target.aws.profile && `profile ${target.aws.profile}`, target.aws.region].filter(Boolean).join(', ') || 'default credentials'}`);

  const planSha = preview.diverged ? '<merge commit>' : preview.fromSha;
  const deployPlan = deploy
    ? await buildDeployPlan(ctx, project, targetName, 'promote', { sha: planSha, gitDoneReason: `pushed by promote (${remote}/${to})` })
    : undefined;
  if (ctx.options.dryRun) {
    ctx.output.info(`would ${preview.diverged ? 'create a merge commit of' : 'fast-forward'} ${to} to ${source.branch} @ ${preview.fromSha.slice(0, 7)} and push ${remote}/${to} (never forced)`);
    if (deployPlan) printPlan(ctx.output, deployPlan.plan);
    else ctx.output.info('would not deploy (--no-deploy)');
    return 0;
  }
  if (deployPlan) await preflightPlan(ctx, deployPlan.plan);
  await confirmIfNeeded(ctx, target.confirm, targetName, preview);

  const runDir = createRunDir(project.loaded.dir);
  const result = await promoteMerge({
    cwd: project.loaded.dir,
    remote,
    from: source.branch,
    to,
    mode,
    expected: { fromSha: preview.fromSha, toSha: preview.toSha },
    signal: ctx.signal,
    onEvent: (event) => ctx.output.info(`  git: ${describeGitEvent(event)}`),
  });
  const record: PromotionRecord = {
    time: new Date().toISOString(),
    from: { environment: source.envName, branch: source.branch, sha: result.fromSha },
    to: { environment: targetName, branch: to, before: result.previousToSha, after: result.toSha },
    commits: result.commits.length,
    mode: result.mergeCommit ? 'merge' : 'fast-forward',
    ...(gate.buildNumber !== undefined ? { gateBuild: gate.buildNumber } : {}),
    deployed: false,
    outcome: 'pushed',
    exitCode: 0,
  };
  ctx.output.info(`promoted: ${remote}/${to} ${result.previousToSha.slice(0, 7)} → ${result.toSha.slice(0, 7)} (${record.mode}, ${result.commits.length} commit${result.commits.length === 1 ? '' : 's'})`);
  if (!deployPlan) {
    recordPromotion(project.loaded.dir, runDir, record);
    ctx.output.info(`not deploying (--no-deploy); deploy later with \`iac up ${targetName}\``);
    return 0;
  }

  const finalPlan = (await buildDeployPlan(ctx, project, targetName, 'promote', { sha: result.toSha, gitDoneReason: `pushed by promote (${remote}/${to} @ ${result.toSha.slice(0, 7)})` })).plan;
  try {
    await executePlan(ctx, finalPlan, project.loaded.dir, { runDir, preflightDone: true });
    recordPromotion(project.loaded.dir, runDir, { ...record, deployed: true, outcome: 'success' });
    return 0;
  } catch (error) {
    const exitCode = exitCodeOf(error);
    recordPromotion(project.loaded.dir, runDir, { ...record, outcome: exitCode === 130 ? 'interrupted' : 'failed', exitCode });
    if (isIacError(error)) {
      error.details.push(
        `the promotion itself is done: ${remote}/${to} moved ${result.previousToSha.slice(0, 7)} → ${result.toSha.slice(0, 7)}; only the deploy of ${targetName} did not finish`,
        `resume the deploy with: iac up ${targetName}`,
      );
    }
    throw error;
  }
}

/** `<from>` may be an environment, an environment's branch, or any branch (then it has no gate). */
async function resolveSource(project: Project, from: string): Promise<{ envName?: string; branch: string }> {
  const { config } = project.loaded;
  try {
    const envName = resolveEnvironmentName(config, from, undefined);
    return { envName, branch: config.environments[envName]?.branch as string };
  } catch (error) {
    const known = (await project.repo.resolve(`refs/heads/${from}`)) ?? (await project.repo.resolve(`refs/remotes/${config.git?.remote ?? 'origin'}/${from}`));
    if (known) return { branch: from };
    throw error;
  }
}

function printPreview(ctx: CommandContext, preview: PromotePreview, fromEnv: string | undefined, toEnv: string, mode: string): void {
  const { output } = ctx;
  const c = output.chalk;
  output.info(c.bold(`Promote ${fromEnv ?? preview.from} → ${toEnv} (${preview.from} → ${preview.to} on ${preview.remote})`));
  if (preview.upToDate) return;
  const how = preview.diverged ? (mode === 'merge' ? 'merge commit' : 'diverged: needs --merge') : `fast-forward ${preview.toSha.slice(0, 7)} → ${preview.fromSha.slice(0, 7)}`;
  output.info(`  ${preview.commits.length} commit${preview.commits.length === 1 ? '' : 's'} will move (${how}):`);
  for (const commit of preview.commits.slice(0, 20)) output.info(`    ${c.yellow(commit.shortSha)} ${commit.subject} ${c.dim(`— ${commit.author}`)}`);
  if (preview.commits.length > 20) output.info(c.dim(`    … and ${preview.commits.length - 20} more`));
  if (output.json) output.emit({ type: 'data', kind: 'promote.preview', data: preview });
}

async function confirmIfNeeded(ctx: CommandContext, required: boolean, target: string, preview: PromotePreview): Promise<void> {
  if (!required || ctx.options.yes) return;
  if (!ctx.interactive || ctx.output.json) {
    throw new PreflightError('promote.confirm', `promoting into ${target} needs confirmation and this is not an interactive terminal: nothing was changed`, {
      hint: 'run again with --yes (or IAC_YES=1) to confirm',
    });
  }
  const ok = await ctx.confirm(`Promote ${preview.commits.length} commit(s) into ${target} and deploy?`);
  if (!ok) throw new PreflightError('promote.declined', 'promotion declined: nothing was changed');
}
