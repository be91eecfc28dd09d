/**
 * Server-side printing: the meta.k8s.io/v1 Table kubectl asks for with
 * `Accept: application/json;as=Table;g=meta.k8s.io;v=v1`, with the columns and cells of kubernetes
 * pkg/printers/internalversion/printers.go (priority 1 = the extra `-o wide` columns).
 */
import type { StoredObject } from './kubernetes-store.js';

type Json = Record<string, unknown>;
type Cell = string | number;

interface Column {
  name: string;
  type: string;
  format?: string;
  description: string;
  priority?: number;
  cell: (object: StoredObject, now: number) => Cell;
}

/** apimachinery duration.HumanDuration. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  return `${Math.floor(days / 365)}y`;
}

function since(timestamp: unknown, now: number): string {
  if (typeof timestamp !== 'string' || timestamp === '') return '<unknown>';
  return humanDuration(now - Date.parse(timestamp));
}

function get(object: unknown, path: string): unknown {
  let current = object;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Json)[part];
  }
  return current;
}

function int(object: StoredObject, path: string): number {
  const value = get(object, path);
  return typeof value === 'number' ? value : 0;
}

function text(value: unknown, none = '<none>'): string {
  return typeof value === 'string' && value !== '' ? value : none;
}

function containers(object: StoredObject, path: string): { name: string; image: string }[] {
  return ((get(object, path) ?? []) as Json[]).map((c) => ({ name: String(c.name ?? ''), image: String(c.image ?? '') }));
}

function selectorText(selector: unknown): string {
  const s = (selector ?? {}) as { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };
  const parts = Object.entries(s.matchLabels ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => `${k}=${v}`);
  for (const expression of s.matchExpressions ?? []) {
    const op = expression.operator;
    if (op === 'In' || op === 'NotIn') parts.push(`${expression.key} ${op.toLowerCase()} (${(expression.values ?? []).join(',')})`);
    else parts.push(op === 'Exists' ? expression.key : `!${expression.key}`);
  }
  return parts.length === 0 ? '<none>' : parts.join(',');
}

const name: Column = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.', cell: (o) => o.metadata.name };
const age: Column = {
  name: 'Age',
  type: 'string',
  description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
  cell: (o, now) => since(o.metadata.creationTimestamp, now),
};

function wideContainers(path: string): Column[] {
  return [
    { name: 'Containers', type: 'string', priority: 1, description: 'Names of each container in the template.', cell: (o) => containers(o, path).map((c) => c.name).join(',') },
    { name: 'Images', type: 'string', priority: 1, description: 'Images referenced by each container in the template.', cell: (o) => containers(o, path).map((c) => c.image).join(',') },
  ];
}

const wideSelector: Column = { name: 'Selector', type: 'string', priority: 1, description: 'Label selector for pods.', cell: (o) => selectorText(o.spec?.selector) };

/** kubectl's pod STATUS column (printers.go printPod). */
function podStatus(pod: StoredObject): string {
  let reason = text(pod.status?.reason, '') || String(pod.status?.phase ?? 'Pending');
  let running = false;
  for (const status of ((pod.status?.containerStatuses ?? []) as Json[]).slice().reverse()) {
    const state = (status.state ?? {}) as { waiting?: { reason?: string }; terminated?: { reason?: string; exitCode?: number; signal?: number }; running?: unknown };
    if (state.waiting?.reason) reason = state.waiting.reason;
    else if (state.terminated !== undefined) {
      reason = state.terminated.reason || (state.terminated.signal ? `Signal:${state.terminated.signal}` : `ExitCode:${state.terminated.exitCode ?? 0}`);
    } else if (state.running !== undefined && status.ready === true) running = true;
  }
  if (reason === 'Completed' && running) reason = 'Running';
  if (pod.metadata.deletionTimestamp !== undefined) reason = 'Terminating';
  return reason;
}

function podReady(pod: StoredObject): string {
  const statuses = (pod.status?.containerStatuses ?? []) as Json[];
  const total = containers(pod, 'spec.containers').length;
  return `${statuses.filter((s) => s.ready === true).length}/${total}`;
}

function podRestarts(pod: StoredObject, now: number): string {
  let restarts = 0;
  let last: string | undefined;
  for (const status of (pod.status?.containerStatuses ?? []) as Json[]) {
    restarts += typeof status.restartCount === 'number' ? status.restartCount : 0;
    const finished = get(status, 'lastState.terminated.finishedAt');
    if (typeof finished === 'string' && (last === undefined || finished > last)) last = finished;
  }
  return restarts > 0 && last !== undefined ? `${restarts} (${since(last, now)} ago)` : String(restarts);
}

function servicePorts(service: StoredObject): string {
  const ports = (service.spec?.ports ?? []) as Json[];
  if (ports.length === 0) return '<none>';
  return ports.map((p) => `${String(p.port)}${p.nodePort ? `:${String(p.nodePort)}` : ''}/${String(p.protocol ?? 'TCP')}`).join(',');
}

function columnsFor(resource: string): Column[] {
  switch (resource) {
    case 'deployments':
      return [
        name,
        { name: 'Ready', type: 'string', description: 'Number of the pod with ready state', cell: (o) => `${int(o, 'status.readyReplicas')}/${int(o, 'spec.replicas')}` },
        { name: 'Up-to-date', type: 'string', description: 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.', cell: (o) => int(o, 'status.updatedReplicas') },
        { name: 'Available', type: 'string', description: 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.', cell: (o) => int(o, 'status.availableReplicas') },
        age,
        ...wideContainers('spec.template.spec.containers'),
        wideSelector,
      ];
    case 'replicasets':
      return [
        name,
        { name: 'Desired', type: 'integer', description: 'Number of desired pods.', cell: (o) => int(o, 'spec.replicas') },
        { name: 'Current', type: 'integer', description: 'Number of actual pods.', cell: (o) => int(o, 'status.replicas') },
        { name: 'Ready', type: 'integer', description: 'The number of ready replicas for this replica set.', cell: (o) => int(o, 'status.readyReplicas') },
        age,
        ...wideContainers('spec.template.spec.containers'),
        wideSelector,
      ];
    case 'statefulsets':
      return [
        name,
        { name: 'Ready', type: 'string', description: 'Number of the pod with ready state', cell: (o) => `${int(o, 'status.readyReplicas')}/${int(o, 'spec.replicas')}` },
        age,
        ...wideContainers('spec.template.spec.containers'),
      ];
    case 'daemonsets':
      return [
        name,
        { name: 'Desired', type: 'integer', description: 'The desired number of nodes that should be running the daemon pod.', cell: (o) => int(o, 'status.desiredNumberScheduled') },
        { name: 'Current', type: 'integer', description: 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.', cell: (o) => int(o, 'status.currentNumberScheduled') },
        { name: 'Ready', type: 'integer', description: 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.', cell: (o) => int(o, 'status.numberReady') },
        { name: 'Up-to-date', type: 'integer', description: 'The total number of nodes that are running updated daemon pod', cell: (o) => int(o, 'status.updatedNumberScheduled') },
        { name: 'Available', type: 'integer', description: 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available', cell: (o) => int(o, 'status.numberAvailable') },
        {
          name: 'Node Selector', type: 'string', description: 'NodeSelector is a selector which must be true for the pod to fit on a node.',
          cell: (o) => Object.entries((get(o, 'spec.template.spec.nodeSelector') ?? {}) as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(',') || '<none>',
        },
        age,
        ...wideContainers('spec.template.spec.containers'),
        wideSelector,
      ];
    case 'pods':
      return [
        name,
        { name: 'Ready', type: 'string', description: 'The aggregate readiness state of this pod for accepting traffic.', cell: podReady },
        { name: 'Status', type: 'string', description: 'The aggregate status of the containers in this pod.', cell: podStatus },
        { name: 'Restarts', type: 'string', description: 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.', cell: podRestarts },
        age,
        { name: 'IP', type: 'string', priority: 1, description: 'IP address allocated to the pod. Routable at least within the cluster.', cell: (o) => text(o.status?.podIP) },
        { name: 'Node', type: 'string', priority: 1, description: 'NodeName is a request to schedule this pod onto a specific node.', cell: (o) => text(o.spec?.nodeName) },
        { name: 'Nominated Node', type: 'string', priority: 1, description: 'nominatedNodeName is set only when this pod preempts other pods on the node.', cell: (o) => text(o.status?.nominatedNodeName) },
        { name: 'Readiness Gates', type: 'string', priority: 1, description: 'If specified, all readiness gates will be evaluated for pod readiness.', cell: () => '<none>' },
      ];
    case 'events':
      return [
        { name: 'Last Seen', type: 'string', description: 'Time when last event occurred', cell: (o, now) => since(o.lastTimestamp ?? o.eventTime, now) },
        { name: 'Type', type: 'string', description: 'Type of this event (Normal, Warning), new types could be added in the future.', cell: (o) => String(o.type ?? '') },
        { name: 'Reason', type: 'string', description: 'Why the action was taken. It is human-readable.', cell: (o) => String(o.reason ?? '') },
        { name: 'Object', type: 'string', description: 'The object that this event is about.', cell: (o) => `${String(get(o, 'involvedObject.kind') ?? '').toLowerCase()}/${String(get(o, 'involvedObject.name') ?? '')}` },
        { name: 'Subobject', type: 'string', priority: 1, description: 'The subobject (container) this event is about.', cell: (o) => String(get(o, 'involvedObject.fieldPath') ?? '') },
        { name: 'Source', type: 'string', priority: 1, description: 'The component reporting this event.', cell: (o) => [get(o, 'source.component'), get(o, 'source.host')].filter((v) => typeof v === 'string' && v !== '').join(', ') },
        { name: 'Message', type: 'string', description: 'A human-readable description of the status of this operation.', cell: (o) => String(o.message ?? '') },
        { name: 'First Seen', type: 'string', priority: 1, description: 'The time at which the event was first recorded.', cell: (o, now) => since(o.firstTimestamp, now) },
        { name: 'Count', type: 'string', priority: 1, description: 'The number of times this event has occurred.', cell: (o) => String(o.count ?? 1) },
        { name: 'Name', type: 'string', format: 'name', priority: 1, description: 'Name must be unique within a namespace.', cell: (o) => o.metadata.name },
      ];
    case 'services':
      return [
        name,
        { name: 'Type', type: 'string', description: 'The type of service.', cell: (o) => String(o.spec?.type ?? 'ClusterIP') },
        { name: 'Cluster-IP', type: 'string', description: 'The cluster IP of the service.', cell: (o) => text(o.spec?.clusterIP) },
        { name: 'External-IP', type: 'string', description: 'The external IP of the service.', cell: (o) => ((o.spec?.externalIPs ?? []) as string[]).join(',') || '<none>' },
        { name: 'Port(s)', type: 'string', description: 'The ports of the service.', cell: servicePorts },
        age,
        { name: 'Selector', type: 'string', priority: 1, description: 'Route service traffic to pods with label keys and values matching this selector.', cell: (o) => Object.entries((o.spec?.selector ?? {}) as Record<string, string>).map(([k, v]) => `${k}=${v}`).join(',') || '<none>' },
      ];
    case 'configmaps':
      return [name, { name: 'Data', type: 'integer', description: 'The number of entries in the data and binaryData.', cell: (o) => Object.keys((o.data ?? {}) as Json).length + Object.keys((o.binaryData ?? {}) as Json).length }, age];
    case 'secrets':
      return [
        name,
        { name: 'Type', type: 'string', description: 'The type of the secret.', cell: (o) => String(o.type ?? 'Opaque') },
        { name: 'Data', type: 'integer', description: 'The number of entries in the data.', cell: (o) => Object.keys((o.data ?? {}) as Json).length },
        age,
      ];
    case 'namespaces':
      return [name, { name: 'Status', type: 'string', description: 'The status of the namespace.', cell: (o) => String(o.status?.phase ?? 'Active') }, age];
    case 'leases':
      return [name, { name: 'Holder', type: 'string', description: 'The holder of the lease.', cell: (o) => String(o.spec?.holderIdentity ?? '') }, age];
    case 'controllerrevisions':
      return [
        name,
        {
          name: 'Controller', type: 'string', description: 'The controller of the revision.',
          cell: (o) => {
            const owner = o.metadata.ownerReferences?.find((r) => r.controller === true);
            return owner === undefined ? '<none>' : `${owner.kind.toLowerCase()}.${owner.apiVersion.split('/')[0]}/${owner.name}`;
          },
        },
        { name: 'Revision', type: 'integer', description: 'The revision number.', cell: (o) => Number(o.revision ?? 0) },
        age,
      ];
    default:
      return [name, age];
  }
}

/** The Table for a list (or one object, or one watch event). `includeObject`: None | Metadata (default) | Object. */
export function toTable(resource: string, items: StoredObject[], resourceVersion: string, includeObject = 'Metadata'): unknown {
  const now = Date.now();
  const columns = columnsFor(resource);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: columns.map((column) => ({
      name: column.name,
      type: column.type,
      format: column.format ?? '',
      description: column.description,
      priority: column.priority ?? 0,
    })),
    rows: items.map((object) => ({
      cells: columns.map((column) => column.cell(object, now)),
      object:
        includeObject === 'None'
          ? null
          : includeObject === 'Object'
            ? object
            : { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata },
    })),
  };
}
