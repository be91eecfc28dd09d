import { resolveEnvironmentName, resolveTarget } from '../config/resolve.js';
import { gatherStatus } from '../status/gather.js';
import type { StatusReport } from '../status/model.js';
import { renderStatus } from '../status/render.js';
import type { CommandContext } from './context.js';
import { kubeTarget } from '../steps/kube-target.js';
import { loadProject, type Project } from './support/project.js';

/** --watch: how often Jenkins and git are asked again; Kubernetes is watched, not polled. */
const POLL_INTERVAL_MS = 5000;
const KUBE_DEBOUNCE_MS = 250;

/**
 * `iac status [env]`: git divergence, last builds, workloads and their running revision, EC2
 * instances — every source asked at once; one that fails shows "unreachable" in its own cell.
 * Exit 0 all healthy, 4 a source unreachable, 40 a workload failing.
 */
export default async function status(ctx: CommandContext): Promise<number> {
  const project = await loadProject(ctx);
  const only = ctx.options.env !== undefined ? resolveEnvironmentName(project.loaded.config, ctx.options.env as string, undefined) : undefined;
  const gather = (fetch: boolean) =>
    gatherStatus({
      loaded: project.loaded,
      repo: project.repo,
      ...(only !== undefined ? { only } : {}),
      env: ctx.env,
      signal: ctx.signal,
      secret: (v) => ctx.output.redactor.add(v),
      fetch,
    });
  const width = (): number => (ctx.output.mode === 'tty' ? process.stdout.columns || 80 : 160);
  const show = (report: Awaited<ReturnType<typeof gather>>): void => {
    if (ctx.output.json) ctx.output.emit({ type: 'data', kind: 'status', data: report });
    else ctx.output.info(renderStatus(report, { width: width(), chalk: ctx.output.chalk, now: Date.now() }));
  };

  let report = await gather(true);
  if (!ctx.options.watch) {
    show(report);
    return report.exitCode;
  }

  // --watch, like `watch`: on a terminal the screen is redrawn in place on the alternate screen (the
  // scrollback keeps no copies) and the last frame stays when it ends; JSON only when something changed.
  const tty = ctx.output.mode === 'tty';
  if (tty) ctx.output.raw('\x1b[?1049h\x1b[H\x1b[2J');
  const redraw = (): void => {
    if (tty) ctx.output.raw('\x1b[H\x1b[2J');
    show(report);
  };
  redraw();
  // Kubernetes changes arrive on watches and redraw at once; Jenkins and git are polled modestly.
  let wake: (() => void) | undefined;
  let changed = false;
  const poke = (): void => {
    changed = true;
    wake?.();
  };
  for (const target of kubeTargets(project, only, ctx.env)) {
    void import('../kube/watch-changes.js')
      .then(({ watchChanges }) => watchChanges({ ...target, signal: ctx.signal, onChange: poke }))
      .catch(() => undefined); // an unreachable cluster already shows in its cell
  }
  let previous = fingerprint(report);
  try {
    while (!ctx.signal.aborted) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, changed ? KUBE_DEBOUNCE_MS : POLL_INTERVAL_MS);
        wake = () => {
          clearTimeout(timer);
          // Let a burst of watch events settle into one redraw.
          setTimeout(resolve, KUBE_DEBOUNCE_MS);
        };
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          resolve();
        }, { once: true });
      });
      wake = undefined;
      changed = false;
      if (ctx.signal.aborted) break;
      report = await gather(false);
      const current = fingerprint(report);
      if (current === previous) continue;
      previous = current;
      redraw();
    }
  } finally {
    if (tty) {
      ctx.output.raw('\x1b[?1049l');
      show(report);
    }
  }
  // Ctrl-C is how a watch ends: quietly, with the documented code for an interruption.
  return ctx.signal.aborted ? 130 : report.exitCode;
}

/** What a person would see change: the report without its timestamp, response times and whether this round fetched. */
function fingerprint(report: StatusReport): string {
  return JSON.stringify({ ...report, generatedAt: '' }, (key, value: unknown) => (key === 'durationMs' || key === 'fetched' ? undefined : value));
}

/** One target per cluster namespace the shown environments use, with all their workloads. */
function kubeTargets(project: Project, only: string | undefined, env: NodeJS.ProcessEnv): Array<{ kubeconfigPath?: string; context?: string; namespace: string; refs: string[] }> {
  const targets = new Map<string, { kubeconfigPath?: string; context?: string; namespace: string; refs: string[] }>();
  for (const name of Object.keys(project.loaded.config.environments)) {
    if (only !== undefined && name !== only) continue;
    const target = resolveTarget(project.loaded, name, { env });
    const kube = target.kubernetes;
    if (!kube || target.needs.kubernetes) continue;
    const connection = kubeTarget(kube);
    const key = JSON.stringify(connection);
    const existing = targets.get(key);
    if (existing) existing.refs.push(...kube.workloads);
    else targets.set(key, { ...connection, refs: [...kube.workloads] });
  }
  return [...targets.values()];
}
