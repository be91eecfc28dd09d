/**
 * Console logs for the Jenkins sandbox, generated lazily: a 200 MB log is a recipe (fixed-width
 * generated lines), not a buffer, so any byte range can be produced on demand in O(range).
 */

export interface ConsoleText {
  /** Total length in bytes (UTF-8), like Jenkins' log file size. */
  readonly size: number;
  /** Bytes [start, end) of the log. */
  read(start: number, end: number): Buffer;
}

export class BufferText implements ConsoleText {
  constructor(private readonly bytes: Buffer) {}
  get size(): number {
    return this.bytes.length;
  }
  read(start: number, end: number): Buffer {
    return this.bytes.subarray(start, end);
  }
}

const FILLER = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** The fixed part of a generated line; "✓" makes every line carry a 3-byte UTF-8 character. */
const LINE_PREFIX_BYTES = Buffer.byteLength('line 000000001 ✓ ') + 1; // + "\n"
export const MIN_GENERATED_LINE_BYTES = LINE_PREFIX_BYTES + 1;

/**
 * `count` lines of exactly `width` bytes each (including "\n"):
 * `line 000000042 ✓ qrstuvwx…\n`. Line i is a pure function of i, so any range is cheap.
 */
export class GeneratedLines implements ConsoleText {
  readonly size: number;
  private readonly width: number;

  constructor(
    private readonly count: number,
    width = 64,
  ) {
    this.width = Math.max(width, MIN_GENERATED_LINE_BYTES);
    this.size = count * this.width;
  }

  line(index: number): string {
    const head = `line ${String(index + 1).padStart(9, '0')} ✓ `;
    const fillerLength = this.width - Buffer.byteLength(head) - 1;
    const shift = index % FILLER.length;
    const rotated = FILLER.slice(shift) + FILLER.slice(0, shift);
    return `${head}${rotated.repeat(Math.ceil(fillerLength / FILLER.length) + 1).slice(0, fillerLength)}\n`;
  }

  read(start: number, end: number): Buffer {
    const from = Math.max(0, start);
    const to = Math.min(this.size, end);
    if (to <= from) return Buffer.alloc(0);
    const first = Math.floor(from / this.width);
    const last = Math.floor((to - 1) / this.width);
    let text = '';
    for (let i = first; i <= last && i < this.count; i++) text += this.line(i);
    const offset = from - first * this.width;
    return Buffer.from(text, 'utf8').subarray(offset, offset + (to - from));
  }
}

/** One line of `size` bytes (the last is "\n"), a repeating pattern: any range is cheap, nothing is held. */
export class LongLine implements ConsoleText {
  private static readonly PATTERN = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz-'.repeat(1771), 'utf8');

  constructor(readonly size: number) {}

  read(start: number, end: number): Buffer {
    const from = Math.max(0, start);
    const to = Math.min(this.size, end);
    if (to <= from) return Buffer.alloc(0);
    const out = Buffer.allocUnsafe(to - from);
    const pattern = LongLine.PATTERN;
    for (let i = from; i < to; ) {
      if (i === this.size - 1) {
        out[i - from] = 0x0a;
        i++;
        continue;
      }
      const at = i % pattern.length;
      const n = Math.min(pattern.length - at, to - i, this.size - 1 - i);
      pattern.copy(out, i - from, at, at + n);
      i += n;
    }
    return out;
  }
}

/** Several texts one after another. */
export class ConcatText implements ConsoleText {
  readonly size: number;
  constructor(private readonly parts: ConsoleText[]) {
    this.size = parts.reduce((sum, part) => sum + part.size, 0);
  }
  read(start: number, end: number): Buffer {
    const out: Buffer[] = [];
    let base = 0;
    for (const part of this.parts) {
      const from = Math.max(start, base);
      const to = Math.min(end, base + part.size);
      if (from < to) out.push(part.read(from - base, to - base));
      base += part.size;
      if (base >= end) break;
    }
    return out.length === 1 ? (out[0] as Buffer) : Buffer.concat(out);
  }
}

/** The first `length` bytes of a text (a stopped build's log up to where it was cut). */
export class PrefixText implements ConsoleText {
  constructor(
    private readonly source: ConsoleText,
    readonly size: number,
  ) {}
  read(start: number, end: number): Buffer {
    return this.source.read(start, Math.min(end, this.size));
  }
}

export function text(value: string): ConsoleText {
  return new BufferText(Buffer.from(value, 'utf8'));
}

/** The whole text as a string (tests; small logs). */
export function readAll(source: ConsoleText): string {
  return source.read(0, source.size).toString('utf8');
}

/** stapler's LineEndNormalizingWriter: every LF not preceded by CR goes out as CRLF. */
export function toCrlf(bytes: Buffer, previousByte: number | undefined): Buffer {
  let count = 0;
  for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, i + 1)) {
    const before = i === 0 ? previousByte : bytes[i - 1];
    if (before !== 0x0d) count++;
  }
  if (count === 0) return bytes;
  const out = Buffer.allocUnsafe(bytes.length + count);
  let write = 0;
  let from = 0;
  for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, i + 1)) {
    const before = i === 0 ? previousByte : bytes[i - 1];
    if (before === 0x0d) continue;
    write += bytes.copy(out, write, from, i);
    out[write++] = 0x0d;
    from = i;
  }
  write += bytes.copy(out, write, from);
  return out.subarray(0, write);
}
