import type { RunJournal } from '../../journal/journal.js';
import type { RunCommand } from '../../journal/records.js';
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

export interface ExecuteOptions {
  runDir?: string;
  preflightDone?: boolean;
  /** rollback: the commit the environment ran before (journaled with the run). */
  from?: string;
}

/**
 * Runs a plan for real: preflight (nothing changes if it fails), then the journaled run — its
 * header (who, where, which commit), every mutation's intent and outcome, each step's end, the run's
 * end — then the summary. Throws the failing step's error so the top level prints it once.
 */
export async function executePlan(ctx: CommandContext, plan: Plan, projectDir: string, options: ExecuteOptions = {}): Promise<RunOutcome> {
  const { whoRuns } = await import('../../journal/identity.js');
  const [identity] = await Promise.all([whoRuns(projectDir), options.preflightDone ? undefined : preflightPlan(ctx, plan)]);
  const runDir = options.runDir ?? createRunDir(projectDir);
  ctx.output.recordTo(eventLog(runDir));
  const { RunJournal } = await import('../../journal/journal.js');
  const journal: RunJournal = RunJournal.open(projectDir, runDir, {
    command: plan.command as RunCommand,
    environment: plan.environment,
    branch: plan.branch,
    sha: plan.sha,
    ...identity,
    pid: process.pid,
    ...(options.from !== undefined ? { from: options.from } : {}),
  });
  const redact = ctx.output.redactor;
  const started = performance.now();
  const outcome = await runPlan(plan, {
    output: ctx.output,
    signal: ctx.signal,
    runDir,
    verbose: ctx.options.verbose === true,
    journal: (record) => journal.append(JSON.parse(redact.redact(JSON.stringify(record))) as typeof record),
  });
  journal.append({
    type: 'end',
    outcome: outcome.exitCode === 0 ? 'success' : outcome.exitCode === 130 ? 'interrupted' : 'failed',
    exitCode: outcome.exitCode,
    durationMs: Math.round(performance.now() - started),
  });
  ctx.reportSteps(outcome.reports);
  if (ctx.output.json) for (const warning of outcome.warnings) ctx.output.warn(warning);
  printSummary(ctx.output, plan, outcome, runDir);
  if (outcome.error !== undefined) throw outcome.error;
  return outcome;
}
