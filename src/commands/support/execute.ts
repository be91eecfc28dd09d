import { runPlan, type RunOutcome } from '../../pipeline/runner.js';
import { printSummary } from '../../pipeline/summary.js';
import type { Plan } from '../../pipeline/types.js';
import type { CommandContext } from '../context.js';
import { createRunDir, eventLog } from './run-dir.js';

/**
 * Every step's read-only checks at once (they ask different systems), and the run guard's starting
 * point. Nothing changes if one fails; the first failure in pipeline order is the one reported.
 */
export async function preflightPlan(ctx: CommandContext, plan: Plan): Promise<void> {
  const results = await Promise.allSettled([
    ...plan.steps.map((step) => step.preflight?.(ctx.signal)),
    plan.guard?.start(ctx.signal),
  ]);
  const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failed) throw failed.reason;
}

/**
 * Runs a plan for real: preflight (nothing changes if it fails), then the steps in order, then the
 * summary. Throws the failing step's error so the top level prints it once.
 */
export async function executePlan(
  ctx: CommandContext,
  plan: Plan,
  projectDir: string,
  options: { runDir?: string; preflightDone?: boolean } = {},
): Promise<RunOutcome> {
  if (!options.preflightDone) await preflightPlan(ctx, plan);
  const runDir = options.runDir ?? createRunDir(projectDir);
  ctx.output.recordTo(eventLog(runDir));
  const outcome = await runPlan(plan, { output: ctx.output, signal: ctx.signal, runDir, verbose: ctx.options.verbose === true });
  ctx.reportSteps(outcome.reports);
  if (ctx.output.json) for (const warning of outcome.warnings) ctx.output.warn(warning);
  printSummary(ctx.output, plan, outcome, runDir);
  if (outcome.error !== undefined) throw outcome.error;
  return outcome;
}
