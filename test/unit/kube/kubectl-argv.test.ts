import { describe, expect, it } from 'vitest';
import { kubectlArgv, kubectlHint, shellQuote } from '../../../src/kube/kubectl-argv.js';

describe('kubectl hints name the configured target', () => {
  it('-n always; --context and --kubeconfig only when configured', () => {
    expect(kubectlArgv({ namespace: 'shop' }, ['describe', 'deployment', 'api'])).toEqual(['kubectl', 'describe', 'deployment', 'api', '-n', 'shop']);
    expect(kubectlHint({ namespace: 'shop', context: 'dev-eks', kubeconfigPath: '/home/me/kube config' }, ['describe', 'deployment', 'api'])).toBe(
      "kubectl describe deployment api -n shop --context dev-eks --kubeconfig '/home/me/kube config'",
    );
    expect(kubectlHint({ namespace: 'shop', context: 'c' }, ['cluster-info'], { namespaced: false })).toBe('kubectl cluster-info --context c');
    expect(kubectlHint({ namespace: 'shop' }, ['rollout', 'latest', 'dc/legacy'], { cli: 'oc' })).toBe('oc rollout latest dc/legacy -n shop');
  });

  it('quotes only what a shell would misread', () => {
    expect(shellQuote('deployment/web')).toBe('deployment/web');
    expect(shellQuote('jsonpath={.spec}')).toBe("'jsonpath={.spec}'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
    expect(shellQuote('')).toBe("''");
  });
});
