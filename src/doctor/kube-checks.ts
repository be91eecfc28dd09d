/**
 * kubernetes: the kubeconfig loads, the context exists, the namespace is there, and for each kind of
 * workload we may LIST and WATCH (what a rollout needs), and each workload exists. RBAC is probed
 * with the requests themselves (a LIST with limit=1, a WATCH closed at its first event), which works
 * on any cluster and on the sandbox alike.
 */
import type { EnvironmentTarget } from '../config/resolve.js';
import { isIacError } from '../errors.js';
import type { KubeClient } from '../kube/client.js';
import { kubectlHint } from '../kube/kubectl-argv.js';
import type { WorkloadObject } from '../kube/types.js';
import { parseWorkloadRef, type WorkloadKind, type WorkloadRef } from '../kube/workload-ref.js';
import { fail, pass, settle, warn, type CheckSpec } from './types.js';

type KubeSettings = NonNullable<EnvironmentTarget['kubernetes']>;

/** Ends a probing watch as soon as it proves the WATCH was allowed. */
class WatchAllowed extends Error {}

export function kubeChecks(envName: string, settings: KubeSettings): CheckSpec[] {
  const file = settings.kubeconfig ?? '$KUBECONFIG or ~/.kube/config';
  const path = settings.kubeconfig !== undefined ? { kubeconfigPath: settings.kubeconfig } : {};
  const loaded = settle(async () => (await import('../kube/client.js')).connectKube(path));
  const connected = settle(async () =>
    (await import('../kube/client.js')).connectKube({ ...path, ...(settings.context !== undefined ? { context: settings.context } : {}), namespace: settings.namespace }),
  );
  const client = async (): Promise<KubeClient> => {
    const c = await connected();
    if (!c.ok) throw c.error;
    return c.value;
  };
  const ns = settings.namespace;
  const target = {
    ...(settings.kubeconfig !== undefined ? { kubeconfigPath: settings.kubeconfig } : {}),
    ...(settings.context !== undefined ? { context: settings.context } : {}),
    namespace: ns,
  };

  const kubeconfig: CheckSpec = {
    id: 'kube.kubeconfig',
    env: envName,
    label: 'kubeconfig',
    hint: kubectlHint(target, ['config', 'view'], { namespaced: false }),
    async run() {
      const result = await loaded();
      // Only a file that cannot be read or parsed fails here; context problems are the next check's.
      if (!result.ok && isIacError(result.error) && result.error.code === 'kube.kubeconfig') throw result.error;
      return pass(`${file} loads`);
    },
  };
  const context: CheckSpec = {
    id: 'kube.context',
    env: envName,
    label: 'kube context',
    requires: [kubeconfig],
    hint: kubectlHint(target, ['config', 'get-contexts'], { namespaced: false }),
    async run() {
      const c = await client();
      return pass(`${c.context} → ${c.server.replace(/\/\/[^/@]*@/, '//')}`);
    },
  };
  const namespace: CheckSpec = {
    id: 'kube.namespace',
    env: envName,
    label: 'kube namespace',
    requires: [context],
    async run(signal) {
      const c = await client();
      try {
        await c.getJson(`/api/v1/namespaces/${encodeURIComponent(ns)}`, {}, signal);
        return pass(`${ns} exists`);
      } catch (error) {
        if (statusOf(error) === 404) return fail(`namespace ${ns} does not exist in ${c.context}`, `${kubectlHint(target, ['create', 'namespace', ns], { namespaced: false })}   (or fix kubernetes.namespace in iac.yaml)`);
        // Many users may not read Namespace objects; the workload checks below still tell.
        if (isIacError(error) && error.code === 'kube.forbidden') return warn(`cannot read namespace ${ns} (forbidden); access is checked per workload kind below`);
        throw error;
      }
    },
  };

  const refs = settings.workloads.map((text) => ({ text, parsed: parseWorkloadRef(text) }));
  const kinds = [...new Set(refs.flatMap(({ parsed }) => (parsed.ok ? [parsed.ref.kind] : [])))];
  const access = kinds.map((kind): CheckSpec => ({
    id: `kube.access.${kind}`,
    env: envName,
    label: `kube ${kind} access`,
    requires: [namespace],
    hint: kubectlHint(target, ['auth', 'can-i', 'watch', `${kind}s`]),
    run: async (signal) => {
      await listAndWatch(await client(), kind, ns, signal);
      return pass(`may list and watch ${kind}s in ${ns}`);
    },
  }));
  const workloads = refs.map(({ text, parsed }): CheckSpec => ({
    id: `kube.workload.${text}`,
    env: envName,
    label: text,
    requires: [namespace],
    run: async (signal) => {
      if (!parsed.ok) return fail(parsed.error, 'fix kubernetes.workloads in iac.yaml');
      return workloadExists(await client(), parsed.ref, text, ns, signal, kubectlHint(target, ['get', `${parsed.ref.kind}s`]));
    },
  }));
  return [kubeconfig, context, namespace, ...access, ...workloads];
}

function statusOf(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

async function listAndWatch(client: KubeClient, kind: WorkloadKind, ns: string, signal: AbortSignal): Promise<void> {
  const { workloadCollectionPath } = await import('../kube/resources.js');
  const collection = workloadCollectionPath(kind, ns);
  await client.getJson(collection, { limit: '1' }, signal);
  // Without a resourceVersion the server replays existing objects as ADDED at once: the first one
  // proves the WATCH was accepted; an empty collection ends by itself after timeoutSeconds.
  try {
    await client.watch<WorkloadObject>(collection, { timeoutSeconds: '1' }, (event) => {
      if (event.type === 'ERROR') throw new Error(`the watch of ${kind}s in ${ns} failed: ${JSON.stringify(event.object).slice(0, 200)}`);
      throw new WatchAllowed();
    }, signal);
  } catch (error) {
    if (!(error instanceof WatchAllowed)) throw error;
  }
}

async function workloadExists(client: KubeClient, ref: WorkloadRef, text: string, ns: string, signal: AbortSignal, hint: string) {
  const { workloadCollectionPath } = await import('../kube/resources.js');
  try {
    const object = await client.getJson<WorkloadObject>(`${workloadCollectionPath(ref.kind, ns)}/${encodeURIComponent(ref.name)}`, {}, signal);
    const ready = ref.kind === 'daemonset' ? object.status?.numberReady : object.status?.readyReplicas;
    const desired = ref.kind === 'daemonset' ? object.status?.desiredNumberScheduled : object.spec?.replicas;
    return pass(`exists in ${ns}${desired !== undefined ? ` (${ready ?? 0}/${desired} ready)` : ''}`);
  } catch (error) {
    if (statusOf(error) !== 404) throw error;
    return fail(`${text} not found in namespace ${ns}`, `${hint}   (or fix kubernetes.workloads in iac.yaml)`);
  }
}
