import { isIacError } from '../errors.js';
import { stripCredentials } from '../git/sanitize.js';
import { formatDuration } from '../util/duration.js';
import { NotChecked, type CheckOutcome, type CheckResult, type CheckSpec } from './types.js';

export interface RunChecksOptions {
  signal: AbortSignal;
  /** Each check's own deadline, counted from when it starts (after its prerequisites). */
  timeoutMs: number;
}

export const DEFAULT_CHECK_TIMEOUT_MS = 10_000;

class CheckTimeout extends Error {}

/**
 * Runs every check at once (a check waits only for the checks it `requires`), each with its own
 * deadline, so one slow system never holds up the others. Results come back in the given order.
 */
export async function runChecks(specs: CheckSpec[], options: RunChecksOptions): Promise<CheckResult[]> {
  const started = new Map<CheckSpec, Promise<CheckResult>>();
  const start = (spec: CheckSpec): Promise<CheckResult> => {
    let result = started.get(spec);
    if (result === undefined) {
      result = runOne(spec, start, options);
      started.set(spec, result);
    }
    return result;
  };
  return Promise.all(specs.map(start));
}

async function runOne(spec: CheckSpec, start: (spec: CheckSpec) => Promise<CheckResult>, options: RunChecksOptions): Promise<CheckResult> {
  const base = { id: spec.id, ...(spec.env !== undefined ? { env: spec.env } : {}), label: spec.label };
  const prerequisites = await Promise.all((spec.requires ?? []).map(start));
  const blocker = prerequisites.find((p) => !p.ok);
  if (blocker !== undefined) {
    return { ...base, ok: false, severity: 'skipped', message: `not checked: ${blocker.label} ${blocker.severity === 'skipped' ? 'was not checked' : 'failed'}`, durationMs: 0 };
  }
  const began = performance.now();
  const elapsed = (): number => Math.round(performance.now() - began);
  try {
    const outcome = await withDeadline(spec, options);
    return {
      ...base,
      ok: outcome.ok,
      severity: !outcome.ok ? 'error' : outcome.warning ? 'warning' : 'ok',
      message: outcome.message,
      ...(outcome.fix !== undefined ? { fix: outcome.fix } : {}),
      durationMs: elapsed(),
    };
  } catch (error) {
    if (error instanceof NotChecked) return { ...base, ok: false, severity: 'skipped', message: `not checked: ${error.message}`, durationMs: elapsed() };
    const message =
      error instanceof CheckTimeout
        ? `no answer within ${formatDuration(options.timeoutMs)}`
        : stripCredentials(error instanceof Error ? error.message : String(error));
    const fix = isIacError(error) && error.hint !== undefined ? error.hint : spec.hint;
    return { ...base, ok: false, severity: 'error', message, ...(fix !== undefined ? { fix } : {}), durationMs: elapsed() };
  }
}

/** The check's promise against its deadline; the check's signal aborts when the deadline passes. */
async function withDeadline(spec: CheckSpec, options: RunChecksOptions): Promise<CheckOutcome> {
  const deadline = new AbortController();
  const signal = AbortSignal.any([options.signal, deadline.signal]);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new CheckTimeout());
      deadline.abort(new CheckTimeout());
    }, options.timeoutMs);
  });
  try {
    return await Promise.race([spec.run(signal), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
