/**
 * Secret redaction. Every value known to be secret (tokens, passwords, secret extra vars) is
 * registered here as soon as it is read; every line printed, logged or emitted as JSON passes
 * through `redact()`, and streamed files (saved consoles) through `stream()`. Registration is per
 * Redactor instance so tests can run in parallel.
 *
 * A secret leaks in other spellings too, so each registered value is also matched as
 * - URL-encoded (`encodeURIComponent`, form encoding with `+`, lower-case `%xx`),
 * - JSON-escaped (a value with `"` or `\` inside a JSON event),
 * - base64 (standard and URL-safe) at any alignment inside a longer base64 text, which covers
 *   `Authorization: Basic base64(user:token)`: the whole base64 word around it is masked, so no
 *   bit of the secret is left at its edges.
 * `addCredential(user, secret)` also registers the exact `user:secret` pair and its base64 form.
 */

const MASK = '***';

/** Names under which a value is a secret (env vars, Jenkins parameters, extra vars, config keys). */
export const SECRET_NAME = /token|password|passwd|secret|api[-_]?key|credential|private[-_]?key/i;
/** Values shorter than this are not redacted: masking "1" or "ab" would garble ordinary output. */
const MIN_SECRET_LENGTH = 4;
/** Base64 matching needs a core long enough not to match by chance. */
const MIN_BASE64_SECRET_LENGTH = 8;
/** A streamed base64 word is held back at most this long waiting for its end (then cut anyway). */
const MAX_HELD_WORD = 8192;

/** Characters of a base64 word, standard or URL-safe alphabet. */
const BASE64_CHAR = /[A-Za-z0-9+/_-]/;

type Kind = 'literal' | 'base64';

interface Range {
  start: number;
  end: number;
}

/** The base64 characters fully determined by `value` when it starts `offset` bytes into a 3-byte group. */
function base64Cores(value: string): string[] {
  const bytes = Buffer.from(value, 'utf8');
  const cores: string[] = [];
  for (let offset = 0; offset < 3; offset++) {
    const encoded = Buffer.concat([Buffer.alloc(offset), bytes]).toString('base64');
    const first = Math.ceil((8 * offset) / 6);
    const end = Math.floor((8 * (offset + bytes.length)) / 6);
    if (end - first >= MIN_BASE64_SECRET_LENGTH) cores.push(encoded.slice(first, end));
  }
  return cores;
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export class Redactor {
  private readonly values = new Set<string>();
  /** Every spelling to find, and how to widen its match. */
  private readonly patterns = new Map<string, Kind>();
  private matcher: RegExp | undefined;
  private longest = 0;

  /** Registers a secret value (and its encodings). Short or empty values are ignored. */
  add(value: string | undefined | null): void {
    if (!value || value.length < MIN_SECRET_LENGTH || this.values.has(value)) return;
    this.values.add(value);
    this.literal(value);
    this.literal(encodeURIComponent(value));
    this.literal(encodeURIComponent(value).replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase()));
    this.literal(new URLSearchParams({ v: value }).toString().slice(2));
    this.literal(JSON.stringify(value).slice(1, -1));
    if (value.length >= MIN_BASE64_SECRET_LENGTH) {
      for (const core of base64Cores(value)) {
        this.pattern(core, 'base64');
        const urlSafe = core.replace(/\+/g, '-').replace(/\//g, '_');
        if (urlSafe !== core) this.pattern(urlSafe, 'base64');
      }
    }
  }

  /** Registers a user's secret, plus `user:secret` and its base64 (the `Authorization: Basic` value). */
  addCredential(user: string | undefined, secret: string | undefined | null): void {
    this.add(secret);
    if (!user || !secret || secret.length < MIN_SECRET_LENGTH) return;
    const pair = `${user}:${secret}`;
    this.add(pair);
    this.literal(Buffer.from(pair, 'utf8').toString('base64'));
  }

  redact(text: string): string {
    if (this.patterns.size === 0 || text.length === 0) return text;
    const ranges = this.find(text);
    return ranges.length === 0 ? text : mask(text, ranges, text.length);
  }

  /**
   * A redactor for a stream of text chunks (a saved console): a secret split across chunks is
   * still masked. It holds back only the tail that could still become a secret.
   */
  stream(): RedactingStream {
    return new RedactingStream(this);
  }

  get size(): number {
    return this.values.size;
  }

  /** Longest spelling: how much text a stream must hold back. */
  get maxPatternLength(): number {
    return this.longest;
  }

  /** Masked ranges of `text`, sorted, non-overlapping; base64 matches widened to their whole word. */
  find(text: string): Range[] {
    const matcher = this.compiled();
    if (!matcher) return [];
    const ranges: Range[] = [];
    matcher.lastIndex = 0;
    for (let match = matcher.exec(text); match; match = matcher.exec(text)) {
      let start = match.index;
      let end = start + match[0].length;
      const kind = this.patterns.get(match[0]) ?? 'literal';
      if (kind === 'base64') {
        while (start > 0 && BASE64_CHAR.test(text.charAt(start - 1))) start--;
        while (end < text.length && BASE64_CHAR.test(text.charAt(end))) end++;
        while (text.charAt(end) === '=') end++;
      }
      const last = ranges[ranges.length - 1];
      if (last && start <= last.end) last.end = Math.max(last.end, end);
      else ranges.push({ start, end });
      matcher.lastIndex = Math.max(end, match.index + 1);
    }
    return ranges;
  }

  private literal(spelling: string): void {
    if (!this.patterns.has(spelling)) this.pattern(spelling, 'literal');
  }

  private pattern(spelling: string, kind: Kind): void {
    if (spelling.length < MIN_SECRET_LENGTH) return;
    this.patterns.set(spelling, kind);
    this.longest = Math.max(this.longest, spelling.length);
    this.matcher = undefined;
  }

  /** One alternation of every spelling, longest first (V8 compiles it to one scan). */
  private compiled(): RegExp | undefined {
    if (this.patterns.size === 0) return undefined;
    this.matcher ??= new RegExp(
      [...this.patterns.keys()]
        .sort((a, b) => b.length - a.length)
        .map(escapeRegExp)
        .join('|'),
      'g',
    );
    return this.matcher;
  }
}

function mask(text: string, ranges: Range[], upTo: number): string {
  let out = '';
  let from = 0;
  for (const range of ranges) {
    if (range.start >= upTo) break;
    out += text.slice(from, range.start) + MASK;
    from = range.end;
  }
  return out + text.slice(from, upTo);
}

/**
 * Redacts a stream chunk by chunk. Output is emitted up to a point where no secret can still be
 * completed by the next chunk: the last `maxPatternLength - 1` characters, any match reaching
 * past that point, and a base64 word still growing at the end (bounded) are held back.
 */
export class RedactingStream {
  private held = '';

  constructor(private readonly redactor: Redactor) {}

  push(chunk: string): string {
    const text = this.held + chunk;
    if (this.redactor.maxPatternLength === 0) {
      this.held = '';
      return text;
    }
    const ranges = this.redactor.find(text);
    let cut = Math.max(0, text.length - (this.redactor.maxPatternLength - 1));
    // Do not cut inside a base64/URL word: a base64 match widens to the whole word.
    let wordStart = cut;
    while (wordStart > 0 && wordStart > cut - MAX_HELD_WORD && BASE64_CHAR.test(text.charAt(wordStart - 1))) wordStart--;
    if (wordStart > cut - MAX_HELD_WORD) cut = wordStart;
    for (const range of ranges) {
      if (range.start < cut && range.end > cut) cut = range.start;
    }
    this.held = text.slice(cut);
    return mask(text, ranges.filter((range) => range.end <= cut), cut);
  }

  /** The rest, at the end of the stream. */
  end(): string {
    const rest = this.redactor.redact(this.held);
    this.held = '';
    return rest;
  }
}

/** The process-wide redactor used by the CLI's output layer. */
export const globalRedactor = new Redactor();
