import type { EnvironmentTarget } from '../config/resolve.js';
import type { LeaseStore } from './lease.js';

/** The Kubernetes Lease's name for an environment. */
export function leaseName(environment: string): string {
  return `iac-${environment.toLowerCase().replace(/[^a-z0-9.-]+/g, '-')}`.slice(0, 63).replace(/[-.]+$/, '');
}

/**
 * Where an environment's lease lives: a Lease in its namespace when it has a usable cluster section,
 * else a ref on the git remote. Every run and `status`/`unlock` pick the same place for the same
 * iac.yaml. The Kubernetes client loads only here.
 */
export async function leaseStoreFor(target: EnvironmentTarget): Promise<LeaseStore> {
  const kube = target.kubernetes;
  if (kube && target.needs.kubernetes === undefined) {
    const [{ connectKube }, { KubeLeaseStore }] = await Promise.all([import('../kube/client.js'), import('./kube-lease.js')]);
    const client = await connectKube({
      ...(kube.kubeconfig !== undefined ? { kubeconfigPath: kube.kubeconfig } : {}),
      ...(kube.context !== undefined ? { context: kube.context } : {}),
      namespace: kube.namespace,
    });
    return new KubeLeaseStore(client, kube.namespace, leaseName(target.name));
  }
  const { GitLeaseStore } = await import('./git-lease.js');
  return new GitLeaseStore(target.projectDir, target.remote, target.name);
}
