import { formatDuration } from '../util/duration.js';
import type { Output } from './output.js';
import type { Step, StepReport } from './types.js';

/**
 * Plain, timestamped lines for CI logs and pipes: one line per change, never a repeated line,
 * always prefixed with the step (and workload) it belongs to.
 */
export class PlainRenderer {
  private readonly last = new Map<string, string>();

  constructor(private readonly output: Output) {}

  stepStarted(step: Step): void {
    this.line(`${step.id}: ${step.title}`);
  }

  progress(step: Step, message: string, subtask?: string): void {
    const key = `${step.id}/${subtask ?? ''}`;
    if (this.last.get(key) === message) return;
    this.last.set(key, message);
    this.line(`${step.id}: ${subtask ? `${subtask}: ` : ''}${message}`);
  }

  log(step: Step, text: string): void {
    for (const line of text.replace(/\r?\n$/, '').split(/\r?\n/)) this.line(`${step.id} | ${line}`);
  }

  warn(step: Step, message: string): void {
    this.line(`${step.id}: warning: ${message}`);
  }

  stepFinished(step: Step, report: StepReport): void {
    const what = report.outcome === 'success' ? 'done' : report.outcome;
    this.line(`${step.id}: ${what} in ${formatDuration(report.durationMs)}${report.summary ? ` — ${report.summary}` : ''}`);
  }

  private line(text: string): void {
    this.output.info(`[${new Date().toISOString().slice(11, 19)}] ${text}`);
  }
}
