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
  // Warnings are sentences: on a terminal they wrap at its width instead of running past it.
  const columns = output.mode === 'tty' ? process.stdout.columns || 80 : Infinity;
  const note = (indent: string, text: string): void => {
    for (const [i, line] of wrap(text, columns - indent.length - 2).entries()) output.info(`${indent}${i === 0 ? c.yellow('!') : ' '} ${line}`);
  };
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
    for (const warning of report.warnings) note('    ', warning);
  }
  for (const skipped of plan.skipped) output.info(`  ${c.dim(`${MARK.skipped} ${skipped.id.padEnd(width)}         skipped: ${skipped.reason}`)}`);
  for (const line of [...outcome.stillRunning, ...outcome.warnings]) note('  ', line);
  const logs = relative(process.cwd(), runDir) || runDir;
  output.info(c.dim(`  logs: ${logs.startsWith('..') ? runDir : logs}`));
}

/** Words of `text` in lines of at most `width` characters (a longer word gets a line of its own). */
export function wrap(text: string, width: number): string[] {
  if (!Number.isFinite(width) || [...text].length <= width) return [text];
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && [...line].length + 1 + [...word].length > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}
