/**
 * Every hint names the cluster iac talked to: `kubectl describe deployment api -n shop --context
 * dev-eks --kubeconfig ./kube.yaml`, built from the same target the adapter connected with, so a
 * copied hint never runs against whatever context happens to be current.
 */

/** The cluster target as configured in iac.yaml (what a hint must repeat). */
export interface KubeTarget {
  kubeconfigPath?: string;
  context?: string;
  namespace: string;
}

/** `oc` for OpenShift-only commands (DeploymentConfigs); both take the same connection flags. */
export type KubeCli = 'kubectl' | 'oc';

/**
 * The argv of a kubectl command against `target`: `args`, then `-n <ns>` (unless `namespaced` is
 * false), then `--context` and `--kubeconfig` when configured.
 */
export function kubectlArgv(target: KubeTarget, args: string[], options: { cli?: KubeCli; namespaced?: boolean } = {}): string[] {
  return [
    options.cli ?? 'kubectl',
    ...args,
    ...(options.namespaced === false ? [] : ['-n', target.namespace]),
    ...(target.context !== undefined ? ['--context', target.context] : []),
    ...(target.kubeconfigPath !== undefined ? ['--kubeconfig', target.kubeconfigPath] : []),
  ];
}

/** POSIX shell quoting for one word, only when needed. */
export function shellQuote(word: string): string {
  if (word !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The hint text: a command a user can paste into a shell. */
export function kubectlHint(target: KubeTarget, args: string[], options: { cli?: KubeCli; namespaced?: boolean } = {}): string {
  return kubectlArgv(target, args, options).map(shellQuote).join(' ');
}
