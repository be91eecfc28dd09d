/**
 * Console text → lines for people (screen, --json `step.log`, failure details). The saved console
 * keeps every byte; these lines are made safe and small:
 * - Jenkins' hidden console notes are removed, control sequences other than colour are stripped
 *   (util/terminal-text), secrets masked (the redactor also runs before a line is cut, so a cut
 *   never leaves half a token on screen);
 * - a line longer than `maxLine` characters is cut with a marker and the rest of it skipped until
 *   its newline, so a 40 MB single-line console never sits in memory whole.
 */
import { sanitizeTerminalText } from '../util/terminal-text.js';
import { stripConsoleNotes } from './console-decode.js';

export const DEFAULT_MAX_DISPLAY_LINE = 4096;
const TAIL_LINES = 30;

export interface ConsoleLinesOptions {
  maxLine?: number;
  tailLines?: number;
  /** Masks secrets (the run's redactor). */
  redact?: (text: string) => string;
  /** Longest secret spelling the redactor knows: how far past a cut it must look. */
  redactWindow?: () => number;
}

export class ConsoleLines {
  private partial = '';
  /** Inside a line that was already cut: its text is dropped until the newline. */
  private skipping = false;
  private readonly recent: string[] = [];
  private readonly maxLine: number;
  private readonly tailLines: number;
  private readonly redact: (text: string) => string;
  private readonly redactWindow: () => number;

  constructor(options: ConsoleLinesOptions = {}) {
    this.maxLine = options.maxLine ?? DEFAULT_MAX_DISPLAY_LINE;
    this.tailLines = options.tailLines ?? TAIL_LINES;
    this.redact = options.redact ?? ((text) => text);
    this.redactWindow = options.redactWindow ?? (() => 0);
  }

  /** The display lines completed by `text` (a partial last line waits for more, bounded). */
  push(text: string): string[] {
    const out: string[] = [];
    let from = 0;
    while (from < text.length) {
      const newline = text.indexOf('\n', from);
      const end = newline < 0 ? text.length : newline;
      if (this.skipping) {
        if (newline >= 0) this.skipping = false;
      } else {
        this.partial += text.slice(from, end);
        if (newline >= 0) {
          out.push(this.finish(this.partial));
          this.partial = '';
        } else if (this.partial.length > this.maxLine + this.redactWindow()) {
          out.push(this.cut(this.partial));
          this.partial = '';
          this.skipping = true;
        }
      }
      from = newline < 0 ? text.length : newline + 1;
    }
    return out;
  }

  /** The unfinished last line, at the end of the console. */
  flush(): string[] {
    const rest = this.partial;
    this.partial = '';
    this.skipping = false;
    return rest === '' ? [] : [this.finish(rest)];
  }

  /** The last lines shown (for the failure report). */
  tail(): string[] {
    return [...this.recent];
  }

  private finish(raw: string): string {
    if (raw.length > this.maxLine) return this.cut(raw);
    return this.remember(this.clean(raw));
  }

  private cut(raw: string): string {
    // Mask first (a secret straddling the cut point is masked whole), then cut the masked text.
    const window = raw.slice(0, this.maxLine + this.redactWindow());
    const kept = this.redact(window).slice(0, this.maxLine);
    return this.remember(`${this.clean(kept)} … [line cut at ${this.maxLine} characters; the saved console has all of it]`);
  }

  private clean(raw: string): string {
    return this.redact(sanitizeTerminalText(stripConsoleNotes(raw.endsWith('\r') ? raw.slice(0, -1) : raw)));
  }

  private remember(line: string): string {
    this.recent.push(line);
    if (this.recent.length > this.tailLines) this.recent.shift();
    return line;
  }
}
