/**
 * The run journal's records. Each run appends them, fsync'd, to `journal.ndjson` in its run directory
 * and to the project's `.iac/history.ndjson` (the compact index `iac history`, `status` and the next
 * run read; never pruned with the run directories). An intent is written before a mutation and its
 * outcome after: an intent without an outcome means the run died in between — the outcome is unknown.
 */

export type RunCommand = 'up' | 'promote' | 'rollback';

import type { MutationAction } from '../pipeline/types.js';

export type { MutationAction };

export interface RunRecord {
  type: 'run';
  run: string;
  time: string;
  command: RunCommand;
  environment: string;
  branch: string;
  sha: string;
  /** The git identity of whoever ran it ("Ana Lima <ana@example.com>"), else the OS user. */
  user: string;
  host: string;
  pid: number;
  /** rollback: the commit the environment ran before. */
  from?: string;
}

export interface IntentRecord {
  type: 'intent';
  run: string;
  time: string;
  action: MutationAction;
  detail?: Record<string, string | number | boolean>;
}

export interface OutcomeRecord {
  type: 'outcome';
  run: string;
  time: string;
  action: MutationAction;
  ok: boolean;
  detail?: Record<string, string | number | boolean>;
}

/** A step ended: what `iac history` shows per step (Jenkins build, Ansible recap, rollout result). */
export interface StepRecord {
  type: 'step';
  run: string;
  time: string;
  step: string;
  outcome: string;
  summary?: string;
  durationMs: number;
}

export interface EndRecord {
  type: 'end';
  run: string;
  time: string;
  outcome: 'success' | 'failed' | 'interrupted';
  exitCode: number;
  durationMs: number;
}

export type JournalRecord = RunRecord | IntentRecord | OutcomeRecord | StepRecord | EndRecord;
