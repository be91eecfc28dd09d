/**
 * One pod LIST + WATCH per namespace, shared by every workload watcher of a rollout, so diagnostics
 * cost two requests in all rather than two per workload. Each subscriber sees only the pods its
 * label selector matches.
 */
import type { KubeClient } from './client.js';
import { listWatch } from './list-watch.js';
import { matchesSelector, podsPath } from './resources.js';
import type { PodObject } from './types.js';

export interface PodSubscriber {
  selector: string;
  onPod(pod: PodObject): void;
  onDeleted(name: string): void;
  onError(error: unknown): void;
}

export class PodFeed {
  private readonly pods = new Map<string, PodObject>();
  private readonly subscribers = new Set<PodSubscriber>();
  private started = false;

  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
    private readonly signal: AbortSignal,
  ) {}

  subscribe(subscriber: PodSubscriber): void {
    this.subscribers.add(subscriber);
    for (const pod of this.pods.values()) if (this.matches(subscriber, pod)) subscriber.onPod(pod);
    if (this.started) return;
    this.started = true;
    listWatch<PodObject>(
      this.client,
      podsPath(this.namespace),
      {},
      {
        onList: (items) => {
          const current = new Set(items.map((pod) => pod.metadata?.name ?? ''));
          for (const [name, pod] of this.pods) if (!current.has(name)) this.remove(name, pod);
          for (const pod of items) this.update(pod);
        },
        onEvent: (type, pod) => (type === 'DELETED' ? this.remove(pod.metadata?.name ?? '', pod) : this.update(pod)),
      },
      this.signal,
    ).catch((error: unknown) => {
      for (const s of this.subscribers) s.onError(error);
    });
  }

  private update(pod: PodObject): void {
    this.pods.set(pod.metadata?.name ?? '', pod);
    for (const s of this.subscribers) if (this.matches(s, pod)) s.onPod(pod);
  }

  private remove(name: string, pod: PodObject): void {
    this.pods.delete(name);
    for (const s of this.subscribers) if (this.matches(s, pod)) s.onDeleted(name);
  }

  private matches(subscriber: PodSubscriber, pod: PodObject): boolean {
    return matchesSelector(subscriber.selector, pod.metadata?.labels);
  }
}
