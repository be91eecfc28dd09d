import { runPlan, type RunOutcome } from '../../pipeline/runner.js';
import { printSummary } from '../../pipeline/summary.js';
import type { Plan } from '../../pipeline/types.js';
import type { CommandContext } from '../context.js';
import { createRunDir, eventLog } from './run-dir.js';

/**
 * Runs a plan for real: preflight every step first (nothing changes if one fails), then the steps in
 * order, then the summary. Throws the failing step's error so the top level prints it once.
 */
export async function preflightPlan(ctx: CommandContext, plan: Plan): Promise<void> {
  for (const step of plan.steps) await step.preflight?.(ctx.signal);
}

export async function executePlan(
  ctx: CommandContext,
  plan: Plan,
  projectDir: string,
  options: { runDir?: string; preflightDone?: boolean } = {},
): Promise<RunOutcome> {
  if (!options.preflightDone) await preflightPlan(ctx, plan);
  const runDir = options.runDir ?? createRunDir(projectDir);
  ctx.output.recordTo(eventLog(runDir));
  ctx.output.emit({ type: 'run.started', command: plan.command, environment: plan.environment, branch: plan.branch, sha: plan.sha, runDir });
  const outcome = await runPlan(plan, { output: ctx.output, signal: ctx.signal, runDir, verbose: ctx.options.verbose === true });
  ctx.reportSteps(outcome.reports);
  printSummary(ctx.output, plan, outcome, runDir);
  if (outcome.error !== undefined) throw outcome.error;
  return outcome;
}
