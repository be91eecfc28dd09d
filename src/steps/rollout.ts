import type { ResolvedEnvironment } from '../config/resolve.js';
import type { Step, SubtaskHandle } from '../pipeline/types.js';
import { formatDuration } from '../util/duration.js';

type KubeSettings = NonNullable<ResolvedEnvironment['kubernetes']>;

/** Waits for every workload to roll out, in parallel, one subtask each with kubectl's message. */
export function rolloutStep(settings: KubeSettings): Step {
  const where = `${settings.context ? `context ${settings.context}, ` : ''}namespace ${settings.namespace}`;
  return {
    id: 'rollout',
    title: `Roll out ${settings.workloads.length} workload${settings.workloads.length === 1 ? '' : 's'} (${where})`,
    describe: () => [
      ...settings.workloads.map((ref) => `would wait for ${ref} in ${where}`),
      `deadline ${formatDuration(settings.timeoutMs)}; CrashLoopBackOff tolerated for ${formatDuration(settings.crashLoopGraceMs)}`,
      `kubeconfig: ${settings.kubeconfig ?? 'KUBECONFIG / ~/.kube/config'}`,
    ],
    async run(ctx) {
      const { watchRollouts } = await import('../kube/watch-rollout.js');
      await ctx.subtasks(settings.workloads, async (handles) => {
        const byRef = new Map<string, SubtaskHandle>(handles.map((h) => [h.title, h]));
        await watchRollouts({
          ...(settings.kubeconfig !== undefined ? { kubeconfigPath: settings.kubeconfig } : {}),
          ...(settings.context !== undefined ? { context: settings.context } : {}),
          namespace: settings.namespace,
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
