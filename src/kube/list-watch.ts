/**
 * LIST then WATCH from the list's resourceVersion until the signal aborts, the way client-go's
 * reflector does: a watch that ends or drops resumes from the last resourceVersion seen (events
 * and bookmarks both advance it); a 410 Expired/Gone — as an ERROR event or an HTTP status —
 * re-lists. No polling: between events nothing is requested.
 *
 * Failures: 5xx/429 and (after first contact) broken connections are retried by retry.ts until the
 * deadline; a watch that ends without delivering anything is retried with a growing backoff (a
 * server that closes every watch at once must not be hammered); a watch silent for longer than
 * its own timeout is dropped and resumed (a half-open connection never ends by itself).
 */
import { InterruptedError, UnreachableError } from '../errors.js';
import { KubeApiError, type KubeClient, type Query } from './client.js';
import { kubectlHint } from './kubectl-argv.js';
import { backoffDelay, sleep, withRetry } from './retry.js';
import type { ListObject, ObjectMeta, StatusObject } from './types.js';

export interface ListWatchHandlers<T> {
  /** The full state: first list, and again after a 410. */
  onList(items: T[], relisted: boolean): void;
  onEvent(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: T): void;
  onReconnect?(reason: string): void;
  /** A request is failing and being retried (undefined: it succeeded again). */
  onFailing?(error: Error | undefined): void;
}

export interface ListWatchOptions {
  signal: AbortSignal;
  /** Epoch ms: retries stop here (the caller's own deadline). Default: one hour from now. */
  deadline?: number;
  /** What this stream is, for messages (`deployments in shop`). */
  label: string;
}

/** Items per LIST page (kubectl's chunk size). */
export const LIST_PAGE_SIZE = 500;
/** A watch ended with nothing delivered waits this long before the first retry, doubling each time. */
const EMPTY_WATCH_BASE_MS = 250;
const EMPTY_WATCH_MAX_MS = 15_000;

function isExpired(status: StatusObject): boolean {
  return status.code === 410 || status.reason === 'Expired' || status.reason === 'Gone';
}

function isObject(value: unknown): boolean {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function badAnswer(client: KubeClient, what: string): UnreachableError {
  return new UnreachableError('kube.bad-answer', `the Kubernetes API at ${client.server.replace(/\/\/[^/@]*@/, '//')} answered with ${what}`, {
    hint: kubectlHint(client.target, ['get', '--raw', '/version'], { namespaced: false }),
  });
}

/** Every page of a LIST (limit + continue); the first page's resourceVersion is the snapshot's. */
export async function listAll<T>(client: KubeClient, path: string, selectors: Query, signal?: AbortSignal): Promise<{ items: T[]; resourceVersion: string }> {
  const items: T[] = [];
  let resourceVersion = '';
  let next: string | undefined;
  do {
    const page: ListObject<T> = await client.getJson<ListObject<T>>(path, { ...selectors, limit: String(LIST_PAGE_SIZE), ...(next ? { continue: next } : {}) }, signal);
    if (page === null || typeof page !== 'object') throw badAnswer(client, `a LIST of ${path} that is not an object`);
    if (resourceVersion === '') resourceVersion = typeof page.metadata?.resourceVersion === 'string' ? page.metadata.resourceVersion : '';
    // A hostile or broken server's odd items are skipped, never a crash.
    if (Array.isArray(page.items)) for (const item of page.items) if (isObject(item)) items.push(item);
    next = typeof page.metadata?.continue === 'string' && page.metadata.continue !== '' ? page.metadata.continue : undefined;
  } while (next !== undefined);
  return { items, resourceVersion };
}

export async function listWatch<T extends { metadata?: ObjectMeta }>(
  client: KubeClient,
  path: string,
  selectors: Query,
  handlers: ListWatchHandlers<T>,
  options: ListWatchOptions,
): Promise<never> {
  const { signal } = options;
  const deadline = options.deadline ?? Date.now() + 3_600_000;
  let failing = false;
  const retried = <R>(what: string, action: () => Promise<R>): Promise<R> =>
    withRetry(client, action, {
      signal,
      deadline,
      what,
      onRetry: (reason) => {
        failing = true;
        handlers.onFailing?.(new Error(reason));
        handlers.onReconnect?.(reason);
      },
    }).then((result) => {
      if (failing) {
        failing = false;
        handlers.onFailing?.(undefined);
      }
      return result;
    });

  const list = async (relisted: boolean): Promise<string> => {
    // A 410 on a continue token means the snapshot expired mid-way: start the LIST over.
    for (;;) {
      try {
        const { items, resourceVersion } = await retried(`LIST ${options.label}`, () => listAll<T>(client, path, selectors, signal));
        handlers.onList(items, relisted);
        return resourceVersion;
      } catch (error) {
        if (!(error instanceof KubeApiError && error.statusCode === 410)) throw error;
      }
    }
  };

  let resourceVersion = await list(false);
  let emptyWatches = 0;
  for (;;) {
    let expired = false;
    let reason: string;
    let delivered = 0;
    // Like client-go: a server-side timeout in [300, 600) s so idle watches are renewed.
    const timeoutSeconds = 300 + Math.floor(Math.random() * 300);
    try {
      const end = await retried(`WATCH ${options.label}`, () =>
        client.watch<T | StatusObject>(
          path,
          { ...selectors, resourceVersion, allowWatchBookmarks: 'true', timeoutSeconds: String(timeoutSeconds) },
          (event) => {
            if (!isObject(event.object)) return; // nothing to judge: skip, as a torn line is skipped
            if (event.type === 'ERROR') {
              const status = event.object as StatusObject;
              if (isExpired(status)) expired = true;
              else throw new KubeApiError(status.code ?? 500, status.reason, `watch of ${options.label} failed: ${status.message ?? 'ERROR event'}`);
              return;
            }
            const object = event.object as T;
            const version = object?.metadata?.resourceVersion;
            if (version !== undefined && version !== '') resourceVersion = version;
            if (event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED') handlers.onEvent(event.type, object);
          },
          signal,
          // Silence past the server's own timeout (bookmarks come far more often) means a dead connection.
          { idleTimeoutMs: (timeoutSeconds + 30) * 1000 },
        ),
      );
      delivered = end.events;
      reason = expired ? 'watch expired (410), re-listing' : end.ended === 'dropped' ? 'watch connection dropped, resuming' : 'watch closed by the server, resuming';
    } catch (error) {
      if (signal.aborted || error instanceof InterruptedError) throw new InterruptedError();
      if (error instanceof KubeApiError && error.statusCode === 410) {
        expired = true;
        reason = 'watch expired (410), re-listing';
      } else throw error;
    }
    if (signal.aborted) throw new InterruptedError();
    handlers.onReconnect?.(reason);
    if (delivered === 0) {
      emptyWatches++;
      if (Date.now() >= deadline) {
        throw new UnreachableError('kube.unavailable', `every WATCH of ${options.label} ended without an event (${emptyWatches} in a row)`, {
          hint: kubectlHint(client.target, ['get', '--raw', '/readyz'], { namespaced: false }),
        });
      }
      await sleep(Math.min(backoffDelay(emptyWatches, EMPTY_WATCH_BASE_MS, EMPTY_WATCH_MAX_MS), Math.max(0, deadline - Date.now())), signal);
    } else emptyWatches = 0;
    if (expired) resourceVersion = await list(true);
  }
}
