/** Discovery documents (/api, /apis, /api/v1, /apis/<group>/<version>) and server-side Table printing. */
import { RESOURCE_TYPES, apiVersionOf, type ResourceType, type StoredObject } from './kubernetes-store.js';

export function servedTypes(openshift: boolean): ResourceType[] {
  return RESOURCE_TYPES.filter((type) => openshift || type.group !== 'apps.openshift.io');
}

export function apiVersions(): unknown {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }],
  };
}

function groupEntry(group: string, version: string): unknown {
  const groupVersion = `${group}/${version}`;
  return { name: group, versions: [{ groupVersion, version }], preferredVersion: { groupVersion, version } };
}

function groups(openshift: boolean): string[] {
  return [...new Set(servedTypes(openshift).map((type) => type.group))].filter((group) => group !== '');
}

export function apiGroupList(openshift: boolean): unknown {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups(openshift).map((group) => groupEntry(group, 'v1')) };
}

export function apiGroup(group: string, openshift: boolean): unknown | undefined {
  if (!groups(openshift).includes(group)) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...(groupEntry(group, 'v1') as object) };
}

/** APIResourceList for one group/version, or undefined when not served. */
export function apiResourceList(group: string, version: string, openshift: boolean): unknown | undefined {
  const types = servedTypes(openshift).filter((type) => type.group === group && type.version === version);
  if (types.length === 0) return undefined;
  const resources: unknown[] = [];
  if (group === '') {
    resources.push({ name: 'namespaces', singularName: 'namespace', namespaced: false, kind: 'Namespace', verbs: ['get', 'list'], shortNames: ['ns'] });
  }
  for (const type of types) {
    resources.push({
      name: type.resource,
      singularName: type.singular,
      namespaced: true,
      kind: type.kind,
      verbs: type.verbs,
      shortNames: type.shortNames,
      ...(type.group === 'apps' || type.resource === 'pods' ? { categories: ['all'] } : {}),
    });
    if (type.resource === 'pods') {
      resources.push({ name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(types[0] as ResourceType), resources };
}

/** kubectl's "2m5s"-style short age (k8s.io/apimachinery duration.HumanDuration, simplified). */
function age(created: string | undefined, now: number): string {
  const seconds = Math.max(0, Math.floor((now - Date.parse(created ?? '')) / 1000)) || 0;
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return `${minutes}m${seconds % 60 === 0 ? '' : `${seconds % 60}s`}`;
  if (minutes < 180) return `${minutes}m`;
  return `${Math.floor(minutes / 60)}h`;
}

interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
  cell: (object: StoredObject) => string | number;
}

function num(object: StoredObject, section: 'spec' | 'status', field: string): number {
  const value = object[section]?.[field];
  return typeof value === 'number' ? value : 0;
}

const nameColumn: Column = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description: 'Name must be unique within a namespace.',
  priority: 0,
  cell: (object) => object.metadata.name,
};

function columnsFor(resource: string): Column[] {
  switch (resource) {
    case 'deployments':
      return [
        nameColumn,
        { name: 'Ready', type: 'string', format: '', description: 'Number of the pod with ready state', priority: 0, cell: (o) => `${num(o, 'status', 'readyReplicas')}/${num(o, 'spec', 'replicas')}` },
        { name: 'Up-to-date', type: 'string', format: '', description: 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.', priority: 0, cell: (o) => num(o, 'status', 'updatedReplicas') },
        { name: 'Available', type: 'string', format: '', description: 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.', priority: 0, cell: (o) => num(o, 'status', 'availableReplicas') },
      ];
    case 'statefulsets':
      return [nameColumn, { name: 'Ready', type: 'string', format: '', description: 'Number of the pod with ready state', priority: 0, cell: (o) => `${num(o, 'status', 'readyReplicas')}/${num(o, 'spec', 'replicas')}` }];
    case 'daemonsets':
      return [
        nameColumn,
        { name: 'Desired', type: 'integer', format: '', description: 'The desired number of nodes that should be running the daemon pod.', priority: 0, cell: (o) => num(o, 'status', 'desiredNumberScheduled') },
        { name: 'Up-to-date', type: 'integer', format: '', description: 'The total number of nodes that are running updated daemon pod', priority: 0, cell: (o) => num(o, 'status', 'updatedNumberScheduled') },
        { name: 'Available', type: 'integer', format: '', description: 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available', priority: 0, cell: (o) => num(o, 'status', 'numberAvailable') },
      ];
    case 'pods':
      return [
        nameColumn,
        { name: 'Status', type: 'string', format: '', description: 'The aggregate status of the containers in this pod.', priority: 0, cell: podStatusCell },
      ];
    default:
      return [nameColumn];
  }
}

function podStatusCell(object: StoredObject): string {
  const statuses = (object.status?.containerStatuses ?? []) as { state?: { waiting?: { reason?: string } } }[];
  const waiting = statuses.find((status) => status.state?.waiting?.reason !== undefined);
  return waiting?.state?.waiting?.reason ?? String(object.status?.phase ?? 'Pending');
}

/** The meta.k8s.io/v1 Table kubectl asks for with `Accept: application/json;as=Table;...`. */
export function toTable(resource: string, items: StoredObject[], resourceVersion: string): unknown {
  const now = Date.now();
  const columns = columnsFor(resource);
  const ageColumn: Column = {
    name: 'Age',
    type: 'string',
    format: '',
    description: 'CreationTimestamp is a timestamp representing the server time when this object was created.',
    priority: 0,
    cell: (object) => age(object.metadata.creationTimestamp, now),
  };
  const all = [...columns, ageColumn];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: all.map(({ cell: _cell, ...definition }) => definition),
    rows: items.map((object) => ({
      cells: all.map((column) => column.cell(object)),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata },
    })),
  };
}
