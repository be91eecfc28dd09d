/**
 * Turns progressiveText body bytes back into console text, incrementally and byte-exactly:
 * - Jenkins writes every `\n` of the log as `\r\n` (stapler LineEndNormalizingWriter), so a CR
 *   right before LF is dropped; a CR at the very end of a chunk is held until the next byte shows
 *   whether an LF follows.
 * - A multi-byte UTF-8 character split across chunks (or across responses: Jenkins ≥ 2.509 serves
 *   up to EOF, mid-character) is held back, never decoded into U+FFFD.
 * For logs written with LF line ends (Linux agents) the emitted byte count equals the raw log bytes
 * consumed, which is what lets a reader resume exactly after a dropped connection.
 */

const CR = 0x0d;
const EMPTY = Buffer.alloc(0);

/** Length of the trailing incomplete UTF-8 sequence in `bytes` (0 when it ends on a character boundary). */
export function incompleteUtf8Tail(bytes: Uint8Array): number {
  const length = bytes.length;
  for (let back = 1; back <= Math.min(4, length); back++) {
    const byte = bytes[length - back] as number;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte: keep looking for the lead byte
    const expected = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return expected > back ? back : 0;
  }
  return 0;
}

export interface DecodedChunk {
  text: string;
  /** Bytes of `text` in UTF-8 (after CRLF → LF). */
  bytes: number;
}

export class ConsoleDecoder {
  private pending: Buffer = EMPTY;

  /** Feeds body bytes; returns the text that is complete so far. */
  push(chunk: Uint8Array): DecodedChunk {
    const input = this.pending.length > 0 ? Buffer.concat([this.pending, chunk]) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let end = input.length;
    let heldCr = false;
    if (end > 0 && input[end - 1] === CR) {
      heldCr = true;
      end--;
    }
    const stripped = stripCrBeforeLf(input.subarray(0, end));
    const tail = heldCr ? 0 : incompleteUtf8Tail(stripped);
    const complete = stripped.subarray(0, stripped.length - tail);
    this.pending = heldCr ? Buffer.from([CR]) : Buffer.from(stripped.subarray(stripped.length - tail));
    return { text: complete.toString('utf8'), bytes: complete.length };
  }

  /**
   * The response ended normally: a held CR is real log content (its LF, if any, comes in a later
   * response as CRLF). Returns that text and the count of incomplete UTF-8 bytes left unread.
   */
  end(): DecodedChunk & { incompleteBytes: number } {
    const pending = this.pending;
    this.pending = EMPTY;
    if (pending.length === 1 && pending[0] === CR) return { text: '\r', bytes: 1, incompleteBytes: 0 };
    return { text: '', bytes: 0, incompleteBytes: pending.length };
  }

  /** Forget held bytes (after a dropped connection the reader re-reads from the last emitted byte). */
  reset(): void {
    this.pending = EMPTY;
  }
}

function stripCrBeforeLf(bytes: Buffer): Buffer {
  let crlf = bytes.indexOf('\r\n');
  if (crlf < 0) return bytes;
  const parts: Buffer[] = [];
  let from = 0;
  while (crlf >= 0) {
    parts.push(bytes.subarray(from, crlf));
    from = crlf + 1; // keep the LF
    crlf = bytes.indexOf('\r\n', from);
  }
  parts.push(bytes.subarray(from));
  return Buffer.concat(parts);
}

/** One-shot decode of a whole response body (see JenkinsClient.progressiveText). */
export function decodeConsoleBytes(bytes: Uint8Array): { text: string; pending: Uint8Array } {
  const decoder = new ConsoleDecoder();
  const first = decoder.push(bytes);
  const last = decoder.end();
  return { text: first.text + last.text, pending: Buffer.alloc(last.incompleteBytes) };
}

const ESC = String.fromCharCode(0x1b);
const CONSOLE_NOTE = new RegExp(`${ESC}\\[8mha:[^${ESC}]*${ESC}\\[0m`, 'g');

/**
 * Removes Jenkins' hidden console notes (`ESC[8mha:<base64>ESC[0m`, invisible in a terminal that
 * honours "conceal" but noise everywhere else). For display only: the saved log keeps every byte.
 */
export function stripConsoleNotes(text: string): string {
  return text.includes(`${ESC}[8mha:`) ? text.replace(CONSOLE_NOTE, '') : text;
}
