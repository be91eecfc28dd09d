import { findConfigFile, loadConfigFile } from '../config/load.js';
import { resolveEnvironmentName } from '../config/resolve.js';
import { InterruptedError, PreflightError, UsageError } from '../errors.js';
import { doctorChecks } from '../doctor/plan.js';
import { renderDoctor, summarize } from '../doctor/render.js';
import { DEFAULT_CHECK_TIMEOUT_MS, runChecks } from '../doctor/run-checks.js';
import { parseDuration } from '../util/duration.js';
import type { CommandContext } from './context.js';

/**
 * `iac doctor [env]`: every tool, credential and endpoint the configuration needs, checked at once,
 * one line each with the fix. Exit 0 when nothing required is broken, 3 otherwise.
 */
export default async function doctor(ctx: CommandContext): Promise<number> {
  const loaded = await loadConfigFile(findConfigFile(ctx.cwd, ctx.options.config), ctx.cwd);
  const only = ctx.options.env !== undefined ? resolveEnvironmentName(loaded.config, ctx.options.env as string, undefined) : undefined;
  const timeoutMs = checkTimeout(ctx.options.checkTimeout as string | undefined);
  const specs = doctorChecks({
    loaded,
    ...(only !== undefined ? { only } : {}),
    env: ctx.env,
    signal: ctx.signal,
    timeoutMs,
    secret: (value) => ctx.output.redactor.add(value),
  });
  const results = await runChecks(specs, { signal: ctx.signal, timeoutMs });
  if (ctx.signal.aborted) throw new InterruptedError();

  const summary = summarize(results);
  if (ctx.output.json) {
    ctx.output.emit({ type: 'data', kind: 'doctor', data: { checks: results, summary } });
  } else {
    const branches = Object.fromEntries(Object.entries(loaded.config.environments).map(([name, env]) => [name, env.branch]));
    for (const line of renderDoctor(results, { chalk: ctx.output.chalk, branches })) ctx.output.info(line);
  }
  const failed = results.filter((r) => r.severity === 'error');
  if (failed.length > 0) {
    const names = failed.map((r) => (r.env !== undefined ? `${r.label} (${r.env})` : r.label));
    throw new PreflightError('doctor.failed', `${failed.length} of ${results.length} checks failed: ${names.join(', ')}`, {
      hint: 'apply the fix shown on each ✗ line, then run `iac doctor` again',
    });
  }
  return 0;
}

/** --check-timeout (or IAC_DOCTOR_TIMEOUT): each check's own deadline (default 10s). */
function checkTimeout(text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULT_CHECK_TIMEOUT_MS;
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) throw new UsageError('usage.doctor-timeout', `--check-timeout ${text}: expected a duration such as 5s or 1m`);
  return ms;
}
