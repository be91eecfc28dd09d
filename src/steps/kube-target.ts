import type { EnvironmentTarget } from '../config/resolve.js';
import type { KubeTarget } from '../kube/kubectl-argv.js';

type KubeSettings = NonNullable<EnvironmentTarget['kubernetes']>;

/** The connection part of an environment's kubernetes section, as the kube adapter (and its hints) take it. */
export function kubeTarget(settings: KubeSettings): KubeTarget {
  return {
    ...(settings.kubeconfig !== undefined ? { kubeconfigPath: settings.kubeconfig } : {}),
    ...(settings.context !== undefined ? { context: settings.context } : {}),
    namespace: settings.namespace,
  };
}
