/**
 * Text that came from the cluster (status messages, pod reasons, events, log lines) is untrusted:
 * it is cut to a bound and stripped of terminal control sequences before it leaves the adapter,
 * with the project's one sanitizer (src/util/terminal-text.ts, colour dropped too).
 */
import { sanitizeTerminalText } from '../util/terminal-text.js';

/** Longest remote text shown in one event or error line. */
export const MAX_REMOTE_TEXT = 1000;
/** Longest string kept in an object received from the API (bounds what is held in memory). */
export const MAX_REMOTE_FIELD = 8 * 1024;

/** Removes every terminal control sequence and control character but TAB and LF (and colour). */
export function stripControls(text: string): string {
  return sanitizeTerminalText(text, { color: false });
}

/** Cuts `text` to `max` characters, saying how much was dropped. */
export function cutText(text: string, max: number = MAX_REMOTE_TEXT): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… [${text.length - max} more characters cut]`;
}

/** One line of remote text, safe for a terminal: newlines become spaces, controls go, length bounded. */
export function remoteLine(text: string, max: number = MAX_REMOTE_TEXT): string {
  // Bound before cleaning (a hostile 10 MB message costs nothing), then cut to the display length.
  const bounded = text.length > max * 4 ? text.slice(0, max * 4) : text;
  const clean = stripControls(bounded.replace(/\r?\n/g, ' '));
  if (clean.length <= max && bounded.length === text.length) return clean;
  return `${clean.slice(0, max)}… [${text.length - Math.min(max, clean.length)} more characters cut]`;
}

/**
 * Replaces, in place, every string longer than `max` inside a parsed JSON value by its cut form, so a
 * hostile 10 MB message is not kept (nor copied into events) after parsing.
 */
export function boundStrings<T>(value: T, max: number = MAX_REMOTE_FIELD): T {
  const visit = (node: unknown): unknown => {
    if (typeof node === 'string') return node.length > max ? cutText(node, max) : node;
    if (node === null || typeof node !== 'object') return node;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) node[i] = visit(node[i]);
      return node;
    }
    const record = node as Record<string, unknown>;
    for (const key of Object.keys(record)) record[key] = visit(record[key]);
    return node;
  };
  return visit(value) as T;
}
