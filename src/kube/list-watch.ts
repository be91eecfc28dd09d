/**
 * LIST then WATCH from the list's resourceVersion, forever (until the signal aborts), the way
 * client-go's reflector does: a watch that ends or drops resumes from the last resourceVersion
 * seen (events and bookmarks both advance it); a 410 Expired/Gone — as an ERROR event or an HTTP
 * status — re-lists. No polling: between events nothing is requested.
 */
import { InterruptedError, UnreachableError } from '../errors.js';
import { KubeApiError, type KubeClient, type Query } from './client.js';
import type { ListObject, ObjectMeta, StatusObject } from './types.js';

export interface ListWatchHandlers<T> {
  /** The full state: first list, and again after a 410. */
  onList(items: T[], relisted: boolean): void;
  onEvent(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: T): void;
  onReconnect?(reason: string): void;
}

const MAX_CONSECUTIVE_FAILURES = 5;

function isExpired(status: StatusObject): boolean {
  return status.code === 410 || status.reason === 'Expired' || status.reason === 'Gone';
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new InterruptedError());
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new InterruptedError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A connection problem worth retrying (not refused credentials). */
function isTransient(error: unknown): boolean {
  return error instanceof UnreachableError && error.code === 'kube.unreachable';
}

export async function listWatch<T extends { metadata?: ObjectMeta }>(
  client: KubeClient,
  path: string,
  selectors: Query,
  handlers: ListWatchHandlers<T>,
  signal: AbortSignal,
): Promise<never> {
  let failures = 0;
  const withRetry = async <R>(action: () => Promise<R>): Promise<R> => {
    for (;;) {
      try {
        return await action();
      } catch (error) {
        if (signal.aborted) throw new InterruptedError();
        if (!isTransient(error) || ++failures >= MAX_CONSECUTIVE_FAILURES) throw error;
        await sleep(Math.min(200 * 2 ** failures, 3000), signal);
      }
    }
  };
  const list = async (relisted: boolean): Promise<string> => {
    // The first LIST is not retried: an unreachable cluster is reported at once (exit 4).
    const fetch = (): Promise<ListObject<T>> => client.getJson<ListObject<T>>(path, selectors, signal);
    const body = relisted ? await withRetry(fetch) : await fetch();
    handlers.onList(body.items ?? [], relisted);
    return body.metadata?.resourceVersion ?? '';
  };

  let resourceVersion = await list(false);
  for (;;) {
    let expired = false;
    let received = false;
    let reason: string;
    try {
      const end = await client.watch<T | StatusObject>(
        path,
        {
          ...selectors,
          resourceVersion,
          allowWatchBookmarks: 'true',
          // Like client-go: a server-side timeout in [300, 600) s so idle watches are renewed.
          timeoutSeconds: String(300 + Math.floor(Math.random() * 300)),
        },
        (event) => {
          received = true;
          failures = 0;
          if (event.type === 'ERROR') {
            const status = event.object as StatusObject;
            if (isExpired(status)) expired = true;
            else throw new KubeApiError(status.code ?? 500, status.reason, status.message ?? 'watch error');
            return;
          }
          const object = event.object as T;
          const version = object.metadata?.resourceVersion;
          if (version !== undefined && version !== '') resourceVersion = version;
          if (event.type !== 'BOOKMARK') handlers.onEvent(event.type, object);
        },
        signal,
      );
      reason = expired ? 'watch expired (410), re-listing' : end.ended === 'dropped' ? 'watch connection dropped, resuming' : 'watch closed by the server, resuming';
    } catch (error) {
      if (signal.aborted || error instanceof InterruptedError) throw new InterruptedError();
      if (error instanceof KubeApiError && error.statusCode === 410) {
        expired = true;
        reason = 'watch expired (410), re-listing';
      } else if (isTransient(error) && ++failures < MAX_CONSECUTIVE_FAILURES) {
        reason = `watch failed (${(error as Error).message}), retrying`;
      } else throw error;
    }
    if (signal.aborted) throw new InterruptedError();
    handlers.onReconnect?.(reason);
    // A watch that ended without delivering anything is retried with backoff, never in a hot loop.
    if (!received) await sleep(Math.min(100 * 2 ** failures, 2000), signal);
    if (expired) resourceVersion = await list(true);
  }
}
