import { resolveEnvironmentName } from '../config/resolve.js';
import { UsageError } from '../errors.js';
import type { RunSummary } from '../journal/history.js';
import { runGit } from '../git/run.js';
import type { CommandContext } from './context.js';
import { loadProject } from './support/project.js';

export interface HistoryEntry {
  run: string;
  time: string;
  environment: string;
  command: string;
  user: string;
  host: string;
  sha: string;
  subject?: string;
  /** rollback: the commit it rolled back from. */
  from?: string;
  outcome: RunSummary['outcome'];
  exitCode?: number;
  durationMs?: number;
  jenkins?: string;
  ansible?: string;
  rollout?: string;
  /** What was under way when a run died (its outcome is unknown). */
  pending?: string;
}

/**
 * `iac history [env]`: every deploy, newest first — when, who, which command and commit, the Jenkins
 * build, the Ansible recap, the rollout, how long, how it ended — from the run journal's index.
 */
export default async function history(ctx: CommandContext): Promise<number> {
  const project = await loadProject(ctx);
  const only = ctx.options.env !== undefined ? resolveEnvironmentName(project.loaded.config, String(ctx.options.env), undefined) : undefined;
  const limit = parseLimit(ctx.options.limit);
  const { readHistory } = await import('../journal/history.js');
  const runs = readHistory(project.loaded.dir).filter((run) => only === undefined || run.environment === only).slice(0, limit);
  const subjects = await commitSubjects(project.loaded.dir, [...new Set(runs.map((run) => run.sha))]);
  const entries = runs.map((run) => toEntry(run, subjects.get(run.sha)));
  if (ctx.output.json) {
    ctx.output.emit({ type: 'data', kind: 'history', data: { runs: entries } });
    return 0;
  }
  if (entries.length === 0) {
    ctx.output.info(`no deploys recorded${only ? ` for ${only}` : ''} yet (iac up, promote and rollback record theirs in .iac/history.ndjson)`);
    return 0;
  }
  const c = ctx.output.chalk;
  const width = ctx.output.mode === 'tty' ? process.stdout.columns || 100 : 200;
  const fit = (text: string): string => ([...text].length > width ? `${[...text].slice(0, width - 1).join('')}…` : text);
  for (const e of entries) {
    const mark = e.outcome === 'success' ? c.green('✔') : e.outcome === 'running' ? c.cyan('…') : e.outcome === 'unknown' ? c.yellow('?') : c.red('✖');
    const what = `${e.command}${e.command === 'rollback' && e.from ? ` from ${e.from.slice(0, 7)}` : ''}`;
    const took = e.durationMs !== undefined ? ` in ${Math.round(e.durationMs / 1000)}s` : '';
    const ended = e.outcome === 'unknown' ? `unknown${e.pending ? ` (killed during ${e.pending})` : ' (killed)'}` : e.outcome;
    ctx.output.info(fit(`${mark} ${e.time.slice(0, 19).replace('T', ' ')}  ${c.bold(e.environment)}  ${what}  ${c.yellow(e.sha.slice(0, 7))} ${e.subject ?? ''}`.trimEnd()));
    ctx.output.info(fit(`    ${ended}${took} · by ${e.user} on ${e.host}`));
    const steps = [e.jenkins && `jenkins ${e.jenkins}`, e.ansible && `ansible ${e.ansible}`, e.rollout && `rollout ${e.rollout}`].filter(Boolean).join(' · ');
    if (steps) ctx.output.info(c.dim(fit(`    ${steps}`)));
  }
  return 0;
}

function parseLimit(value: unknown): number {
  if (value === undefined) return 20;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError('usage.limit', `--limit ${String(value)}: expected a whole number of runs, 1 or more`, { hint: 'iac history --limit 10' });
  return n;
}

function toEntry(run: RunSummary, subject: string | undefined): HistoryEntry {
  const step = (id: string): string | undefined => {
    const record = run.steps.filter((s) => s.step === id).at(-1);
    return record ? (record.summary ?? record.outcome) : undefined;
  };
  const jenkins = step('jenkins');
  const ansible = step('ansible');
  const rollout = step('rollout');
  return {
    run: run.run,
    time: run.startedAt,
    environment: run.environment,
    command: run.command,
    user: run.user,
    host: run.host,
    sha: run.sha,
    ...(subject !== undefined ? { subject } : {}),
    ...(run.from !== undefined ? { from: run.from } : {}),
    outcome: run.outcome,
    ...(run.exitCode !== undefined ? { exitCode: run.exitCode } : {}),
    ...(run.durationMs !== undefined ? { durationMs: run.durationMs } : {}),
    ...(jenkins !== undefined ? { jenkins } : {}),
    ...(ansible !== undefined ? { ansible } : {}),
    ...(rollout !== undefined ? { rollout } : {}),
    ...(run.pending ? { pending: `${run.pending.action}${run.pending.detail?.sha ? ` of ${String(run.pending.detail.sha).slice(0, 7)}` : ''}` } : {}),
  };
}

/** Subjects of the commits this repository knows, in one git call. */
async function commitSubjects(cwd: string, shas: string[]): Promise<Map<string, string>> {
  const subjects = new Map<string, string>();
  const known = shas.filter((sha) => /^[0-9a-f]{40}$/.test(sha));
  if (known.length === 0) return subjects;
  const out = await runGit(cwd, ['log', '--no-walk=unsorted', '--ignore-missing', '--format=%H%x1f%s', ...known], { okExitCodes: [128] }).catch(() => undefined);
  for (const line of out?.stdout.split('\n') ?? []) {
    const [sha, subject] = line.split('\x1f');
    if (sha && subject !== undefined) subjects.set(sha, subject);
  }
  return subjects;
}
