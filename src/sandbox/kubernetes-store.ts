/**
 * The sandbox's object store: what etcd + the watch cache are to a real API server. Every write
 * gets the next resourceVersion (one global counter, like etcd's revision), bumps
 * metadata.generation when the spec changes, applies apps/v1 defaulting, and is appended to a
 * bounded event history that watches replay from.
 */
import { randomUUID } from 'node:crypto';

export interface ResourceType {
  group: string;
  version: string;
  /** Plural, as in URLs. */
  resource: string;
  singular: string;
  kind: string;
  shortNames: string[];
  verbs: string[];
}

const READ_VERBS = ['get', 'list', 'watch'];

export const RESOURCE_TYPES: ResourceType[] = [
  { group: '', version: 'v1', resource: 'pods', singular: 'pod', kind: 'Pod', shortNames: ['po'], verbs: READ_VERBS },
  { group: '', version: 'v1', resource: 'events', singular: 'event', kind: 'Event', shortNames: ['ev'], verbs: READ_VERBS },
  { group: 'apps', version: 'v1', resource: 'deployments', singular: 'deployment', kind: 'Deployment', shortNames: ['deploy'], verbs: READ_VERBS },
  { group: 'apps', version: 'v1', resource: 'statefulsets', singular: 'statefulset', kind: 'StatefulSet', shortNames: ['sts'], verbs: READ_VERBS },
  { group: 'apps', version: 'v1', resource: 'daemonsets', singular: 'daemonset', kind: 'DaemonSet', shortNames: ['ds'], verbs: READ_VERBS },
  { group: 'apps', version: 'v1', resource: 'replicasets', singular: 'replicaset', kind: 'ReplicaSet', shortNames: ['rs'], verbs: READ_VERBS },
  {
    group: 'apps.openshift.io',
    version: 'v1',
    resource: 'deploymentconfigs',
    singular: 'deploymentconfig',
    kind: 'DeploymentConfig',
    shortNames: ['dc'],
    verbs: READ_VERBS,
  },
];

export function apiVersionOf(type: ResourceType): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}

export interface StoredMeta {
  name: string;
  namespace: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller: boolean }[];
}

export interface StoredObject {
  apiVersion?: string;
  kind?: string;
  metadata: StoredMeta;
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [field: string]: unknown;
}

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  rv: number;
  type: StoreEventType;
  resource: string;
  object: StoredObject;
}

const HISTORY_LIMIT = 20_000;

type Spec = Record<string, unknown>;
function record(value: unknown): Spec {
  return value !== null && typeof value === 'object' ? (value as Spec) : {};
}

/** kubernetes pkg/apis/apps/v1/defaults.go, the parts kubectl's status viewers depend on. */
function applyAppsDefaults(resource: string, spec: Spec): void {
  if (resource === 'deployments') {
    spec.replicas ??= 1;
    const strategy = record((spec.strategy ??= {}));
    strategy.type ??= 'RollingUpdate';
    if (strategy.type === 'RollingUpdate') {
      const rolling = record((strategy.rollingUpdate ??= {}));
      rolling.maxUnavailable ??= '25%';
      rolling.maxSurge ??= '25%';
    }
    spec.revisionHistoryLimit ??= 10;
    spec.progressDeadlineSeconds ??= 600;
  } else if (resource === 'daemonsets') {
    const strategy = record((spec.updateStrategy ??= {}));
    strategy.type ??= 'RollingUpdate';
    if (strategy.type === 'RollingUpdate') {
      const rolling = record((strategy.rollingUpdate ??= {}));
      rolling.maxUnavailable ??= 1;
      rolling.maxSurge ??= 0;
    }
    spec.revisionHistoryLimit ??= 10;
  } else if (resource === 'statefulsets') {
    spec.podManagementPolicy ??= 'OrderedReady';
    const strategy = record((spec.updateStrategy ??= {}));
    if (strategy.type === undefined || strategy.type === '') {
      strategy.type = 'RollingUpdate';
      strategy.rollingUpdate ??= {};
    }
    if (strategy.type === 'RollingUpdate' && strategy.rollingUpdate !== undefined && strategy.rollingUpdate !== null) {
      record(strategy.rollingUpdate).partition ??= 0;
    }
    spec.replicas ??= 1;
    spec.revisionHistoryLimit ??= 10;
  }
}

export class KubeStore {
  private revision = 1000;
  private readonly objects = new Map<string, Map<string, StoredObject>>();
  private readonly history: StoreEvent[] = [];
  /** Watches starting before this resourceVersion get 410 Expired (compacted history). */
  private oldestWatchableRv = 1000;
  private readonly listeners = new Set<(event: StoreEvent) => void>();

  get resourceVersion(): string {
    return String(this.revision);
  }

  get oldestResourceVersion(): number {
    return this.oldestWatchableRv;
  }

  private bucket(resource: string): Map<string, StoredObject> {
    let bucket = this.objects.get(resource);
    if (bucket === undefined) {
      bucket = new Map();
      this.objects.set(resource, bucket);
    }
    return bucket;
  }

  get(resource: string, namespace: string, name: string): StoredObject | undefined {
    return this.bucket(resource).get(`${namespace}/${name}`);
  }

  /** Sorted by namespace/name, like the real server; namespace undefined = all namespaces. */
  list(resource: string, namespace?: string): StoredObject[] {
    return [...this.bucket(resource).entries()]
      .filter(([, object]) => namespace === undefined || object.metadata.namespace === namespace)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, object]) => object);
  }

  /** Creates or replaces an object (a deep copy is stored); returns the stored object. */
  put(resource: string, input: StoredObject): StoredObject {
    const type = RESOURCE_TYPES.find((candidate) => candidate.resource === resource);
    if (type === undefined) throw new Error(`unknown resource ${resource}`);
    const object = structuredClone(input);
    const key = `${object.metadata.namespace}/${object.metadata.name}`;
    const previous = this.bucket(resource).get(key);
    object.apiVersion = apiVersionOf(type);
    object.kind = type.kind;
    if (object.spec !== undefined && type.group === 'apps') applyAppsDefaults(resource, object.spec);
    const meta = object.metadata;
    meta.uid = previous?.metadata.uid ?? meta.uid ?? randomUUID();
    meta.creationTimestamp = previous?.metadata.creationTimestamp ?? meta.creationTimestamp ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    if (object.spec !== undefined) {
      const specChanged = previous === undefined || JSON.stringify(previous.spec) !== JSON.stringify(object.spec);
      const before = previous?.metadata.generation ?? 0;
      meta.generation = specChanged ? before + 1 : before;
    }
    this.revision++;
    meta.resourceVersion = String(this.revision);
    this.bucket(resource).set(key, object);
    this.record({ rv: this.revision, type: previous === undefined ? 'ADDED' : 'MODIFIED', resource, object });
    return object;
  }

  delete(resource: string, namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    const previous = this.bucket(resource).get(key);
    if (previous === undefined) return;
    this.bucket(resource).delete(key);
    this.revision++;
    const object = structuredClone(previous);
    object.metadata.resourceVersion = String(this.revision);
    this.record({ rv: this.revision, type: 'DELETED', resource, object });
  }

  private record(event: StoreEvent): void {
    this.history.push(event);
    if (this.history.length > HISTORY_LIMIT) {
      const dropped = this.history.splice(0, this.history.length - HISTORY_LIMIT);
      this.oldestWatchableRv = (dropped[dropped.length - 1] as StoreEvent).rv;
    }
    for (const listener of this.listeners) listener(event);
  }

  /** Events after `rv`, or undefined when the history no longer reaches back that far (→ 410). */
  eventsSince(rv: number): StoreEvent[] | undefined {
    if (rv < this.oldestWatchableRv) return undefined;
    return this.history.filter((event) => event.rv > rv);
  }

  /** Forgets all history: every watch from an older resourceVersion now gets 410 Expired. */
  compact(): void {
    this.history.length = 0;
    this.oldestWatchableRv = this.revision;
  }

  subscribe(listener: (event: StoreEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
