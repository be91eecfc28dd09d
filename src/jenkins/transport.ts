/**
 * The HTTP layer under JenkinsClient: one place that sends requests, applies the per-request
 * timeout, retries idempotent GETs with bounded exponential backoff, and turns network failures
 * into UnreachableError / InterruptedError. Redirects are never followed (201/302/303 carry meaning).
 */
import { InterruptedError, UnreachableError } from '../errors.js';

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 500, maxDelayMs: 8000 };
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** Network error codes that mean "the server was there but the exchange broke": safe to retry a GET. */
const TRANSIENT_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'IAC_TIMEOUT',
]);

/** Resolves after `ms`, or rejects with InterruptedError when the signal aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(new InterruptedError());
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new InterruptedError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
}

/** The `code` of a fetch failure (`TypeError('fetch failed')` wraps the socket error as `cause`). */
export function networkErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    if (typeof current === 'object' && current !== null) {
      const code = (current as { code?: unknown }).code;
      if (typeof code === 'string') return code;
      if ((current as { name?: unknown }).name === 'TimeoutError') return 'IAC_TIMEOUT';
      current = (current as { cause?: unknown }).cause;
    } else {
      break;
    }
  }
  if (error instanceof TypeError && /terminated|other side closed|socket/i.test(String(error.message))) return 'UND_ERR_SOCKET';
  return undefined;
}

export function isTransientNetworkError(error: unknown, reachedBefore: boolean): boolean {
  const code = networkErrorCode(error);
  if (code === undefined) return error instanceof TypeError;
  // A refused or silent connection after we already talked to Jenkins is a restart, worth waiting
  // for; before that it is most likely a wrong URL or a firewall, and the user should know at once.
  if (code === 'ECONNREFUSED' || code === 'IAC_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') return reachedBefore;
  return TRANSIENT_CODES.has(code);
}

/**
 * A per-request deadline that can be pushed back while a body streams (idle timeout), combined with
 * the caller's signal. Our own timeout aborts with an error coded IAC_TIMEOUT, so it is told apart
 * from the caller's abort.
 */
export class Deadline {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  readonly signal: AbortSignal;

  constructor(
    private readonly ms: number,
    outer: AbortSignal | undefined,
  ) {
    this.signal = outer ? anySignal(outer, this.controller) : this.controller.signal;
    this.refresh();
  }

  refresh(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      const error = new Error(`no answer within ${this.ms} ms`);
      (error as Error & { code: string }).code = 'IAC_TIMEOUT';
      this.controller.abort(error);
    }, this.ms);
    this.timer.unref?.();
  }

  clear(): void {
    clearTimeout(this.timer);
  }
}

/** `AbortSignal.any` (Node ≥ 20.3), with a fallback that forwards the outer abort into our controller. */
function anySignal(outer: AbortSignal, inner: AbortController): AbortSignal {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([outer, inner.signal]);
  if (outer.aborted) inner.abort(outer.reason);
  else outer.addEventListener('abort', () => inner.abort(outer.reason), { once: true });
  return inner.signal;
}

/** Describes a network failure for a one-line message (code only; never headers, never credentials). */
export function describeNetworkError(error: unknown): string {
  const code = networkErrorCode(error);
  if (code === 'IAC_TIMEOUT') return 'timed out';
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
  return code ?? (error instanceof Error ? error.message : 'network error');
}

export function unreachable(baseUrl: string, error: unknown, what = 'is unreachable'): UnreachableError {
  return new UnreachableError('jenkins.unreachable', `Jenkins at ${baseUrl} ${what} (${describeNetworkError(error)})`, {
    hint: `check that ${baseUrl} is the Jenkins URL in iac.yaml (jenkins.url) and that Jenkins is up, then run the command again`,
    cause: error,
  });
}
