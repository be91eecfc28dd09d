/**
 * What `iac doctor` is made of: small checks that each answer one question (is the remote
 * reachable? does the job exist?) with `{ ok, message, fix }`. Nothing here prints.
 */

/** What one check found. `warning`: it passed, with a caveat worth a `!`. */
export interface CheckOutcome {
  ok: boolean;
  message: string;
  /** The next thing to do (a command to run, a key to set); required in spirit for every failure. */
  fix?: string;
  warning?: boolean;
}

/** One check to run. `requires`: checks that must pass first (a failed one skips this one). */
export interface CheckSpec {
  /** Stable id for scripts, e.g. `jenkins.auth`, `kube.workload.deployment/web`. */
  id: string;
  /** The environment it belongs to; undefined for project-wide checks (git repository, tools). */
  env?: string;
  /** Short name shown in the first column, e.g. `jenkins auth`. */
  label: string;
  requires?: CheckSpec[];
  /** What to do when the check runs out of time or fails without a hint of its own. */
  hint?: string;
  run(signal: AbortSignal): Promise<CheckOutcome>;
}

/** `ok` passed · `warning` passed with a caveat · `error` failed · `skipped` not run (a prerequisite failed). */
export type CheckSeverity = 'ok' | 'warning' | 'error' | 'skipped';

/** A finished check as `--json` reports it. `ok` is true only for `ok` and `warning`. */
export interface CheckResult {
  id: string;
  env?: string;
  label: string;
  ok: boolean;
  severity: CheckSeverity;
  message: string;
  fix?: string;
  durationMs: number;
}

/** What the shared probes (one HTTP call or one `git ls-remote` read by several checks) run under. */
export interface ProbeContext {
  signal: AbortSignal;
  timeoutMs: number;
}

/** A shared probe's own deadline, so a hung call is abandoned even when no check waits for it any more. */
export function probeSignal(ctx: ProbeContext): AbortSignal {
  return AbortSignal.any([ctx.signal, AbortSignal.timeout(ctx.timeoutMs)]);
}

/** Thrown by a check that cannot tell (it depends on something that did not answer): shown as skipped. */
export class NotChecked extends Error {}

export const pass = (message: string): CheckOutcome => ({ ok: true, message });
export const warn = (message: string, fix?: string): CheckOutcome => ({ ok: true, warning: true, message, ...(fix !== undefined ? { fix } : {}) });
export const fail = (message: string, fix?: string): CheckOutcome => ({ ok: false, message, ...(fix !== undefined ? { fix } : {}) });

/** A value computed once and shared by the checks that interpret it (one HTTP call, several lines). */
export function once<T>(make: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined;
  return () => (promise ??= make());
}

/** The settled result of a shared probe: value or error, never a rejection. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export function settle<T>(make: () => Promise<T>): () => Promise<Settled<T>> {
  return once(() => make().then((value): Settled<T> => ({ ok: true, value }), (error: unknown): Settled<T> => ({ ok: false, error })));
}
