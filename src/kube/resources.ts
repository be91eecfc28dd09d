/** Where each kind lives in the API, and the pod selector of a workload. */
import type { WorkloadKind } from './workload-ref.js';
import type { WorkloadObject } from './types.js';

interface KindApi {
  prefix: string;
  resource: string;
}

const KIND_API: Record<WorkloadKind, KindApi> = {
  deployment: { prefix: '/apis/apps/v1', resource: 'deployments' },
  statefulset: { prefix: '/apis/apps/v1', resource: 'statefulsets' },
  daemonset: { prefix: '/apis/apps/v1', resource: 'daemonsets' },
  deploymentconfig: { prefix: '/apis/apps.openshift.io/v1', resource: 'deploymentconfigs' },
};

const enc = encodeURIComponent;

export function workloadCollectionPath(kind: WorkloadKind, namespace: string): string {
  const api = KIND_API[kind];
  return `${api.prefix}/namespaces/${enc(namespace)}/${api.resource}`;
}

export function podsPath(namespace: string): string {
  return `/api/v1/namespaces/${enc(namespace)}/pods`;
}

export function podLogPath(namespace: string, pod: string): string {
  return `/api/v1/namespaces/${enc(namespace)}/pods/${enc(pod)}/log`;
}

export function eventsPath(namespace: string): string {
  return `/api/v1/namespaces/${enc(namespace)}/events`;
}

export function replicaSetsPath(namespace: string): string {
  return `/apis/apps/v1/namespaces/${enc(namespace)}/replicasets`;
}

/**
 * The label selector of the workload's pods as a query string (`app=web,tier=front`), or undefined
 * when it has none. DeploymentConfigs carry a plain label map; the others a LabelSelector.
 */
export function podLabelSelector(kind: WorkloadKind, object: WorkloadObject): string | undefined {
  const selector = object.spec?.selector;
  if (selector === undefined) return undefined;
  const labels: Record<string, unknown> = kind === 'deploymentconfig' ? selector : (selector.matchLabels ?? {});
  const terms = Object.entries(labels)
    .filter(([, value]) => typeof value === 'string')
    .map(([key, value]) => `${key}=${String(value)}`);
  return terms.length === 0 ? undefined : terms.join(',');
}

/** Does a pod carry every `key=value` of a selector made by {@link podLabelSelector}? */
export function matchesSelector(selector: string, labels: Record<string, string> | undefined): boolean {
  return selector.split(',').every((term) => {
    const [key, value] = term.split('=') as [string, string];
    return labels?.[key] === value;
  });
}
