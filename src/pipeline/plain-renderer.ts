import { formatDuration } from '../util/duration.js';
import type { Output } from './output.js';
import { SilentView, type RunView, type ViewEvent } from './view.js';

/**
 * Plain, timestamped lines for CI logs and pipes: one line per change, never a repeated line,
 * always prefixed with the step (and workload) it belongs to.
 */
export class PlainRenderer extends SilentView implements RunView {
  private readonly last = new Map<string, string>();

  constructor(
    private readonly output: Output,
    private readonly verbose: boolean,
  ) {
    super();
  }

  override event(event: ViewEvent): void {
    switch (event.type) {
      case 'run.started':
        this.line(`${event.command} ${event.environment}: ${event.branch} @ ${event.sha.slice(0, 7)}`);
        break;
      case 'step.started':
        this.line(`${event.step}: ${event.title}`);
        break;
      case 'step.progress':
        this.progress(event.step, event.message, event.subtask);
        break;
      case 'step.subtask':
        this.progress(event.step, `${event.outcome === 'success' ? 'done' : 'failed'}${event.message ? `: ${event.message}` : ''}`, event.subtask);
        break;
      case 'step.link':
        this.progress(event.step, `${event.label}: ${event.url}`);
        break;
      case 'step.warning':
        this.line(`${event.step}: ${this.output.chalk.yellow('warning:')} ${event.message}`);
        break;
      case 'step.log':
        if (this.verbose) for (const line of event.text.replace(/\r?\n$/, '').split(/\r?\n/)) this.line(`${event.step} | ${line}`);
        break;
      case 'step.finished': {
        const c = this.output.chalk;
        const what = event.outcome === 'success' ? c.green('done') : event.outcome === 'failed' ? c.red('failed') : c.yellow(event.outcome);
        this.line(`${event.step}: ${what} in ${formatDuration(event.durationMs)}${event.summary ? ` — ${event.summary}` : ''}`);
        break;
      }
      default:
        break;
    }
  }

  private progress(step: string, message: string, subtask?: string): void {
    const key = `${step}/${subtask ?? ''}`;
    if (this.last.get(key) === message) return;
    this.last.set(key, message);
    this.line(`${step}: ${subtask ? `${subtask}: ` : ''}${message}`);
  }

  private line(text: string): void {
    this.output.info(`${this.output.chalk.dim(`[${new Date().toISOString().slice(11, 19)}]`)} ${text}`);
  }
}
