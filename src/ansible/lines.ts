/**
 * Line handling for a child's output streams: split on newlines without ever holding more than a bound
 * per line (a module can print one 40 MB line), and make text safe for a terminal or a log meant for one.
 */
import { StringDecoder } from 'node:string_decoder';

/** Longest line kept whole; the rest of a longer line is dropped and counted in a marker. */
export const MAX_LINE_BYTES = 64 * 1024;

/**
 * Feeds `onLine` one line at a time (without the newline). A line longer than `maxBytes` is cut there and
 * ends with `… [N more bytes]`; the remainder is never buffered.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private current = '';
  private dropped = 0;

  constructor(
    private readonly onLine: (line: string) => void,
    private readonly maxBytes: number = MAX_LINE_BYTES,
  ) {}

  push(chunk: Buffer | string): void {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let start = 0;
    for (;;) {
      const newline = text.indexOf('\n', start);
      const piece = newline < 0 ? text.slice(start) : text.slice(start, newline);
      this.append(piece);
      if (newline < 0) break;
      this.flushLine();
      start = newline + 1;
    }
  }

  /** Emits a last line that had no newline. */
  end(): void {
    this.append(this.decoder.end());
    if (this.current !== '' || this.dropped > 0) this.flushLine();
  }

  private append(piece: string): void {
    if (piece === '') return;
    if (this.dropped > 0) {
      this.dropped += Buffer.byteLength(piece);
      return;
    }
    const room = this.maxBytes - this.current.length;
    if (piece.length <= room) {
      this.current += piece;
      return;
    }
    this.current += piece.slice(0, Math.max(0, room));
    this.dropped += Buffer.byteLength(piece.slice(Math.max(0, room)));
  }

  private flushLine(): void {
    const line = this.current.endsWith('\r') ? this.current.slice(0, -1) : this.current;
    const marker = this.dropped > 0 ? `… [${this.dropped} more bytes]` : '';
    this.current = '';
    this.dropped = 0;
    this.onLine(line + marker);
  }
}

// CSI (ESC [ … final), OSC (ESC ] … BEL or ST), other two-byte ESC sequences, and C0/C1 controls but tab.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const ESCAPE_SEQUENCE = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-Z\\-_]|[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex -- an SGR sequence starts with ESC
const SGR = /^\u001b\[[0-9;]*m$/;

/** Keeps colours (SGR) and tabs; every other control sequence or character is dropped. */
export function terminalSafe(text: string): string {
  return text.replace(ESCAPE_SEQUENCE, (sequence) => (SGR.test(sequence) ? sequence : ''));
}
