import { resolveEnvironmentName } from '../config/resolve.js';
import { gatherStatus } from '../status/gather.js';
import { renderStatus } from '../status/render.js';
import type { CommandContext } from './context.js';
import { loadProject } from './support/project.js';

const WATCH_INTERVAL_MS = 2000;

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
  show(report);
  if (!ctx.options.watch) return report.exitCode;

  // --watch: modest polling, redrawn in place only when something changed.
  let previous = JSON.stringify({ ...report, generatedAt: '' });
  while (!ctx.signal.aborted) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, WATCH_INTERVAL_MS);
      ctx.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      }, { once: true });
    });
    if (ctx.signal.aborted) break;
    report = await gather(false);
    const current = JSON.stringify({ ...report, generatedAt: '' });
    if (current === previous) continue;
    previous = current;
    if (ctx.output.mode === 'tty') ctx.output.raw('\x1b[H\x1b[2J');
    show(report);
  }
  return report.exitCode;
}
