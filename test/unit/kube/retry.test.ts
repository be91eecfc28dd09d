import { describe, expect, it } from 'vitest';
import { UnreachableError } from '../../../src/errors.js';
import { KubeApiError, parseRetryAfter, resourceOf } from '../../../src/kube/client.js';
import { backoffDelay, isRetryable, withRetry } from '../../../src/kube/retry.js';

const client = { everAnswered: true, server: 'https://k8s.example.com', target: { namespace: 'shop' } };

describe('the retry policy', () => {
  it('retries 5xx and 429, and connection errors only once the server has answered', () => {
    expect(isRetryable(new KubeApiError(500, 'InternalError', 'x'), client)).toBe(true);
    expect(isRetryable(new KubeApiError(503, undefined, 'x'), client)).toBe(true);
    expect(isRetryable(new KubeApiError(429, 'TooManyRequests', 'x'), client)).toBe(true);
    for (const code of [401, 403, 404, 410, 400]) expect(isRetryable(new KubeApiError(code, undefined, 'x'), client)).toBe(false);
    const refused = new UnreachableError('kube.unreachable', 'ECONNREFUSED');
    expect(isRetryable(refused, client)).toBe(true);
    expect(isRetryable(refused, { everAnswered: false })).toBe(false);
    expect(isRetryable(new Error('bug'), client)).toBe(false);
  });

  it('backs off exponentially with jitter, capped', () => {
    const ranges = [1, 2, 3, 10].map((attempt) => backoffDelay(attempt, 250, 8000));
    expect(ranges[0]).toBeGreaterThanOrEqual(200);
    expect(ranges[0]).toBeLessThanOrEqual(300);
    expect(ranges[1]).toBeGreaterThanOrEqual(400);
    expect(ranges[2]).toBeGreaterThanOrEqual(800);
    expect(ranges[3]).toBeLessThanOrEqual(9600);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter('Wed, 21 Oct 2015 07:28:05 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(5000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });

  it('gives up before a wait that would pass the deadline, as an UnreachableError naming the last answer', async () => {
    let attempts = 0;
    const error = await withRetry(
      client,
      async () => {
        attempts++;
        throw new KubeApiError(429, 'TooManyRequests', 'slow down', { retryAfterMs: 60_000 });
      },
      { deadline: Date.now() + 5000, what: 'LIST pods in shop' },
    ).catch((e: unknown) => e);
    expect(attempts).toBe(1);
    expect(error).toBeInstanceOf(UnreachableError);
    expect((error as UnreachableError).code).toBe('kube.unavailable');
    expect((error as Error).message).toContain('kept failing LIST pods in shop: 429: slow down');
    expect((error as Error).message).toContain('it asked to retry after 60s, past the deadline');
  });

  it('names the resource of an API path', () => {
    expect(resourceOf('/api/v1/namespaces/shop/pods')).toBe('pods');
    expect(resourceOf('/api/v1/namespaces/shop/pods/web-1/log')).toBe('pods/log');
    expect(resourceOf('/apis/apps/v1/namespaces/shop/deployments/web')).toBe('deployments');
  });
});
