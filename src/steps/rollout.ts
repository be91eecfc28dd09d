import type { ResolvedEnvironment } from '../config/resolve.js';
import { PreflightError } from '../errors.js';
import { kubectlHint } from '../kube/kubectl-argv.js';
import { kubeTarget } from './kube-target.js';
import type { Step, SubtaskHandle } from '../pipeline/types.js';
import { formatDuration } from '../util/duration.js';

type KubeSettings = NonNullable<ResolvedEnvironment['kubernetes']>;

const FULL_SHA = /^[0-9a-f]{40}$/i;

/** The run's commit, when the environment carries a real one (read-only previews use placeholders). */
function runCommit(target: ResolvedEnvironment | KubeSettings): { settings: KubeSettings; sha?: string; projectDir?: string } {
  if ('workloads' in target) return { settings: target };
  const settings = target.kubernetes as KubeSettings;
  return FULL_SHA.test(target.sha) ? { settings, sha: target.sha.toLowerCase(), projectDir: target.projectDir } : { settings };
}

/** The shortest prefix of `sha` git considers unique in the project (a shorter image tag is ambiguous). */
async function uniquePrefixLength(projectDir: string, sha: string, signal: AbortSignal): Promise<number | undefined> {
  try {
    const { gitText } = await import('../git/run.js');
    const short = (await gitText(projectDir, ['rev-parse', '--short', sha], { signal })).trim();
    return /^[0-9a-f]{7,40}$/.test(short) ? short.length : undefined;
  } catch {
    return undefined; // not a repository, or the commit is unknown here: the default of 7 stands
  }
}

/**
 * Waits for every workload to roll out, in parallel, one subtask each with kubectl's message. Given
 * the environment of a run (with its bound SHA), a workload is done only when it also runs that
 * commit. (Given only the kubernetes settings, kubectl's semantics alone — the older call form.)
 */
export function rolloutStep(target: ResolvedEnvironment | KubeSettings, options: { createdEarlier: boolean }): Step {
  const { settings, sha, projectDir } = runCommit(target);
  const where = `${settings.context ? `context ${settings.context}, ` : ''}namespace ${settings.namespace}`;
  const plural = settings.workloads.length === 1 ? '' : 's';
  return {
    id: 'rollout',
    title: `Roll out ${settings.workloads.length} workload${plural} (${where})`,
    describe: () => [
      ...settings.workloads.map((ref) => `would wait for ${ref} in ${where}${sha ? ` to run ${sha.slice(0, 7)}` : ''}`),
      ...(sha
        ? [`the commit is read from each pod template's image tag (${sha.slice(0, 7)}… or the full SHA)${settings.revisionAnnotation ? ` or its ${settings.revisionAnnotation} annotation` : ''}`]
        : []),
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
          hint: kubectlHint(kubeTarget(settings), ['get', 'deploy,sts,ds']),
        });
      }
    },
    async run(ctx) {
      const { watchRollouts } = await import('../kube/watch-rollout.js');
      const prefix = sha !== undefined && projectDir !== undefined ? await uniquePrefixLength(projectDir, sha, ctx.signal) : undefined;
      await ctx.subtasks(settings.workloads, async (handles) => {
        const byRef = new Map<string, SubtaskHandle>(handles.map((h) => [h.title, h]));
        await watchRollouts({
          ...kubeTarget(settings),
          workloads: settings.workloads,
          timeoutMs: settings.timeoutMs,
          crashLoopGraceMs: settings.crashLoopGraceMs,
          ...(sha !== undefined ? { expectedRevision: sha } : {}),
          ...(settings.revisionAnnotation !== undefined ? { revisionAnnotation: settings.revisionAnnotation } : {}),
          ...(prefix !== undefined ? { uniquePrefixLength: prefix } : {}),
          signal: ctx.signal,
          onEvent: (event) => {
            switch (event.type) {
              case 'status': {
                const handle = byRef.get(event.workload);
                if (event.verdict.state === 'ready') handle?.succeed(event.message);
                else handle?.progress(event.message);
                ctx.log(`${event.workload}: ${event.message}`);
                break;
              }
              case 'diagnostic': {
                const text = `pod ${event.pod}${event.container ? `/${event.container}` : ''}: ${event.reason}${event.message ? ` — ${event.message}` : ''}`;
                byRef.get(event.workload)?.progress(text);
                ctx.log(`${event.workload}: ${text}`);
                break;
              }
              case 'reconnect':
                ctx.log(`${event.workload}: watch reconnected (${event.reason})`);
                break;
              case 'warning':
                ctx.warn(event.hint === undefined ? event.message : `${event.message} (${event.hint})`);
                break;
            }
          },
        });
      });
      return { summary: `${settings.workloads.length} workload${plural} rolled out${sha ? `, running ${sha.slice(0, 7)}` : ''}` };
    },
  };
}
