import { rmdirSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import type { EnvironmentTarget } from '../../config/resolve.js';
import { UsageError } from '../../errors.js';
import type { RunJournal } from '../../journal/journal.js';
import type { HeldLease } from '../../lock/lease.js';
import { durationProblem, parseDuration } from '../../util/duration.js';
import type { RunCommand } from '../../journal/records.js';
import { printRunHeader } from '../../pipeline/header.js';
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
  /** The caller printed the run's header already (as soon as the commit was bound). */
  headerShown?: boolean;
  /** The environment whose lease the run holds while it changes anything (one run at a time). */
  lease?: { target: EnvironmentTarget; durationMs: number };
}

/**
 * Runs a plan for real: preflight (nothing changes if it fails), then the journaled run — its
 * header (who, where, which commit), every mutation's intent and outcome, each step's end, the run's
 * end — then the summary. Throws the failing step's error so the top level prints it once.
 */
export async function executePlan(ctx: CommandContext, plan: Plan, projectDir: string, options: ExecuteOptions = {}): Promise<RunOutcome> {
  if (!options.headerShown) printRunHeader(ctx.output, plan);
  const { whoRuns } = await import('../../journal/identity.js');
  const runDir = options.runDir ?? createRunDir(projectDir);
  // The checks and the lease at once: both only read or claim, and each costs round trips.
  const identity = whoRuns(projectDir);
  const claim = options.lease ? identity.then((who) => holdLease(ctx, plan, options.lease as NonNullable<ExecuteOptions['lease']>, runDir, who)) : Promise.resolve(undefined);
  const [checked, claimed] = await Promise.allSettled([options.preflightDone ? undefined : preflightPlan(ctx, plan), claim]);
  const lease = claimed.status === 'fulfilled' ? claimed.value : undefined;
  if (checked.status === 'rejected' || claimed.status === 'rejected') {
    await lease?.release();
    // Nothing ran: leave no run directory behind (one the caller made goes only if still empty).
    if (options.runDir === undefined) rmSync(runDir, { recursive: true, force: true });
    else rmEmpty(runDir);
    throw checked.status === 'rejected' ? checked.reason : (claimed as PromiseRejectedResult).reason;
  }
  try {
    return await journaledRun(ctx, plan, projectDir, runDir, await identity, options);
  } finally {
    await lease?.release();
  }
}

/** Takes the environment's lease (waiting up to --wait-lock), or refuses with exit 3 naming the holder. */
async function holdLease(ctx: CommandContext, plan: Plan, lease: NonNullable<ExecuteOptions['lease']>, runDir: string, identity: { user: string; host: string }): Promise<HeldLease> {
  const [{ leaseStoreFor }, { acquireLease, describeHolder }] = await Promise.all([import('../../lock/environment-lease.js'), import('../../lock/lease.js')]);
  const waitMs = ctx.options.waitLock === undefined ? 0 : parseWait(String(ctx.options.waitLock));
  return acquireLease(await leaseStoreFor(lease.target), {
    holder: { ...identity, pid: process.pid, command: plan.command, environment: plan.environment, commit: plan.sha, run: basename(runDir), durationMs: lease.durationMs },
    waitMs,
    signal: ctx.signal,
    onWait: (holder) => ctx.output.info(`waiting for ${plan.environment}: ${describeHolder(holder)} is deploying it (up to ${ctx.options.waitLock as string})`),
  });
}

function rmEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty, or gone
  }
}

function parseWait(text: string): number {
  const problem = durationProblem(text);
  if (problem !== undefined) throw new UsageError('usage.wait-lock', `--wait-lock ${text}: ${problem}`, { hint: '--wait-lock 10m' });
  return parseDuration(text) as number;
}

async function journaledRun(
  ctx: CommandContext,
  plan: Plan,
  projectDir: string,
  runDir: string,
  identity: { user: string; host: string },
  options: ExecuteOptions,
): Promise<RunOutcome> {
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
