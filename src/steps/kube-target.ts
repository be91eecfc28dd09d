import type { EnvironmentTarget } from '../config/resolve.js';

type KubeSettings = NonNullable<EnvironmentTarget['kubernetes']>;

/** The connection part of an environment's kubernetes section, as the kube adapter takes it. */
export function kubeTarget(settings: KubeSettings): { kubeconfigPath?: string; context?: string; namespace: string } {
  return {
    ...(settings.kubeconfig !== undefined ? { kubeconfigPath: settings.kubeconfig } : {}),
    ...(settings.context !== undefined ? { context: settings.context } : {}),
    namespace: settings.namespace,
  };
}
