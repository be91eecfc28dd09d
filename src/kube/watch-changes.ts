/**
 * Change notifications for a status screen: one WATCH per kind per namespace (plus pods), calling
 * `onChange` whenever anything in them changes. Dropped watches reopen; nothing is polled.
 */
import { connectKube } from './client.js';
import { podsPath, workloadCollectionPath } from './resources.js';
import { backoffDelay, sleep } from './retry.js';
import { parseWorkloadRef, type WorkloadKind } from './workload-ref.js';

export interface WatchChangesOptions {
  kubeconfigPath?: string;
  context?: string;
  namespace: string;
  refs: string[];
  signal: AbortSignal;
  onChange: () => void;
  /** Pause before reopening a watch that ended; grows while watches end without events. Default 1000 ms. */
  reopenDelayMs?: number;
}

export async function watchChanges(options: WatchChangesOptions): Promise<void> {
  const client = await connectKube({ kubeconfigPath: options.kubeconfigPath, context: options.context, namespace: options.namespace });
  const kinds = new Set<WorkloadKind>();
  for (const text of options.refs) {
    const parsed = parseWorkloadRef(text);
    if (parsed.ok) kinds.add(parsed.ref.kind);
  }
  const paths = [...[...kinds].map((kind) => workloadCollectionPath(kind, options.namespace)), podsPath(options.namespace)];
  await Promise.all(paths.map((path) => watchForever(path, options, client)));
}

async function watchForever(path: string, options: WatchChangesOptions, client: Awaited<ReturnType<typeof connectKube>>): Promise<void> {
  let resourceVersion: string | undefined;
  let fruitless = 0;
  while (!options.signal.aborted) {
    let delivered = 0;
    try {
      // The first watch starts "now" (resourceVersion from a LIST would replay nothing new either).
      if (resourceVersion === undefined) {
        const list = await client.getJson<{ metadata?: { resourceVersion?: string } }>(path, { limit: '1' }, options.signal);
        resourceVersion = list.metadata?.resourceVersion;
      }
      const end = await client.watch<{ metadata?: { resourceVersion?: string } }>(
        path,
        { allowWatchBookmarks: 'true', timeoutSeconds: '300', ...(resourceVersion ? { resourceVersion } : {}) },
        (event) => {
          resourceVersion = event.object?.metadata?.resourceVersion ?? resourceVersion;
          if (event.type === 'ERROR') resourceVersion = undefined;
          else if (event.type !== 'BOOKMARK') options.onChange();
        },
        options.signal,
        { idleTimeoutMs: 330_000 },
      );
      delivered = end.events;
    } catch {
      if (options.signal.aborted) return;
      resourceVersion = undefined;
    }
    // A watch that delivered nothing (or failed) backs off, growing; one that worked reopens promptly.
    fruitless = delivered > 0 ? 0 : fruitless + 1;
    const base = options.reopenDelayMs ?? 1000;
    try {
      await sleep(fruitless === 0 ? base : backoffDelay(fruitless, base, 30_000), options.signal);
    } catch {
      return;
    }
  }
}
