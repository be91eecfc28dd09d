import { Chalk, type ChalkInstance } from 'chalk';
import type { Writable } from 'node:stream';
import { isIacError } from '../errors.js';
import type { Redactor } from '../util/redact.js';
import { sanitizeTerminalText } from '../util/terminal-text.js';
import type { EventSink, PipelineEvent } from './events.js';

export type OutputMode = 'tty' | 'plain' | 'json';

export interface OutputOptions {
  mode: OutputMode;
  color: boolean;
  redactor: Redactor;
  stdout?: Writable;
  stderr?: Writable;
  /** Extra sink that sees every event but full-output lines (the run's events.ndjson). */
  record?: EventSink;
  verbose?: boolean;
}

/**
 * The one place that writes to the terminal. Everything passes through the redactor first, so a
 * secret that reached a message, a console line or an event is masked before anyone sees it.
 */
export class Output {
  readonly mode: OutputMode;
  readonly chalk: ChalkInstance;
  readonly redactor: Redactor;
  readonly verbose: boolean;
  private readonly stdout: Writable;
  private readonly stderr: Writable;
  private record: EventSink | undefined;

  constructor(options: OutputOptions) {
    this.mode = options.mode;
    this.chalk = new Chalk({ level: options.color && options.mode !== 'json' ? 1 : 0 });
    this.redactor = options.redactor;
    this.verbose = options.verbose ?? false;
    this.stdout = options.stdout ?? process.stdout;
    this.stderr = options.stderr ?? process.stderr;
    this.record = options.record;
  }

  /** Also send every event to `sink` (the run directory's events.ndjson). */
  recordTo(sink: EventSink | undefined): void {
    this.record = sink;
  }

  get json(): boolean {
    return this.mode === 'json';
  }

  /** Emits a structured event: a JSON line in --json mode, and always to the run record. */
  emit(event: PipelineEvent): void {
    const line = this.redactor.redact(JSON.stringify({ ...event, time: new Date().toISOString() }));
    // The run record keeps events, not full output: console and playbook output have their own files.
    if (this.record && event.type !== 'step.log') this.record(JSON.parse(line) as PipelineEvent);
    if (this.mode === 'json') this.stdout.write(`${line}\n`);
  }

  /** A line for people (stdout); in --json mode it becomes a `message` event. */
  info(text: string): void {
    if (this.mode === 'json') this.emit({ type: 'message', level: 'info', text });
    else this.stdout.write(`${this.redactor.redact(text)}\n`);
  }

  warn(text: string): void {
    if (this.mode === 'json') this.emit({ type: 'message', level: 'warn', text });
    else this.stderr.write(`${this.chalk.yellow('!')} ${this.redactor.redact(text)}\n`);
  }

  /** Raw redacted text to stdout (used by commands whose stdout is data, e.g. `iac inventory`). */
  raw(text: string): void {
    this.stdout.write(this.redactor.redact(text));
  }

  /** One-line message, the failing part, and the next command to run. */
  error(error: unknown): void {
    // Messages and details may quote servers (a console tail, a pod's message): no control sequences.
    const plain = (text: string): string => sanitizeTerminalText(text, { color: false });
    const message = plain(error instanceof Error ? error.message : String(error));
    const lines = [`${this.chalk.red('✗')} ${message}`];
    if (isIacError(error)) {
      for (const detail of error.details) lines.push(`  ${plain(detail)}`);
      if (error.hint) lines.push(`  ${this.chalk.cyan('hint:')} ${error.hint}`);
    } else if (error instanceof Error && error.stack) {
      lines.push(this.chalk.dim(error.stack.split('\n').slice(1, 4).join('\n')));
      lines.push(`  ${this.chalk.cyan('hint:')} this is a bug in iac; please report it with the command you ran and this output`);
    }
    this.stderr.write(`${this.redactor.redact(lines.join('\n'))}\n`);
  }
}

/** Decides colour the way users expect: --no-color and NO_COLOR win, FORCE_COLOR forces, else a TTY. */
export function colorEnabled(options: { noColor?: boolean; env: NodeJS.ProcessEnv; isTTY: boolean }): boolean {
  if (options.noColor) return false;
  if (options.env.NO_COLOR !== undefined && options.env.NO_COLOR !== '') return false;
  const force = options.env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  return options.isTTY && options.env.TERM !== 'dumb';
}

/** Live task list on a TTY; plain timestamped lines when not a TTY or CI is set; JSON on request. */
export function outputMode(options: { json?: boolean; env: NodeJS.ProcessEnv; isTTY: boolean }): OutputMode {
  if (options.json) return 'json';
  if (!options.isTTY || (options.env.CI !== undefined && options.env.CI !== '' && options.env.CI !== 'false')) return 'plain';
  return 'tty';
}
