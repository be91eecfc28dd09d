/**
 * The one retry policy of the Kubernetes adapter: a 5xx or 429 answer (and, once the server has
 * answered at all, a broken connection) is retried with exponential backoff and jitter, honouring
 * Retry-After, until the caller's deadline; then the last failure becomes an UnreachableError
 * (exit 4: the outcome is unknown). Other answers (401, 403, 404, 410, …) are returned at once.
 */
import { InterruptedError, UnreachableError } from '../errors.js';
import { KubeApiError, type KubeClient } from './client.js';
import { kubectlHint } from './kubectl-argv.js';

export interface RetryOptions {
  signal?: AbortSignal;
  /** Epoch ms after which no further attempt is made. */
  deadline: number;
  /** What is being asked, for the final message (`LIST deployments in shop`). */
  what: string;
  /** Told before each wait (for a `reconnect`/progress line). */
  onRetry?(reason: string, delayMs: number): void;
  /** First delay; doubles per attempt up to maxDelayMs. Defaults 250 / 8000 ms. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

/** Is this failure worth another attempt? */
export function isRetryable(error: unknown, client: Pick<KubeClient, 'everAnswered'>): boolean {
  if (error instanceof KubeApiError) return error.statusCode >= 500 || error.statusCode === 429;
  // A refused connection on first contact is reported at once; later it is a blip worth riding out.
  return error instanceof UnreachableError && error.code === 'kube.unreachable' && client.everAnswered;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new InterruptedError());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new InterruptedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Exponential backoff with ±20 % jitter. */
export function backoffDelay(attempt: number, baseMs = 250, maxMs = 8000): number {
  const raw = Math.min(baseMs * 2 ** Math.max(0, attempt - 1), maxMs);
  return Math.round(raw * (0.8 + Math.random() * 0.4));
}

function describe(error: Error): string {
  return error instanceof KubeApiError ? `${error.statusCode}: ${error.message}` : error.message;
}

/** Runs `action` until it succeeds, fails for good, or the deadline leaves no room for another try. */
export async function withRetry<T>(client: Pick<KubeClient, 'everAnswered' | 'server' | 'target'>, action: () => Promise<T>, options: RetryOptions): Promise<T> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await action();
    } catch (error) {
      if (options.signal?.aborted || error instanceof InterruptedError) throw new InterruptedError();
      if (!isRetryable(error, client)) throw error;
      const last = error as Error;
      const retryAfter = error instanceof KubeApiError ? error.retryAfterMs : undefined;
      const delay = retryAfter ?? backoffDelay(attempt, options.baseDelayMs, options.maxDelayMs);
      if (Date.now() + delay >= options.deadline) {
        const seconds = Math.max(1, Math.round((Date.now() - started) / 1000));
        throw new UnreachableError(
          'kube.unavailable',
          `the Kubernetes API at ${client.server.replace(/\/\/[^/@]*@/, '//')} kept failing ${options.what}: ${describe(last)} (${attempt} attempt${attempt === 1 ? '' : 's'} in ${seconds}s` +
            `${retryAfter !== undefined && Date.now() + retryAfter >= options.deadline ? `; it asked to retry after ${Math.round(retryAfter / 1000)}s, past the deadline` : ''})`,
          { hint: kubectlHint(client.target, ['cluster-info'], { namespaced: false }), cause: error },
        );
      }
      options.onRetry?.(`${options.what} failed (${describe(last)}), retrying in ${(delay / 1000).toFixed(1)}s`, delay);
      await sleep(delay, options.signal);
    }
  }
}
