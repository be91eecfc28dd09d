import { existsSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { historyFile } from './journal.js';
import type { EndRecord, IntentRecord, JournalRecord, OutcomeRecord, RunRecord, StepRecord } from './records.js';

/** One run as the journal tells it. */
export interface RunSummary extends Omit<RunRecord, 'type' | 'time'> {
  startedAt: string;
  /** `running`: no end yet and its process is alive here; `unknown`: no end and it is gone (killed). */
  outcome: EndRecord['outcome'] | 'running' | 'unknown';
  exitCode?: number;
  durationMs?: number;
  endedAt?: string;
  steps: StepRecord[];
  outcomes: OutcomeRecord[];
  /** The last mutation announced without an outcome: what was under way when the run died. */
  pending?: IntentRecord;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Every run of the project, newest first, from `.iac/history.ndjson` (a torn last line is skipped). */
export function readHistory(projectDir: string): RunSummary[] {
  const file = historyFile(projectDir);
  if (!existsSync(file)) return [];
  const runs = new Map<string, RunSummary>();
  const intents = new Map<string, IntentRecord[]>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    let record: JournalRecord;
    try {
      record = JSON.parse(line) as JournalRecord;
    } catch {
      continue;
    }
    if (record.type === 'run') {
      const { type: _type, time, ...header } = record;
      runs.set(record.run, { ...header, startedAt: time, outcome: 'unknown', steps: [], outcomes: [] });
      continue;
    }
    const run = runs.get(record.run);
    if (!run) continue;
    if (record.type === 'intent') intents.set(record.run, [...(intents.get(record.run) ?? []), record]);
    else if (record.type === 'outcome') {
      run.outcomes.push(record);
      const open = intents.get(record.run) ?? [];
      const index = open.map((i) => i.action).lastIndexOf(record.action);
      if (index >= 0) open.splice(index, 1);
    } else if (record.type === 'step') run.steps.push(record);
    else if (record.type === 'end') {
      run.outcome = record.outcome;
      run.exitCode = record.exitCode;
      run.durationMs = record.durationMs;
      run.endedAt = record.time;
    }
  }
  for (const run of runs.values()) {
    if (run.endedAt !== undefined) continue;
    if (run.host === hostname() && isAlive(run.pid) && run.pid !== process.pid) run.outcome = 'running';
    const open = intents.get(run.run) ?? [];
    if (open.length > 0) run.pending = open[open.length - 1];
  }
  return [...runs.values()].sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
}

/** The Jenkins build a run triggered (or reused), from its journal. */
export function buildOf(run: RunSummary): { number: number; result?: string } | undefined {
  const started = run.outcomes.filter((o) => o.action === 'trigger' && typeof o.detail?.build === 'number').at(-1);
  if (!started) return undefined;
  const result = started.detail?.result;
  return { number: started.detail?.build as number, ...(typeof result === 'string' ? { result } : {}) };
}

/**
 * What a re-run of `sha` to `environment` can pick up: the newest run of that environment, when it
 * deployed the same commit and did not succeed (failed, interrupted or killed).
 */
export function resumable(history: RunSummary[], environment: string, sha: string): RunSummary | undefined {
  const last = history.find((run) => run.environment === environment && run.outcome !== 'running');
  if (!last || last.sha !== sha || last.outcome === 'success') return undefined;
  return last;
}

/** Successful deploys of an environment, newest first. */
export function successfulDeploys(history: RunSummary[], environment: string): RunSummary[] {
  return history.filter((run) => run.environment === environment && run.outcome === 'success');
}

/** The environment's newest deploy, when it is a rollback: the environment is pinned to that commit. */
export function pinnedBy(history: RunSummary[], environment: string): RunSummary | undefined {
  const last = successfulDeploys(history, environment)[0];
  return last?.command === 'rollback' ? last : undefined;
}
