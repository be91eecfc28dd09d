/**
 * `deployment/web` → { kind, name }. Kept free of heavy imports: the config loader validates
 * workload references with it before anything talks to a cluster.
 */
import { nearest } from '../util/suggest.js';

export const WORKLOAD_KINDS = ['deployment', 'statefulset', 'daemonset', 'deploymentconfig'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export interface WorkloadRef {
  kind: WorkloadKind;
  name: string;
}

/** kubectl's names for each kind: singular, plural, short name, and the `kind.group` spellings. */
const ALIASES: Record<string, WorkloadKind> = {
  deployment: 'deployment',
  deployments: 'deployment',
  deploy: 'deployment',
  'deployment.apps': 'deployment',
  'deployments.apps': 'deployment',
  statefulset: 'statefulset',
  statefulsets: 'statefulset',
  sts: 'statefulset',
  'statefulset.apps': 'statefulset',
  'statefulsets.apps': 'statefulset',
  daemonset: 'daemonset',
  daemonsets: 'daemonset',
  ds: 'daemonset',
  'daemonset.apps': 'daemonset',
  'daemonsets.apps': 'daemonset',
  deploymentconfig: 'deploymentconfig',
  deploymentconfigs: 'deploymentconfig',
  dc: 'deploymentconfig',
  'deploymentconfig.apps.openshift.io': 'deploymentconfig',
  'deploymentconfigs.apps.openshift.io': 'deploymentconfig',
};

/** DNS-1123 subdomain: what Kubernetes accepts as a workload name. */
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

export type WorkloadRefResult = { ok: true; ref: WorkloadRef } | { ok: false; error: string; suggestion?: string };

/** Parses `kind/name` (kind case-insensitive, any kubectl alias); never throws. */
export function parseWorkloadRef(text: string): WorkloadRefResult {
  const slash = text.indexOf('/');
  if (slash <= 0 || slash === text.length - 1 || text.indexOf('/', slash + 1) !== -1) {
    return { ok: false, error: `"${text}" is not a workload reference: expected <kind>/<name>, e.g. deployment/web` };
  }
  const kindText = text.slice(0, slash).toLowerCase();
  const name = text.slice(slash + 1);
  const kind = ALIASES[kindText];
  if (kind === undefined) {
    const guess = nearest(kindText, Object.keys(ALIASES));
    const suggestion = guess === undefined ? undefined : `${ALIASES[guess]}/${name}`;
    return {
      ok: false,
      error:
        `unknown workload kind "${kindText}" in "${text}" (supported: ${WORKLOAD_KINDS.join(', ')})` +
        (suggestion === undefined ? '' : `; did you mean "${suggestion}"?`),
      ...(suggestion === undefined ? {} : { suggestion }),
    };
  }
  if (name.length > 253 || !NAME.test(name)) {
    return { ok: false, error: `"${name}" in "${text}" is not a valid Kubernetes name (lower-case letters, digits, "-", ".")` };
  }
  return { ok: true, ref: { kind, name } };
}

/** The canonical spelling, e.g. `deployment/web`. */
export function formatWorkloadRef(ref: WorkloadRef): string {
  return `${ref.kind}/${ref.name}`;
}
