import type { ResolvedEnvironment } from '../config/resolve.js';
import { PreflightError } from '../errors.js';
import { kubeTarget } from './kube-target.js';
import type { Step, SubtaskHandle } from '../pipeline/types.js';
import { formatDuration } from '../util/duration.js';

type KubeSettings = NonNullable<ResolvedEnvironment['kubernetes']>;

/** Waits for every workload to roll out, in parallel, one subtask each with kubectl's message. */
export function rolloutStep(settings: KubeSettings, options: { createdEarlier: boolean }): Step {
  const where = `${settings.context ? `context ${settings.context}, ` : ''}namespace ${settings.namespace}`;
  return {
    id: 'rollout',
    title: `Roll out ${settings.workloads.length} workload${settings.workloads.length === 1 ? '' : 's'} (${where})`,
    describe: () => [
      ...settings.workloads.map((ref) => `would wait for ${ref} in ${where}`),
      `deadline ${formatDuration(settings.timeoutMs)}; CrashLoopBackOff tolerated for ${formatDuration(settings.crashLoopGraceMs)}`,
      `kubeconfig: ${settings.kubeconfig ?? 'KUBECONFIG / ~/.kube/config'}`,
    ],
    /** The cluster answers, credentials work, and every workload exists (or a playbook will create it). */
    async preflight(signal) {
      const { listWorkloads } = await import('../kube/list-workloads.js');
      const found = await listWorkloads({
        ...kubeTarget(settings),
        refs: settings.workloads,
        signal,
      });
      const missing = found.filter((w) => !w.found).map((w) => w.ref);
      // On a first deploy the playbook creates the workloads: only their absence with nothing to create them is fatal.
      if (missing.length > 0 && !options.createdEarlier) {
        throw new PreflightError('rollout.missing-workload', `${missing.join(', ')} not found in ${where}`, {
          hint: 'check kubernetes.workloads and kubernetes.namespace in iac.yaml (`kubectl get deploy,sts,ds -n ' + settings.namespace + '`)',
        });
      }
    },
    async run(ctx) {
      const { watchRollouts } = await import('../kube/watch-rollout.js');
      await ctx.subtasks(settings.workloads, async (handles) => {
        const byRef = new Map<string, SubtaskHandle>(handles.map((h) => [h.title, h]));
        await watchRollouts({
          ...kubeTarget(settings),
          workloads: settings.workloads,
          timeoutMs: settings.timeoutMs,
          crashLoopGraceMs: settings.crashLoopGraceMs,
          signal: ctx.signal,
          onEvent: (event) => {
            const handle = byRef.get(event.workload);
            if (event.type === 'status') {
              if (event.done) handle?.succeed(event.message);
              else handle?.progress(event.message);
              ctx.log(`${event.workload}: ${event.message}`);
            } else if (event.type === 'diagnostic') {
              const text = `pod ${event.pod}${event.container ? `/${event.container}` : ''}: ${event.reason}${event.message ? ` — ${event.message}` : ''}`;
              handle?.progress(text);
              ctx.log(`${event.workload}: ${text}`);
            } else {
              ctx.log(`${event.workload}: watch reconnected (${event.reason})`);
            }
          },
        });
      });
      return { summary: `${settings.workloads.length} workload${settings.workloads.length === 1 ? '' : 's'} rolled out` };
    },
  };
}
