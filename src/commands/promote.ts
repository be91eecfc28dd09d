import { requireSection, resolveEnvironmentName, resolveTarget } from '../config/resolve.js';
import { GitStepError, isIacError, PreflightError, UsageError, exitCodeOf } from '../errors.js';
import { preparePromotion, promotePreview, type PromotePreview, type PromoteResult } from '../git/promote.js';
import { assertCleanTree } from '../git/promote-checks.js';
import type { Plan } from '../pipeline/types.js';
import { promotePushStep } from '../steps/promote-push.js';
import type { CommandContext } from './context.js';
import { buildDeployPlan } from './support/deploy-plan.js';
import { executePlan, preflightPlan } from './support/execute.js';
import { printPlan } from './support/print-plan.js';
import { loadProject, type Project } from './support/project.js';
import { checkGate, recordPromotion, runningRevisions, type GateResult, type PromotionRecord } from './support/promotion.js';
import { createRunDir } from './support/run-dir.js';

/**
 * `iac promote <from> <to>`: preview → gate → confirm → one run: merge-and-push (a step like any
 * other) → deploy of exactly the promoted commit. Never forces; the user's branch, index and working
 * tree are never touched (merges happen outside the checkout); a failure after the push says exactly
 * what changed and how to resume.
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
  assertNoSkippedPush(ctx);

  // Refuse before fetching or asking anything; the push step checks again right before it pushes.
  await assertCleanTree(project.repo);

  const preview = await promotePreview({ cwd: project.loaded.dir, remote, from: source.branch, to, signal: ctx.signal });
  const target = resolveTarget(project.loaded, targetName, { env: ctx.env });
  const sourceTarget = source.envName ? resolveTarget(project.loaded, source.envName, { env: ctx.env }) : undefined;
  printPreview(ctx, preview, source.envName, targetName, mode);
  if (preview.upToDate) {
    ctx.output.info(`nothing to promote: ${remote}/${to} already contains ${source.branch} @ ${preview.fromSha.slice(0, 7)}`);
    return 0;
  }
  if (preview.diverged && mode === 'ff-only') {
    throw new GitStepError('git.diverged', `${remote}/${to} has commits that ${remote}/${source.branch} lacks: cannot fast-forward; nothing was changed`, {
      hint: `iac promote ${String(ctx.options.from)} ${String(ctx.options.to)} --merge`,
    });
  }

  let gate: GateResult;
  if (ctx.options.skipGate) gate = { text: 'gate skipped (--skip-gate)' };
  else if (sourceTarget?.jenkins) {
    requireSection(sourceTarget, 'jenkins');
    gate = await checkGate(sourceTarget, preview.fromSha, { env: ctx.env, signal: ctx.signal, secret: (v) => ctx.output.redactor.add(v) });
  } else gate = { text: sourceTarget ? `no gate: environment ${sourceTarget.name} has no Jenkins job` : `no gate: ${source.branch} is not an environment's branch` };
  ctx.output.info(`  gate: ${gate.text}`);
  for (const line of await runningRevisions(target, ctx.signal)) ctx.output.info(`  ${targetName} runs now: ${line}`);
  if (target.kubernetes) ctx.output.info(`  target: kube context ${target.kubernetes.context ?? '(current)'}, namespace ${target.kubernetes.namespace}`);
  if (target.aws) ctx.output.info(`  target AWS: ${[target.aws.profile && `profile ${target.aws.profile}`, target.aws.region].filter(Boolean).join(', ') || 'default credentials'}`);

  // The one commit of this run: develop's tested head, or the merge commit made now (an object only).
  const promoteOptions = { cwd: project.loaded.dir, remote, from: source.branch, to, mode, expected: { fromSha: preview.fromSha, toSha: preview.toSha } } as const;
  const prepared = await preparePromotion({ ...promoteOptions, signal: ctx.signal }, preview);
  let pushed: PromoteResult | undefined;
  const pushStep = promotePushStep(promoteOptions, prepared, (result) => (pushed = result));
  const plan: Plan = deploy
    ? (await buildDeployPlan(ctx, project, targetName, { command: 'promote', sha: prepared.sha, gitStep: pushStep })).plan
    : { command: 'promote', environment: targetName, branch: to, sha: prepared.sha, steps: [pushStep], skipped: [] };
  if (ctx.options.dryRun) {
    printPlan(ctx.output, plan);
    if (!deploy) ctx.output.info('would not deploy (--no-deploy)');
    return 0;
  }
  await preflightPlan(ctx, plan);
  await confirmIfNeeded(ctx, target.confirm, targetName, preview, deploy);

  const runDir = createRunDir(project.loaded.dir);
  const record = (result: PromoteResult, outcome: PromotionRecord['outcome'], exitCode: number): void =>
    recordPromotion(project.loaded.dir, runDir, {
      time: new Date().toISOString(),
      from: { environment: source.envName, branch: source.branch, sha: result.fromSha },
      to: { environment: targetName, branch: to, before: result.previousToSha, after: result.toSha },
      commits: result.commits.length,
      mode: result.mergeCommit ? 'merge' : 'fast-forward',
      ...(gate.buildNumber !== undefined ? { gateBuild: gate.buildNumber } : {}),
      deployed: deploy && outcome === 'success',
      outcome,
      exitCode,
    });
  try {
    await executePlan(ctx, plan, project.loaded.dir, { runDir, preflightDone: true });
  } catch (error) {
    if (pushed === undefined) throw error; // nothing changed remotely: nothing to record
    const exitCode = exitCodeOf(error);
    record(pushed, exitCode === 130 ? 'interrupted' : 'failed', exitCode);
    if (isIacError(error)) {
      error.details.push(
        `the promotion itself is done: ${remote}/${to} moved ${pushed.previousToSha.slice(0, 7)} → ${pushed.toSha.slice(0, 7)}; only the deploy of ${targetName} did not finish`,
        `resume the deploy with: iac up ${targetName}`,
      );
    }
    throw error;
  }
  record(pushed as PromoteResult, deploy ? 'success' : 'pushed', 0);
  if (!deploy) ctx.output.info(`not deploying (--no-deploy); deploy later with \`iac up ${targetName}\``);
  return 0;
}

/** The push is the promotion: skipping it would be a different command. */
function assertNoSkippedPush(ctx: CommandContext): void {
  const skip = String(ctx.options.skip ?? '').split(',').map((s) => s.trim());
  const only = ctx.options.only === undefined ? undefined : String(ctx.options.only).split(',').map((s) => s.trim());
  if (skip.includes('git')) {
    throw new UsageError('usage.promote-skip-git', '--skip git: promote always pushes (the push is the promotion)', {
      hint: 'iac up <env> --skip git   # deploy without pushing',
    });
  }
  if (only?.includes('git') && only.length === 1 && ctx.options.deploy !== false) {
    throw new UsageError('usage.promote-only-git', '--only git with promote: use --no-deploy to promote without deploying', {
      hint: `iac promote ${String(ctx.options.from)} ${String(ctx.options.to)} --no-deploy`,
    });
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

async function confirmIfNeeded(ctx: CommandContext, required: boolean, target: string, preview: PromotePreview, deploy: boolean): Promise<void> {
  if (!required || ctx.options.yes) return;
  if (!ctx.interactive || ctx.output.json) {
    throw new PreflightError('promote.confirm', `promoting into ${target} needs confirmation and this is not an interactive terminal: nothing was changed`, {
      hint: 'run again with --yes (or IAC_YES=1) to confirm',
    });
  }
  const ok = await ctx.confirm(`Promote ${preview.commits.length} commit(s) into ${target}${deploy ? ' and deploy' : ''}?`);
  if (!ok) throw new PreflightError('promote.declined', 'promotion declined: nothing was changed');
}
