/**
 * Remote text (Jenkins consoles, queue reasons, status lines) made safe for a terminal. A server
 * must not be able to set the window title or the clipboard (OSC 0/52), move the cursor, clear
 * the screen, overwrite iac's own lines (CR, BS, cursor moves) or switch the terminal's modes.
 *
 * What stays: printable text, TAB, LF, and SGR colour sequences (`ESC [ <digits ; :> m`) unless
 * `color: false`. Everything else is removed — whole sequences, payload included (OSC, DCS, SOS,
 * PM, APC up to their terminator; CSI up to its final byte; the 7-bit and 8-bit (C1) forms alike).
 * A CR inside a line keeps only what a terminal would finally show (the text after the last CR),
 * which is how progress bars read. The result contains no byte below 0x20 but TAB/LF/ESC-of-SGR,
 * no DEL and no C1 control.
 */

export interface TerminalTextOptions {
  /** Keep SGR colour sequences (default true). False: plain text, for messages and non-colour sinks. */
  color?: boolean;
}

const ESC = 0x1b;
const BEL = 0x07;
/** Longest SGR parameter string kept; longer ones are dropped as junk. */
const MAX_SGR_PARAMS = 64;

/**
 * Sanitizes `text` (one or more lines). Pure and linear in the input; unterminated string
 * sequences (an OSC without BEL/ST) swallow the rest of the line, never the next line.
 */
export function sanitizeTerminalText(text: string, options: TerminalTextOptions = {}): string {
  const keepColor = options.color !== false;
  // Fast path: nothing to do for the common plain line.
  // eslint-disable-next-line no-control-regex
  if (!/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(text)) return text;
  let out = '';
  let lineStart = 0; // index in `out` where the current line began (for CR handling)
  const n = text.length;
  let i = 0;
  while (i < n) {
    const code = text.charCodeAt(i);
    if (code === 0x0a) {
      out += '\n';
      lineStart = out.length;
      i++;
      continue;
    }
    if (code === 0x09 || (code >= 0x20 && code < 0x7f) || code > 0x9f) {
      // Copy a run of harmless characters at once.
      let j = i + 1;
      while (j < n) {
        const c = text.charCodeAt(j);
        if (!(c === 0x09 || (c >= 0x20 && c < 0x7f) || c > 0x9f)) break;
        j++;
      }
      out += text.slice(i, j);
      i = j;
      continue;
    }
    if (code === 0x0d) {
      // CR: a terminal returns to column 0 and overwrites. Keep what it would end up showing:
      // the text after the last CR of the line, unless that is empty (CRLF, trailing CR).
      const next = text.charCodeAt(i + 1);
      i++;
      if (i >= n || next === 0x0a || next === 0x0d) continue;
      out = out.slice(0, lineStart);
      continue;
    }
    if (code === ESC) {
      i = escape(text, i, keepColor, (kept) => (out += kept));
      continue;
    }
    if (code >= 0x80 && code <= 0x9f) {
      i = c1(text, i);
      continue;
    }
    // Any other C0 control (BEL, BS, VT, FF, SO/SI, …) and DEL: dropped.
    i++;
  }
  return out;
}

/** Index just after the end of the line containing `from` (or the text's end). */
function lineEnd(text: string, from: number): number {
  const nl = text.indexOf('\n', from);
  return nl < 0 ? text.length : nl;
}

/** Skips a control string (OSC, DCS, SOS, PM, APC) body starting at `from`: up to BEL or ST (ESC \ or U+009C), never past the line. */
function skipString(text: string, from: number, belEnds: boolean): number {
  const end = lineEnd(text, from);
  for (let j = from; j < end; j++) {
    const c = text.charCodeAt(j);
    if (belEnds && c === BEL) return j + 1;
    if (c === 0x9c) return j + 1;
    if (c === ESC && text.charCodeAt(j + 1) === 0x5c) return j + 2;
  }
  return end;
}

/** Skips a CSI body (parameters 0x30–0x3F, intermediates 0x20–0x2F, one final 0x40–0x7E) starting at `from`. */
function skipCsi(text: string, from: number): { end: number; params: string; final: number } {
  let j = from;
  const end = lineEnd(text, from);
  while (j < end) {
    const c = text.charCodeAt(j);
    if (c >= 0x30 && c <= 0x3f) j++;
    else break;
  }
  const params = text.slice(from, j);
  while (j < end) {
    const c = text.charCodeAt(j);
    if (c >= 0x20 && c <= 0x2f) j++;
    else break;
  }
  const final = j < end ? text.charCodeAt(j) : -1;
  if (final >= 0x40 && final <= 0x7e) return { end: j + 1, params, final };
  // Malformed (a control or non-ASCII where the final byte belongs): drop what was read.
  return { end: j, params, final: -1 };
}

function isSgr(params: string, final: number, intermediates: boolean): boolean {
  return final === 0x6d && !intermediates && params.length <= MAX_SGR_PARAMS && /^[0-9;:]*$/.test(params);
}

/** Handles an ESC at `i`; returns the index after the sequence. `keep` receives an SGR to keep. */
function escape(text: string, i: number, keepColor: boolean, keep: (sequence: string) => void): number {
  const next = text.charCodeAt(i + 1);
  if (Number.isNaN(next)) return i + 1;
  switch (next) {
    case 0x5b: {
      // CSI
      const csi = skipCsi(text, i + 2);
      const body = text.slice(i + 2, csi.end);
      const intermediates = /[\u0020-\u002f]/.test(body);
      if (keepColor && isSgr(csi.params, csi.final, intermediates)) keep(text.slice(i, csi.end));
      return csi.end;
    }
    case 0x5d: // OSC: title, clipboard (52), hyperlinks, palette…
      return skipString(text, i + 2, true);
    case 0x50: // DCS
    case 0x58: // SOS
    case 0x5e: // PM
    case 0x5f: // APC
      return skipString(text, i + 2, false);
    default: {
      // Other escape sequences: ESC, intermediates 0x20–0x2F, a final byte 0x30–0x7E (ESC c, ESC 7, ESC ( B, ESC # 8…).
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) >= 0x20 && text.charCodeAt(j) <= 0x2f) j++;
      const c = text.charCodeAt(j);
      if (c >= 0x30 && c <= 0x7e) return j + 1;
      return j; // a lone ESC (or ESC before a control): dropped
    }
  }
}

/** Handles a C1 control (U+0080–U+009F) at `i`: the 8-bit forms of CSI, OSC, DCS… are skipped whole. */
function c1(text: string, i: number): number {
  const code = text.charCodeAt(i);
  if (code === 0x9b) return skipCsi(text, i + 1).end;
  if (code === 0x9d) return skipString(text, i + 1, true);
  if (code === 0x90 || code === 0x98 || code === 0x9e || code === 0x9f) return skipString(text, i + 1, false);
  return i + 1;
}

/**
 * Cuts `text` to at most `max` UTF-16 units, on a character boundary, marking the cut. For one-line
 * remote texts (queue reasons, status reasons) that end up in messages.
 */
export function boundText(text: string, max: number, marker = '…'): string {
  if (text.length <= max) return text;
  let cut = Math.max(0, max - marker.length);
  const code = text.charCodeAt(cut - 1);
  if (code >= 0xd800 && code <= 0xdbff) cut--; // do not split a surrogate pair
  return `${text.slice(0, cut)}${marker}`;
}

/** A remote one-line text for a message: no control sequence at all, no line break, bounded. */
export function remoteLine(text: string, max = 200): string {
  return boundText(sanitizeTerminalText(text, { color: false }).replace(/\s+/g, ' ').trim(), max);
}
