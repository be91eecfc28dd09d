import type { EnvironmentTarget } from '../../config/resolve.js';
import { selectSteps } from '../../steps/select.js';
import type { CommandContext } from '../context.js';

export interface EarlyCheck {
  /** Settles as the check does; the plan's Ansible step waits for it instead of checking again. */
  readonly done: Promise<void>;
  /** The run stopped before its preflight: stop the check (and its ansible-playbook) too. */
  cancel(): void;
}

/**
 * `ansible-playbook --syntax-check` of the run's commit, started the moment the commit is bound: it is
 * the slowest preflight check (Ansible's start-up, ~0.6 s) and the push waits for it, so it runs while
 * the plan's modules load instead of after. Nothing when the run has no Ansible step.
 */
export function startAnsibleCheck(ctx: CommandContext, target: EnvironmentTarget, sha: string): EarlyCheck | undefined {
  const settings = target.ansible;
  let selected;
  try {
    selected = selectSteps(ctx.options.only, ctx.options.skip);
  } catch {
    return undefined; // the plan reports the flag's problem
  }
  if (settings === undefined || !selected.has('ansible')) return undefined;
  const stop = new AbortController();
  const signal = AbortSignal.any([ctx.signal, stop.signal]);
  // Ansible itself starts first (unless the cache will answer): its import then overlaps the key's reading.
  // Whatever the check's outcome (a cache hit included), the one started ahead is not needed after it.
  const done = import('../../ansible/warm-start.js').then(async ({ releaseWarmPlaybook, warmStartPlaybook }) => {
    if (!signal.aborted) warmStartPlaybook(target.projectDir, sha);
    try {
      const { checkPlaybook } = await import('../../ansible/preflight.js');
      await checkPlaybook({ cwd: target.projectDir, playbook: settings.playbook, inventory: settings.inventory, sha, signal });
    } finally {
      releaseWarmPlaybook();
    }
  });
  done.catch(() => undefined);
  return { done, cancel: () => stop.abort() };
}
