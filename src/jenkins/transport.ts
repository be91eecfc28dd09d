/**
 * The HTTP layer under JenkinsClient, and the only place that retries (DESIGN: one transport, one
 * retry policy). It sends one request at a time with node:http(s) — no redirect following (201,
 * 302 and 303 carry meaning), a deadline for the headers and between body chunks, bounded bodies —
 * and classifies failures: connection refused, DNS, TLS and timeouts are each named in their own
 * words; only idempotent work is retried, by {@link RetrySession}, within the policy's attempts
 * and time budget.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { InterruptedError, isIacError, UnreachableError } from '../errors.js';
import { remoteLine } from '../util/terminal-text.js';

export interface RetryPolicy {
  /** Tries in all (1 = never retry). */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * How long a continuous failure may be retried (a Jenkins restart takes a minute or two).
   * Default: unbounded by time (attempts decide).
   */
  budgetMs?: number;
}

/** `iac up`: ride out a Jenkins restart of up to two minutes, polling is idempotent. */
export const DEFAULT_RETRY: RetryPolicy = { attempts: 60, baseDelayMs: 250, maxDelayMs: 5000, budgetMs: 120_000 };
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** JSON answers above this are refused: a build or job object is kilobytes; megabytes mean something is wrong. */
export const DEFAULT_MAX_JSON_BYTES = 8 * 1024 * 1024;

/** Network error codes that mean "the server was there but the exchange broke": safe to retry a GET. */
const TRANSIENT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'IAC_TIMEOUT', 'IAC_CLOSED']);
/** Codes that are worth retrying only once we have talked to Jenkins (a restart), never at first contact (a wrong URL). */
const RETRY_AFTER_CONTACT = new Set(['ECONNREFUSED', 'IAC_TIMEOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ETIMEDOUT']);

const TLS_CODES: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in the chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'certificate not signed by a trusted authority',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'certificate issuer unknown',
  UNABLE_TO_GET_ISSUER_CERT: 'certificate issuer unknown',
  CERT_HAS_EXPIRED: 'certificate has expired',
  CERT_NOT_YET_VALID: 'certificate not yet valid',
  ERR_TLS_CERT_ALTNAME_INVALID: 'certificate is for another host name',
  ERR_SSL_WRONG_VERSION_NUMBER: 'the server does not speak TLS on this port',
  EPROTO: 'TLS protocol error',
};

/** A network-level failure (no HTTP answer, or a broken one), with a code from Node or our own. */
export class TransportError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Resolves after `ms`, or rejects with InterruptedError when the signal aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(new InterruptedError());
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new InterruptedError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
}

/** The `code` of a network failure (Node puts it on the error or, for wrapped errors, on `cause`). */
export function networkErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current; depth++) {
    if (typeof current !== 'object' || current === null) break;
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Describes a network failure in words, for a one-line message (code only; never headers, never credentials). */
export function describeNetworkError(error: unknown): string {
  const code = networkErrorCode(error);
  if (code === undefined) return error instanceof Error ? remoteLine(error.message, 120) : 'network error';
  if (code === 'IAC_TIMEOUT') return 'timed out: no answer';
  if (code === 'IAC_CLOSED') return 'the connection closed before the answer was complete';
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND') return 'DNS lookup failed: host not found';
  if (code === 'EAI_AGAIN') return 'DNS lookup failed (temporary failure, EAI_AGAIN)';
  if (code === 'ECONNRESET') return 'connection reset by the server';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return `network unreachable (${code})`;
  if (code === 'ETIMEDOUT') return 'connection timed out';
  const tls = TLS_CODES[code];
  if (tls !== undefined || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code.startsWith('CERT_')) {
    return `TLS failure: ${tls ?? code.toLowerCase().replace(/_/g, ' ')} (${code})`;
  }
  return code;
}

/** A network failure that a retry may cure. `contacted`: we had already talked to this Jenkins. */
export function isTransientNetworkError(error: unknown, contacted: boolean): boolean {
  const code = networkErrorCode(error);
  if (code === undefined) return false;
  // Refused, silent or unroutable after we already talked to Jenkins is a restart, worth waiting
  // for; before that it is most likely a wrong URL or a firewall, and the user should know at once.
  if (RETRY_AFTER_CONTACT.has(code)) return contacted;
  return TRANSIENT_CODES.has(code);
}

export function unreachable(baseUrl: string, error: unknown, what = 'is unreachable'): UnreachableError {
  const code = networkErrorCode(error);
  const tls = code !== undefined && /TLS failure/.test(describeNetworkError(error));
  return new UnreachableError('jenkins.unreachable', `Jenkins at ${baseUrl} ${what} (${describeNetworkError(error)})`, {
    hint: tls
      ? `check the certificate of ${baseUrl}; a private CA goes in NODE_EXTRA_CA_CERTS=/path/to/ca.pem`
      : code === 'ENOTFOUND'
        ? `check the host name in jenkins.url in iac.yaml (${baseUrl})`
        : `check that ${baseUrl} is the Jenkins URL in iac.yaml (jenkins.url) and that Jenkins is up, then run the command again`,
    cause: error,
  });
}

/** An answer whose body is larger than we agree to read. */
export function tooLarge(baseUrl: string, what: string, limit: number): UnreachableError {
  return new UnreachableError('jenkins.response-too-large', `Jenkins at ${baseUrl} answered more than ${Math.round(limit / 1048576)} MB for ${what}; iac refuses to read it`, {
    hint: `open ${baseUrl} in a browser: a plugin or proxy may be sending far more than the Jenkins API does`,
  });
}

/** Retryable error classes: transient network failures and `jenkins.unavailable` (5xx: a restart). */
function retryable(error: unknown, contacted: boolean): boolean {
  if (error instanceof UnreachableError) return error.code === 'jenkins.unavailable';
  return isTransientNetworkError(error, contacted);
}

/**
 * One failure streak under the retry policy. `failed(error)` waits the backoff and returns when
 * another try is allowed, else throws the final error; `succeeded()` ends the streak.
 */
export class RetrySession {
  private failures = 0;
  private since: number | undefined;

  constructor(
    private readonly transport: HttpTransport,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async failed(error: unknown): Promise<void> {
    if (this.signal?.aborted) throw new InterruptedError();
    if (error instanceof InterruptedError) throw error;
    const policy = this.transport.policy;
    this.since ??= Date.now();
    this.failures++;
    const withinBudget = policy.budgetMs === undefined || Date.now() - this.since < policy.budgetMs;
    if (!retryable(error, this.transport.contacted) || this.failures >= policy.attempts || !withinBudget) {
      throw this.transport.final(error);
    }
    await sleep(backoffDelay(policy, this.failures - 1), this.signal);
  }

  succeeded(): void {
    this.failures = 0;
    this.since = undefined;
  }
}

/** A deadline for one exchange that is pushed back while a body streams (idle timeout). */
class Deadline {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  expired = false;
  readonly signal: AbortSignal = this.controller.signal;
  // Linked by hand, and unlinked in clear(): a run's signal outlives thousands of requests.
  private readonly onOuterAbort = (): void => this.controller.abort(this.outer?.reason);

  constructor(
    private readonly ms: number,
    private readonly outer: AbortSignal | undefined,
  ) {
    if (outer?.aborted) this.controller.abort(outer.reason);
    else outer?.addEventListener('abort', this.onOuterAbort, { once: true });
    this.refresh();
  }

  refresh(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.expired = true;
      this.controller.abort(new TransportError('IAC_TIMEOUT', `no answer within ${this.ms} ms`));
    }, this.ms);
    this.timer.unref?.();
  }

  clear(): void {
    clearTimeout(this.timer);
    this.outer?.removeEventListener('abort', this.onOuterAbort);
  }
}

export interface HttpRequest {
  method: 'GET' | 'POST';
  url: string;
  headers?: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** A fresh connection: for a POST that must not meet a stale keep-alive socket (it is never resent). */
  freshConnection?: boolean;
}

/** An answer whose headers arrived; its body is read at most once, within the deadline and a size bound. */
export class HttpResponse {
  private consumed = false;

  constructor(
    private readonly message: IncomingMessage,
    private readonly deadline: Deadline,
    private readonly outer: AbortSignal | undefined,
    private readonly onBytes: (n: number) => void,
  ) {}

  get status(): number {
    return this.message.statusCode ?? 0;
  }

  /** The server's reason phrase, cleaned of control characters and bounded. */
  get statusText(): string {
    return remoteLine(this.message.statusMessage ?? '', 120);
  }

  get headers(): IncomingHttpHeaders {
    return this.message.headers;
  }

  header(name: string): string | undefined {
    const value = this.message.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  }

  setCookies(): string[] {
    return this.message.headers['set-cookie'] ?? [];
  }

  /** The body as it arrives. A broken connection or idle timeout throws a TransportError. */
  async *chunks(): AsyncGenerator<Buffer> {
    if (this.consumed) throw new Error('the body was already read');
    this.consumed = true;
    let complete = false;
    try {
      for await (const chunk of this.message) {
        this.deadline.refresh();
        const bytes = chunk as Buffer;
        this.onBytes(bytes.length);
        yield bytes;
      }
      if (!this.message.complete) throw new TransportError('IAC_CLOSED', 'the connection closed before the answer was complete');
      complete = true;
    } catch (error) {
      throw this.translate(error);
    } finally {
      this.deadline.clear();
      // A consumer that stops early must not leave the connection half-read.
      if (!complete) this.message.destroy();
    }
  }

  /** The whole body as text, refused (the connection closed) above `limit` bytes. */
  async text(limit: number, onTooLarge: () => Error): Promise<string> {
    const declared = Number(this.header('content-length') ?? 'NaN');
    if (Number.isFinite(declared) && declared > limit) {
      this.discard();
      throw onTooLarge();
    }
    const parts: Buffer[] = [];
    let size = 0;
    for await (const chunk of this.chunks()) {
      size += chunk.length;
      if (size > limit) throw onTooLarge();
      parts.push(chunk);
    }
    return Buffer.concat(parts).toString('utf8');
  }

  /** Drops the body and frees the connection. */
  discard(): void {
    this.deadline.clear();
    if (!this.consumed) {
      this.consumed = true;
      this.message.resume();
    }
  }

  private translate(error: unknown): unknown {
    if (this.outer?.aborted) return new InterruptedError();
    if (this.deadline.expired) return new TransportError('IAC_TIMEOUT', 'the answer stalled');
    if (error instanceof TransportError || networkErrorCode(error) !== undefined) return error;
    return new TransportError('IAC_CLOSED', 'the connection closed before the answer was complete', { cause: error });
  }
}

export interface TransportOptions {
  baseUrl: string;
  policy: RetryPolicy;
  timeoutMs: number;
}

/** Sends requests to one Jenkins, counting requests and bytes (the benchmarks read `stats`). */
export class HttpTransport {
  readonly stats = { requests: 0, bytes: 0 };
  /** True once any answer came back: later refusals are a restart, not a wrong URL. */
  contacted = false;
  readonly policy: RetryPolicy;
  private readonly agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

  constructor(private readonly opts: TransportOptions) {
    this.policy = opts.policy;
  }

  /** One exchange, never retried: resolves when the headers arrived. Network failures throw TransportError. */
  send(req: HttpRequest): Promise<HttpResponse> {
    if (req.signal?.aborted) return Promise.reject(new InterruptedError());
    const url = new URL(req.url);
    const secure = url.protocol === 'https:';
    const deadline = new Deadline(this.opts.timeoutMs, req.signal);
    this.stats.requests++;
    return new Promise<HttpResponse>((resolve, reject) => {
      const request = (secure ? httpsRequest : httpRequest)(
        url,
        {
          method: req.method,
          headers: { ...req.headers, ...(req.body !== undefined ? { 'content-length': String(Buffer.byteLength(req.body)) } : {}) },
          agent: req.freshConnection ? false : secure ? this.agents.https : this.agents.http,
          signal: deadline.signal,
        },
        (message) => {
          this.contacted = true;
          resolve(new HttpResponse(message, deadline, req.signal, (n) => (this.stats.bytes += n)));
        },
      );
      request.on('error', (error) => {
        deadline.clear();
        if (req.signal?.aborted) reject(new InterruptedError());
        else if (deadline.expired) reject(new TransportError('IAC_TIMEOUT', `no answer within ${this.opts.timeoutMs} ms`));
        else reject(error);
      });
      request.end(req.body);
    });
  }

  /** A fresh failure streak for retrying idempotent work. */
  retries(signal: AbortSignal | undefined): RetrySession {
    return new RetrySession(this, signal);
  }

  /** Runs idempotent `fn` under the retry policy. */
  async retrying<T>(signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    const session = this.retries(signal);
    for (;;) {
      try {
        return await fn();
      } catch (error) {
        await session.failed(error);
      }
    }
  }

  /** What a failure that will not be retried becomes: typed IacErrors pass, network failures name the cause. */
  final(error: unknown): Error {
    if (isIacError(error)) return error;
    return unreachable(this.opts.baseUrl, error);
  }
}
