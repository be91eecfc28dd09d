/**
 * The sandbox's object store: what etcd + the watch cache are to a real API server. Every write
 * gets the next resourceVersion (one global counter, like etcd's revision), bumps
 * metadata.generation when the spec changes, applies apps/v1 defaulting, and is appended to a
 * bounded event history that watches replay from. Namespaced objects bring their namespace into
 * existence (the sandbox has no admission chain that would refuse them).
 */
import { randomUUID } from 'node:crypto';

export interface SubresourceType {
  name: string;
  kind: string;
  group?: string;
  version?: string;
  verbs: string[];
}

export interface ResourceType {
  group: string;
  version: string;
  /** Plural, as in URLs. */
  resource: string;
  singular: string;
  kind: string;
  shortNames: string[];
  verbs: string[];
  namespaced: boolean;
  categories?: string[];
  subresources?: SubresourceType[];
  /** PUT without metadata.resourceVersion is refused (422), as for Leases. */
  requiresResourceVersionOnUpdate?: boolean;
  /** Only creatable (reviews): never stored. */
  virtual?: boolean;
}

const READ = ['get', 'list', 'watch'];
const WRITE = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS: SubresourceType = { name: 'status', kind: '', verbs: ['get', 'patch', 'update'] };
const SCALE: SubresourceType = { name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] };

function status(kind: string): SubresourceType {
  return { ...STATUS, kind };
}

export const RESOURCE_TYPES: ResourceType[] = [
  {
    group: '', version: 'v1', resource: 'pods', singular: 'pod', kind: 'Pod', shortNames: ['po'], verbs: WRITE, namespaced: true, categories: ['all'],
    subresources: [{ name: 'log', kind: 'Pod', verbs: ['get'] }, status('Pod')],
  },
  { group: '', version: 'v1', resource: 'events', singular: 'event', kind: 'Event', shortNames: ['ev'], verbs: WRITE, namespaced: true },
  { group: '', version: 'v1', resource: 'services', singular: 'service', kind: 'Service', shortNames: ['svc'], verbs: WRITE, namespaced: true, categories: ['all'], subresources: [status('Service')] },
  { group: '', version: 'v1', resource: 'configmaps', singular: 'configmap', kind: 'ConfigMap', shortNames: ['cm'], verbs: WRITE, namespaced: true },
  { group: '', version: 'v1', resource: 'secrets', singular: 'secret', kind: 'Secret', shortNames: [], verbs: WRITE, namespaced: true },
  { group: '', version: 'v1', resource: 'namespaces', singular: 'namespace', kind: 'Namespace', shortNames: ['ns'], verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], namespaced: false, subresources: [status('Namespace')] },
  {
    group: 'apps', version: 'v1', resource: 'deployments', singular: 'deployment', kind: 'Deployment', shortNames: ['deploy'], verbs: WRITE, namespaced: true, categories: ['all'],
    subresources: [SCALE, status('Deployment')],
  },
  {
    group: 'apps', version: 'v1', resource: 'statefulsets', singular: 'statefulset', kind: 'StatefulSet', shortNames: ['sts'], verbs: WRITE, namespaced: true, categories: ['all'],
    subresources: [SCALE, status('StatefulSet')],
  },
  { group: 'apps', version: 'v1', resource: 'daemonsets', singular: 'daemonset', kind: 'DaemonSet', shortNames: ['ds'], verbs: WRITE, namespaced: true, categories: ['all'], subresources: [status('DaemonSet')] },
  {
    group: 'apps', version: 'v1', resource: 'replicasets', singular: 'replicaset', kind: 'ReplicaSet', shortNames: ['rs'], verbs: WRITE, namespaced: true, categories: ['all'],
    subresources: [SCALE, status('ReplicaSet')],
  },
  { group: 'apps', version: 'v1', resource: 'controllerrevisions', singular: 'controllerrevision', kind: 'ControllerRevision', shortNames: [], verbs: WRITE, namespaced: true },
  {
    group: 'coordination.k8s.io', version: 'v1', resource: 'leases', singular: 'lease', kind: 'Lease', shortNames: [], verbs: WRITE, namespaced: true,
    requiresResourceVersionOnUpdate: true,
  },
  { group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectaccessreviews', singular: 'selfsubjectaccessreview', kind: 'SelfSubjectAccessReview', shortNames: [], verbs: ['create'], namespaced: false, virtual: true },
  { group: 'authorization.k8s.io', version: 'v1', resource: 'selfsubjectrulesreviews', singular: 'selfsubjectrulesreview', kind: 'SelfSubjectRulesReview', shortNames: [], verbs: ['create'], namespaced: false, virtual: true },
  {
    group: 'apps.openshift.io', version: 'v1', resource: 'deploymentconfigs', singular: 'deploymentconfig', kind: 'DeploymentConfig', shortNames: ['dc'], verbs: READ, namespaced: true,
    categories: ['all'],
  },
];

export function apiVersionOf(type: ResourceType): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}

export function resourceType(resource: string): ResourceType | undefined {
  return RESOURCE_TYPES.find((candidate) => candidate.resource === resource);
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface StoredMeta {
  name: string;
  /** `''` for cluster-scoped objects. */
  namespace: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  [field: string]: unknown;
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

export function nowIso(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/** `:latest` or no tag: Always; a tag or digest: IfNotPresent. */
function pullPolicy(image: string): string {
  if (image.includes('@')) return 'IfNotPresent';
  const last = image.slice(image.lastIndexOf('/') + 1);
  const colon = last.lastIndexOf(':');
  return colon < 0 || last.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

/** kubernetes pkg/apis/core/v1/defaults.go for a pod spec (what every `get -o yaml` shows). */
export function applyPodSpecDefaults(spec: Spec): void {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  for (const list of ['initContainers', 'containers']) {
    for (const container of (Array.isArray(spec[list]) ? spec[list] : []) as Spec[]) {
      container.terminationMessagePath ??= '/dev/termination-log';
      container.terminationMessagePolicy ??= 'File';
      container.imagePullPolicy ??= pullPolicy(String(container.image ?? ''));
      container.resources ??= {};
      for (const port of (Array.isArray(container.ports) ? container.ports : []) as Spec[]) port.protocol ??= 'TCP';
    }
  }
}

/** kubernetes pkg/apis/apps/v1/defaults.go, the parts kubectl's status viewers depend on. */
function applyAppsDefaults(resource: string, spec: Spec): void {
  const template = record(spec.template);
  if (spec.template !== undefined) {
    const meta = record((template.metadata ??= {}));
    meta.creationTimestamp ??= null;
    applyPodSpecDefaults(record((template.spec ??= {})));
  }
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
  } else if (resource === 'replicasets') {
    spec.replicas ??= 1;
  }
}

/** Core v1 defaulting that shows in every `get -o yaml` and that clients rely on. */
function applyCoreDefaults(resource: string, object: StoredObject): void {
  if (resource === 'services') {
    const spec = (object.spec ??= {});
    spec.type ??= 'ClusterIP';
    spec.sessionAffinity ??= 'None';
    for (const port of (spec.ports ?? []) as Spec[]) {
      port.protocol ??= 'TCP';
      port.targetPort ??= port.port;
    }
  } else if (resource === 'secrets') {
    object.type ??= 'Opaque';
  } else if (resource === 'namespaces') {
    object.spec ??= { finalizers: ['kubernetes'] };
    object.status ??= { phase: 'Active' };
  }
}

/** The store's key for one object. */
export function objectKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
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
    return this.bucket(resource).get(objectKey(namespace, name));
  }

  /** Sorted by namespace/name, like the real server; namespace undefined = all namespaces. */
  list(resource: string, namespace?: string): StoredObject[] {
    return [...this.bucket(resource).entries()]
      .filter(([, object]) => namespace === undefined || object.metadata.namespace === namespace)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, object]) => object);
  }

  /**
   * What `put` would store, without storing it (dry-run): defaulting, uid, generation and
   * creationTimestamp applied; resourceVersion left as the current one.
   */
  prepare(resource: string, input: StoredObject): StoredObject {
    const type = resourceType(resource);
    if (type === undefined) throw new Error(`unknown resource ${resource}`);
    const object = structuredClone(input);
    const previous = this.get(resource, object.metadata.namespace, object.metadata.name);
    object.apiVersion = apiVersionOf(type);
    object.kind = type.kind;
    if (object.spec !== undefined && type.group === 'apps') applyAppsDefaults(resource, object.spec);
    if (type.group === '') applyCoreDefaults(resource, object);
    const meta = object.metadata;
    meta.uid = previous?.metadata.uid ?? meta.uid ?? randomUUID();
    meta.creationTimestamp = previous?.metadata.creationTimestamp ?? meta.creationTimestamp ?? nowIso();
    // Only objects whose controllers report status.observedGeneration carry a generation.
    if (object.spec !== undefined && (type.group === 'apps' || type.group === 'apps.openshift.io')) {
      const specChanged = previous === undefined || JSON.stringify(previous.spec) !== JSON.stringify(object.spec);
      const before = previous?.metadata.generation ?? 0;
      meta.generation = specChanged ? before + 1 : before;
    }
    meta.resourceVersion = previous?.metadata.resourceVersion ?? this.resourceVersion;
    return object;
  }

  /** Creates or replaces an object (a deep copy is stored); returns the stored object. */
  put(resource: string, input: StoredObject): StoredObject {
    const object = this.prepare(resource, input);
    const type = resourceType(resource) as ResourceType;
    if (type.namespaced && object.metadata.namespace !== '' && this.get('namespaces', '', object.metadata.namespace) === undefined) {
      this.put('namespaces', { metadata: { name: object.metadata.namespace, namespace: '' } });
    }
    const key = objectKey(object.metadata.namespace, object.metadata.name);
    const previous = this.bucket(resource).get(key);
    this.revision++;
    object.metadata.resourceVersion = String(this.revision);
    this.bucket(resource).set(key, object);
    this.record({ rv: this.revision, type: previous === undefined ? 'ADDED' : 'MODIFIED', resource, object });
    return object;
  }

  delete(resource: string, namespace: string, name: string): StoredObject | undefined {
    const key = objectKey(namespace, name);
    const previous = this.bucket(resource).get(key);
    if (previous === undefined) return undefined;
    this.bucket(resource).delete(key);
    this.revision++;
    const object = structuredClone(previous);
    object.metadata.resourceVersion = String(this.revision);
    this.record({ rv: this.revision, type: 'DELETED', resource, object });
    return object;
  }

  private record(event: StoreEvent): void {
    this.history.push(event);
    if (this.history.length > HISTORY_LIMIT) {
      const dropped = this.history.splice(0, this.history.length - HISTORY_LIMIT);
      this.oldestWatchableRv = (dropped[dropped.length - 1] as StoreEvent).rv;
    }
    for (const listener of [...this.listeners]) listener(event);
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
