/**
 * The typed verdict on one workload, shared by the rollout wait and `iac status`: kubectl's
 * `(message, done, error)` from the byte-for-byte port in rollout-status.ts, plus iac's own verdict
 * on which commit the pod template runs. Consumers read `state`; nobody matches message text.
 */
import { RolloutStatusError, rolloutStatus, type RolloutStatusErrorReason } from './rollout-status.js';
import { shortRevision, templateRevision, type ExpectedRevision, type TemplateRevision } from './revision.js';
import type { WorkloadObject } from './types.js';
import type { WorkloadKind, WorkloadRef } from './workload-ref.js';

/** kubectl's answer for one object. `message` is the status line, or the error text when `error` is set. */
export interface KubectlVerdict {
  message: string;
  done: boolean;
  error?: { reason: RolloutStatusErrorReason; message: string };
}

/**
 * Which commit runs, against the run's: `unchecked` when no commit was expected (status);
 * `ours`; `previous` (still the commit it ran when the wait began: the apply has not landed);
 * `moved` (a third commit, or away from ours after reaching it); `unknown` (nothing readable).
 */
export type RevisionVerdict =
  | { state: 'unchecked' }
  | { state: 'ours'; running: string }
  | { state: 'previous'; running: string; expected: string }
  | { state: 'moved'; running: string; expected: string; startedOn: string | undefined; leftOurs: boolean }
  | { state: 'unknown'; images: string[] };

export type WorkloadState = 'ready' | 'progressing' | 'failing';

export interface WorkloadVerdict {
  /** `deployment/web`. */
  workload: string;
  kubectl: KubectlVerdict;
  revision: RevisionVerdict;
  /** What the workload's row and the rollout step go by. */
  state: WorkloadState;
  /** The line to show: kubectl's message, or iac's when the revision decides. */
  message: string;
}

/** kubectl's `(message, done, error)`: a viewer error is a value here, not an exception. */
export function kubectlVerdict(kind: WorkloadKind, object: WorkloadObject): KubectlVerdict {
  try {
    return rolloutStatus(kind, object);
  } catch (error) {
    if (!(error instanceof RolloutStatusError)) throw error;
    return { message: error.message, done: error.reason === 'UnsupportedStrategy', error: { reason: error.reason, message: error.message } };
  }
}

/** What one workload's watcher remembers between events, for the revision verdict. */
export interface RevisionHistory {
  /** The revision seen first (undefined until the first object; `null` when it was unreadable). */
  startedOn?: string | null;
  /** The workload has run our commit at some point during the wait. */
  reachedOurs: boolean;
}

export function newRevisionHistory(): RevisionHistory {
  return { reachedOurs: false };
}

/** Judges the revision and updates `history` (the first observation, reaching ours). */
export function revisionVerdict(object: WorkloadObject, expected: ExpectedRevision | undefined, history: RevisionHistory): RevisionVerdict {
  if (expected === undefined) return { state: 'unchecked' };
  const running: TemplateRevision = templateRevision(object, expected);
  const wanted = shortRevision(expected.sha);
  if (history.startedOn === undefined) history.startedOn = running.readable ? running.value.toLowerCase() : null;
  if (!running.readable) return { state: 'unknown', images: running.images };
  if (running.ours) {
    history.reachedOurs = true;
    return { state: 'ours', running: running.value };
  }
  const value = running.value.toLowerCase();
  if (!history.reachedOurs && history.startedOn === value) return { state: 'previous', running: running.value, expected: wanted };
  return {
    state: 'moved',
    running: running.value,
    expected: wanted,
    startedOn: history.startedOn ?? undefined,
    leftOurs: history.reachedOurs,
  };
}

export interface JudgeOptions {
  expected?: ExpectedRevision;
  history?: RevisionHistory;
  /**
   * `iac status` only: an OnDelete workload (kubectl refuses to judge it) counts as ready when all
   * its pods are; a rollout still fails on it, as kubectl does.
   */
  readyWhenUnsupported?: { ready: number; desired: number };
}

/** The combined verdict: kubectl's semantics, and the run's commit when one is expected. */
export function judgeWorkload(ref: WorkloadRef, object: WorkloadObject, options: JudgeOptions = {}): WorkloadVerdict {
  const workload = `${ref.kind}/${ref.name}`;
  const kubectl = kubectlVerdict(ref.kind, object);
  const revision = revisionVerdict(object, options.expected, options.history ?? newRevisionHistory());
  const base = { workload, kubectl, revision };
  if (revision.state === 'moved') {
    const message = revision.leftOurs
      ? `${ref.name} moved from ${revision.expected} to ${shortRevision(revision.running)} while iac waited for its rollout`
      : `${ref.name} moved to ${shortRevision(revision.running)} while iac waited for ${revision.expected}` +
        (revision.startedOn === undefined ? '' : ` (it ran ${shortRevision(revision.startedOn)} when the wait began)`);
    return { ...base, state: 'failing', message };
  }
  if (revision.state === 'previous') {
    // Whatever kubectl says is about an older rollout: ours has not been applied yet.
    return { ...base, state: 'progressing', message: `${ref.name} runs ${shortRevision(revision.running)}, waiting for ${revision.expected}` };
  }
  if (kubectl.error !== undefined) {
    const unsupported = kubectl.error.reason === 'UnsupportedStrategy' && options.readyWhenUnsupported;
    if (unsupported && unsupported.ready >= unsupported.desired) return { ...base, state: 'ready', message: kubectl.message };
    return { ...base, state: 'failing', message: kubectl.message };
  }
  return { ...base, state: kubectl.done ? 'ready' : 'progressing', message: kubectl.message };
}
