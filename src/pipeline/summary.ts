import { relative } from 'node:path';
import { formatDuration } from '../util/duration.js';
import type { Output } from './output.js';
import type { RunOutcome } from './runner.js';
import type { Plan, StepOutcome } from './types.js';

const MARK: Record<StepOutcome, string> = { success: '✔', failed: '✖', skipped: '○', interrupted: '■', 'not-run': '·' };

/** Per step: outcome, duration, one line and links; then what kept running and where the logs are. */
export function printSummary(output: Output, plan: Plan, outcome: RunOutcome, runDir: string): void {
  if (output.json) return;
  const c = output.chalk;
  const color = (o: StepOutcome, text: string): string =>
    o === 'success' ? c.green(text) : o === 'failed' ? c.red(text) : o === 'interrupted' ? c.yellow(text) : c.dim(text);
  const width = Math.max(...outcome.reports.map((r) => r.id.length), 7);
  output.info('');
  output.info(c.bold(`${plan.command} ${plan.environment} @ ${plan.sha.slice(0, 7)}`));
  for (const report of outcome.reports) {
    const duration = report.outcome === 'not-run' ? '' : formatDuration(report.durationMs);
    const line = `  ${color(report.outcome, MARK[report.outcome])} ${report.id.padEnd(width)} ${duration.padStart(6)}  ${report.outcome === 'not-run' ? c.dim('not run') : (report.summary ?? '')}`;
    output.info(line.trimEnd());
    for (const link of report.links) output.info(`    ${c.dim(link.label)} ${link.url}`);
    for (const warning of report.warnings) output.info(`    ${c.yellow('!')} ${warning}`);
  }
  for (const skipped of plan.skipped) output.info(`  ${c.dim(`${MARK.skipped} ${skipped.id.padEnd(width)}         skipped: ${skipped.reason}`)}`);
  for (const line of [...outcome.stillRunning, ...outcome.warnings]) output.info(`  ${c.yellow('!')} ${line}`);
  const logs = relative(process.cwd(), runDir) || runDir;
  output.info(c.dim(`  logs: ${logs.startsWith('..') ? runDir : logs}`));
}
