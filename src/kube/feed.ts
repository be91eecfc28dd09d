/**
 * One LIST + WATCH per collection (a kind in a namespace), shared by every subscriber, filtered on
 * the client: 20 Deployments cost one stream, not 20, and pod diagnostics one pod stream per
 * namespace. A subscriber sees the objects its predicate matches, is told when each (re)list has
 * been applied, and gets the stream's failure if it ends for good.
 */
import type { KubeClient, Query } from './client.js';
import { listWatch } from './list-watch.js';
import type { ObjectMeta } from './types.js';

export interface FeedSubscriber<T> {
  matches(object: T): boolean;
  onObject(object: T): void;
  onDeleted(object: T): void;
  /** After the first list (`relisted` false) and after every re-list. */
  onSynced?(relisted: boolean): void;
  onReconnect?(reason: string): void;
  onError(error: unknown): void;
}

export class SharedFeed<T extends { metadata?: ObjectMeta }> {
  private readonly objects = new Map<string, T>();
  private readonly subscribers = new Set<FeedSubscriber<T>>();
  private started = false;
  private synced = false;
  private failure: Error | undefined;
  private ended: unknown;
  /** Ends the stream when the last subscriber leaves (or the wait ends). */
  private readonly controller: AbortController;

  constructor(
    private readonly client: KubeClient,
    readonly path: string,
    private readonly label: string,
    signal: AbortSignal,
    private readonly deadline: number | undefined,
    private readonly selectors: Query = {},
  ) {
    this.controller = new AbortController();
    if (signal.aborted) this.controller.abort();
    else signal.addEventListener('abort', () => this.controller.abort(), { once: true });
  }

  /** No subscriber left: the stream was closed, a new subscriber needs a new feed. */
  get stopped(): boolean {
    return this.controller.signal.aborted;
  }

  /** The error a request of this stream is failing with right now (being retried), if any. */
  get currentFailure(): Error | undefined {
    return this.failure;
  }

  subscribe(subscriber: FeedSubscriber<T>): () => void {
    this.subscribers.add(subscriber);
    if (this.ended !== undefined) subscriber.onError(this.ended);
    else if (this.synced) {
      for (const object of this.objects.values()) if (subscriber.matches(object)) subscriber.onObject(object);
      subscriber.onSynced?.(false);
    }
    this.start();
    return () => {
      this.subscribers.delete(subscriber);
      if (this.subscribers.size === 0) this.controller.abort();
    };
  }

  private start(): void {
    if (this.started) return;
    this.started = true;
    listWatch<T>(
      this.client,
      this.path,
      this.selectors,
      {
        onList: (items, relisted) => {
          const listed = new Map(items.map((item) => [item.metadata?.name ?? '', item]));
          for (const [name, object] of this.objects) {
            if (!listed.has(name)) {
              this.objects.delete(name);
              this.each(object, (s) => s.onDeleted(object));
            }
          }
          for (const [name, object] of listed) {
            this.objects.set(name, object);
            this.each(object, (s) => s.onObject(object));
          }
          this.synced = true;
          for (const s of [...this.subscribers]) s.onSynced?.(relisted);
        },
        onEvent: (type, object) => {
          const name = object.metadata?.name ?? '';
          if (type === 'DELETED') {
            this.objects.delete(name);
            this.each(object, (s) => s.onDeleted(object));
          } else {
            this.objects.set(name, object);
            this.each(object, (s) => s.onObject(object));
          }
        },
        onReconnect: (reason) => {
          for (const s of [...this.subscribers]) s.onReconnect?.(reason);
        },
        onFailing: (error) => {
          this.failure = error;
        },
      },
      { signal: this.controller.signal, label: this.label, ...(this.deadline === undefined ? {} : { deadline: this.deadline }) },
    ).catch((error: unknown) => {
      this.ended = error;
      for (const s of [...this.subscribers]) s.onError(error);
    });
  }

  private each(object: T, call: (subscriber: FeedSubscriber<T>) => void): void {
    for (const s of [...this.subscribers]) if (s.matches(object)) call(s);
  }
}

/** The feeds of one wait, by collection path: asking twice for the same collection shares it. */
export class FeedSet {
  private readonly feeds = new Map<string, SharedFeed<{ metadata?: ObjectMeta }>>();

  constructor(
    private readonly client: KubeClient,
    private readonly signal: AbortSignal,
    private readonly deadline: number | undefined,
  ) {}

  feed<T extends { metadata?: ObjectMeta }>(path: string, label: string): SharedFeed<T> {
    let feed = this.feeds.get(path);
    if (feed === undefined || feed.stopped) {
      feed = new SharedFeed(this.client, path, label, this.signal, this.deadline);
      this.feeds.set(path, feed);
    }
    return feed as unknown as SharedFeed<T>;
  }
}
