/**
 * A small Kubernetes HTTP client. The kubeconfig is read by kubeconfig.ts (kubectl's rules, no
 * library); plain credentials are applied by credentials.ts, exec plugins and auth-providers by
 * @kubernetes/client-node, imported only for such a user. Requests are plain node:http(s) through
 * one keep-alive agent, so iac owns timeouts, aborts, size bounds and the watch stream, and a LIST
 * followed by its WATCH reuse one connection.
 *
 * Untrusted server: every body and every watch event is bounded (refused above `maxBodyBytes`),
 * strings in parsed objects are cut (remote-text.ts), and nothing here retries — retry.ts holds the
 * one retry policy, used by the callers that know their deadline.
 */
import type * as HttpTypes from 'node:http';
import type { Agent, ClientRequest, IncomingMessage } from 'node:http';
import type * as HttpsTypes from 'node:https';
import type { Duplex } from 'node:stream';
import { InterruptedError, UnreachableError, UsageError } from '../errors.js';
import { credentialsFor, type KubeCredentials, type TlsOptions } from './credentials.js';
import { kubectlHint, type KubeTarget } from './kubectl-argv.js';
import { readKubeconfig } from './kubeconfig.js';
import { boundStrings, remoteLine } from './remote-text.js';
import type { StatusObject, WatchEvent } from './types.js';

export type { KubeTarget } from './kubectl-argv.js';

type HttpModule = typeof HttpTypes;
type HttpsModule = typeof HttpsTypes;

export interface KubeConnectionOptions {
  /** Explicit kubeconfig file; default: $KUBECONFIG (merged), ~/.kube/config, in-cluster. */
  kubeconfigPath?: string;
  /** Context to use; default: the kubeconfig's current context. */
  context?: string;
  /** Default namespace; default: the context's namespace, else `default`. */
  namespace?: string;
  /** KUBECONFIG, HOME, in-cluster variables. Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Largest response body or watch event accepted. Default 16 MiB. */
  maxBodyBytes?: number;
}

export type Query = Record<string, string | undefined>;

export interface WatchStreamEnd {
  /** `closed`: the server ended the stream; `dropped`: the connection broke (or went silent). */
  ended: 'closed' | 'dropped';
  /** Lines received (events, bookmarks, errors). */
  events: number;
  error?: Error;
}

export interface WatchOptions {
  /** Drop the stream when nothing (not even a bookmark) arrives for this long. */
  idleTimeoutMs?: number;
}

export interface KubeClient {
  readonly server: string;
  readonly context: string;
  readonly namespace: string;
  /** The target as configured, for hints (`kubectlHint(client.target, …)`). */
  readonly target: KubeTarget;
  /** `plain` (read by iac) or `library` (a plugin run by @kubernetes/client-node). */
  readonly credentialsVia: 'plain' | 'library';
  /** True once any request got an HTTP answer (then connection errors are worth retrying). */
  readonly everAnswered: boolean;
  getJson<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T>;
  getText(path: string, query?: Query, signal?: AbortSignal, options?: { maxBytes?: number }): Promise<string>;
  /** Streams a watch; resolves when the stream ends (never for an aborted signal: that rejects). */
  watch<T>(path: string, query: Query, onEvent: (event: WatchEvent<T>) => void, signal?: AbortSignal, options?: WatchOptions): Promise<WatchStreamEnd>;
  /** Closes idle keep-alive connections. */
  close(): void;
}

/**
 * A non-2xx answer. An UnreachableError (exit 4): the server answered, but not with what a rollout
 * can be judged on. `retryAfterMs` is the server's Retry-After, when given.
 */
export class KubeApiError extends UnreachableError {
  constructor(
    readonly statusCode: number,
    readonly reason: string | undefined,
    message: string,
    options: { hint?: string; retryAfterMs?: number; resource?: string } = {},
  ) {
    super(statusCode === 401 ? 'kube.unauthorized' : statusCode === 403 ? 'kube.forbidden' : `kube.http-${statusCode}`, message, options.hint === undefined ? {} : { hint: options.hint });
    this.retryAfterMs = options.retryAfterMs;
    this.resource = options.resource;
  }

  readonly retryAfterMs: number | undefined;
  /** The resource asked for (`pods`, `deployments`, `pods/log`, …). */
  readonly resource: string | undefined;
}

export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 30_000;
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);

function networkCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isNetworkError(error: unknown): boolean {
  const code = networkCode(error);
  return code !== undefined && (NETWORK_CODES.has(code) || code.startsWith('ERR_TLS') || code.includes('CERT'));
}

/** Retry-After: delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** `deployments`, `pods/log`, … from an API path (for messages and 403 handling). */
export function resourceOf(path: string): string {
  const parts = path.split('?')[0]?.split('/').filter((p) => p !== '') ?? [];
  const at = parts.indexOf('namespaces');
  const rest = at === -1 ? parts.slice(parts[0] === 'api' ? 2 : 3) : parts.slice(at + 2);
  if (rest.length === 0 && at !== -1) return 'namespaces';
  return rest.length >= 3 ? `${rest[0]}/${rest[2]}` : (rest[0] ?? '');
}

const MIB = 1024 * 1024;
function formatBytes(bytes: number): string {
  return bytes >= MIB ? `${(bytes / MIB).toFixed(bytes % MIB === 0 ? 0 : 1)} MiB` : `${Math.round(bytes / 1024)} KiB`;
}

/** Splits a byte stream into lines without re-scanning or re-copying what was buffered. */
class LineSplitter {
  private parts: Buffer[] = [];
  private length = 0;

  constructor(private readonly maxLine: number) {}

  /** Feeds a chunk; returns complete lines, or throws when one grows past the bound. */
  push(chunk: Buffer): Buffer[] {
    const lines: Buffer[] = [];
    let start = 0;
    let newline = chunk.indexOf(10);
    while (newline !== -1) {
      const piece = chunk.subarray(start, newline);
      lines.push(this.length === 0 ? piece : Buffer.concat([...this.parts, piece], this.length + piece.length));
      this.parts = [];
      this.length = 0;
      start = newline + 1;
      newline = chunk.indexOf(10, start);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.parts.push(rest);
      this.length += rest.length;
      if (this.length > this.maxLine) throw new RangeError(String(this.length));
    }
    return lines;
  }
}

/** Loads the kubeconfig and returns a client for its (or the given) context. */
export async function connectKube(options: KubeConnectionOptions = {}): Promise<KubeClient> {
  const selection = readKubeconfig({
    ...(options.kubeconfigPath !== undefined ? { kubeconfigPath: options.kubeconfigPath } : {}),
    ...(options.context !== undefined ? { context: options.context } : {}),
    ...(options.env !== undefined ? { env: options.env } : {}),
  });
  const context = selection.context;
  const namespace = options.namespace ?? selection.namespace ?? 'default';
  const target: KubeTarget = {
    ...(options.kubeconfigPath !== undefined ? { kubeconfigPath: options.kubeconfigPath } : {}),
    ...(options.context !== undefined ? { context: options.context } : {}),
    namespace,
  };
  const globalHint = (args: string[]): string => kubectlHint(target, args, { namespaced: false });
  const credentials: KubeCredentials = await credentialsFor(selection, globalHint);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const server = selection.cluster.server;
  let serverUrl: URL;
  try {
    serverUrl = new URL(server);
  } catch {
    throw new UsageError('kube.cluster', `cluster ${selection.cluster.name} has an invalid server URL`, { hint: globalHint(['config', 'view', '--minify']) });
  }
  if (serverUrl.protocol !== 'https:' && serverUrl.protocol !== 'http:') {
    throw new UsageError('kube.cluster', `cluster ${selection.cluster.name}: server must be an http(s) URL, not ${serverUrl.protocol}`, { hint: globalHint(['config', 'view', '--minify']) });
  }
  // For messages only: a server URL could carry user:password, which must never be printed.
  const shownServer = server.replace(/\/\/[^/@]*@/, '//');
  const http = await import('node:http');
  const https = await import('node:https');
  const clusterInfoHint = globalHint(['cluster-info']);
  let everAnswered = false;

  const unreachable = (what: string, cause: unknown): UnreachableError =>
    new UnreachableError('kube.unreachable', `cannot reach the Kubernetes API at ${shownServer} (${what})`, { hint: clusterInfoHint, cause });

  let agent: Agent | undefined;
  const agentFor = (tls: TlsOptions): Agent => {
    if (agent !== undefined) return agent;
    const proxy = selection.cluster.proxyUrl;
    if (proxy !== undefined) {
      agent = tunnelAgent(proxy, serverUrl, tls, { http, https, hint: globalHint(['config', 'view', '--minify']) });
    } else {
      agent = serverUrl.protocol === 'https:' ? new https.Agent({ keepAlive: true, ...tls }) : new http.Agent({ keepAlive: true });
    }
    return agent;
  };

  function urlFor(path: string, query: Query = {}): URL {
    const url = new URL(server + path);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, value);
    return url;
  }

  /** Opens a GET and resolves with the response once headers arrive. */
  async function open(url: URL, accept: string, signal: AbortSignal | undefined, timeoutMs: number | undefined): Promise<{ response: IncomingMessage; request: ClientRequest }> {
    if (signal?.aborted) throw new InterruptedError();
    const headers = await credentials.headers();
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = transport.request(url, { method: 'GET', agent: agentFor(credentials.tls), headers: { ...headers, Accept: accept } });
      const onAbort = (): void => {
        request.destroy();
        reject(new InterruptedError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      request.once('close', () => signal?.removeEventListener('abort', onAbort));
      if (timeoutMs !== undefined) {
        request.setTimeout(timeoutMs, () => request.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
      }
      request.once('error', (error) => reject(signal?.aborted ? new InterruptedError() : unreachable(networkCode(error) ?? remoteLine(error.message, 200), error)));
      request.once('response', (response) => {
        everAnswered = true;
        resolve({ response, request });
      });
      request.end();
    });
  }

  function tooLarge(what: string, size: number, limit: number): UnreachableError {
    return new UnreachableError(
      'kube.too-large',
      `the Kubernetes API at ${shownServer} sent ${what} of more than ${formatBytes(limit)} (${formatBytes(size)} so far); iac refuses answers that large`,
      { hint: clusterInfoHint },
    );
  }

  async function readBody(response: IncomingMessage, url: URL, limit: number): Promise<Buffer> {
    const declared = Number(response.headers['content-length'] ?? NaN);
    if (declared > limit) {
      response.destroy();
      throw tooLarge(`a body for ${url.pathname}`, declared, limit);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        response.destroy();
        throw tooLarge(`a body for ${url.pathname}`, size, limit);
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks, size);
  }

  function httpError(response: IncomingMessage, body: string, url: URL): KubeApiError {
    const statusCode = response.statusCode ?? 0;
    let status: StatusObject = {};
    try {
      status = JSON.parse(body) as StatusObject;
    } catch {
      // not a Status object: keep the HTTP code only
    }
    const resource = resourceOf(url.pathname);
    const message = typeof status.message === 'string' ? remoteLine(status.message, 300) : undefined;
    const retryAfter = parseRetryAfter(response.headers['retry-after'] as string | undefined);
    const extra = { resource, ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }) };
    if (statusCode === 401) {
      return new KubeApiError(401, status.reason, `the Kubernetes API at ${shownServer} refused the credentials of context "${context}" (401 Unauthorized)`, {
        ...extra,
        hint: globalHint(['auth', 'whoami']),
      });
    }
    if (statusCode === 403) {
      return new KubeApiError(403, status.reason, `the Kubernetes API at ${shownServer} forbids this request: ${message ?? `403 Forbidden for ${resource}`}`, {
        ...extra,
        hint: kubectlHint(target, ['auth', 'can-i', url.searchParams.get('watch') === 'true' ? 'watch' : 'list', resource.split('/')[0] ?? resource]),
      });
    }
    const text = message ?? `HTTP ${statusCode}${response.statusMessage ? ` ${remoteLine(response.statusMessage, 100)}` : ''} for ${url.pathname}`;
    return new KubeApiError(statusCode, status.reason, text, { ...extra, hint: clusterInfoHint });
  }

  async function get(path: string, query: Query | undefined, accept: string, signal: AbortSignal | undefined, limit: number): Promise<string> {
    const url = urlFor(path, query);
    const { response } = await open(url, accept, signal, REQUEST_TIMEOUT_MS);
    let body: Buffer;
    try {
      body = await readBody(response, url, limit);
    } catch (error) {
      if (signal?.aborted) throw new InterruptedError();
      if (error instanceof UnreachableError) throw error;
      throw unreachable(networkCode(error) ?? 'connection lost', error);
    }
    const code = response.statusCode ?? 0;
    if (code < 200 || code >= 300) throw httpError(response, body.subarray(0, 64 * 1024).toString('utf8'), url);
    return body.toString('utf8');
  }

  function parseJson<T>(text: string, what: string): T {
    try {
      return boundStrings(JSON.parse(text) as T);
    } catch {
      throw new UnreachableError('kube.bad-answer', `the Kubernetes API at ${shownServer} answered ${what} with something that is not JSON`, { hint: clusterInfoHint });
    }
  }

  return {
    server,
    context,
    namespace,
    target,
    credentialsVia: credentials.via,
    get everAnswered() {
      return everAnswered;
    },
    async getJson<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
      return parseJson<T>(await get(path, query, 'application/json', signal, maxBodyBytes), path);
    },
    getText: (path, query, signal, textOptions) => get(path, query, 'text/plain, */*', signal, Math.min(textOptions?.maxBytes ?? maxBodyBytes, maxBodyBytes)),
    async watch<T>(path: string, query: Query, onEvent: (event: WatchEvent<T>) => void, signal?: AbortSignal, watchOptions: WatchOptions = {}): Promise<WatchStreamEnd> {
      const url = urlFor(path, { ...query, watch: 'true' });
      const { response, request } = await open(url, 'application/json', signal, undefined);
      const code = response.statusCode ?? 0;
      if (code !== 200) {
        const body = await readBody(response, url, 64 * 1024).catch(() => Buffer.alloc(0));
        throw httpError(response, body.toString('utf8'), url);
      }
      return new Promise<WatchStreamEnd>((resolve, reject) => {
        const lines = new LineSplitter(maxBodyBytes);
        let events = 0;
        let settled = false;
        let idle: NodeJS.Timeout | undefined;
        const armIdle = (): void => {
          if (watchOptions.idleTimeoutMs === undefined) return;
          if (idle !== undefined) clearTimeout(idle);
          idle = setTimeout(() => finish({ ended: 'dropped', events, error: new Error(`no data for ${Math.round(watchOptions.idleTimeoutMs as number / 1000)}s`) }), watchOptions.idleTimeoutMs);
        };
        const finish = (end: WatchStreamEnd | Error): void => {
          if (settled) return;
          settled = true;
          if (idle !== undefined) clearTimeout(idle);
          signal?.removeEventListener('abort', onAbort);
          request.destroy();
          if (end instanceof Error) reject(end);
          else resolve(end);
        };
        const onAbort = (): void => finish(new InterruptedError());
        signal?.addEventListener('abort', onAbort, { once: true });
        armIdle();
        response.on('data', (chunk: Buffer) => {
          if (settled) return;
          armIdle();
          let complete: Buffer[];
          try {
            complete = lines.push(chunk);
          } catch (error) {
            finish(tooLarge(`a watch event for ${url.pathname}`, Number((error as Error).message), maxBodyBytes));
            return;
          }
          for (const line of complete) {
            if (settled) return;
            const text = line.toString('utf8').trim();
            if (text === '') continue;
            let event: WatchEvent<T> | undefined;
            try {
              event = boundStrings(JSON.parse(text) as WatchEvent<T>);
            } catch {
              event = undefined; // a torn line from a dropped connection: the resume re-delivers it
            }
            if (event === undefined || typeof event !== 'object' || event === null) continue;
            events++;
            try {
              onEvent(event);
            } catch (error) {
              // The handler rejected the stream (e.g. an ERROR event): end it with that error.
              finish(error instanceof Error ? error : new Error(String(error)));
            }
          }
        });
        response.once('end', () => finish({ ended: 'closed', events }));
        response.once('aborted', () => finish({ ended: 'dropped', events }));
        response.once('error', (error) => finish({ ended: 'dropped', events, error }));
        response.once('close', () => finish({ ended: response.complete ? 'closed' : 'dropped', events }));
      });
    },
    close() {
      agent?.destroy();
    },
  };
}

/**
 * `proxy-url` (http or https proxy): each connection is a CONNECT tunnel through the proxy, then TLS
 * to the API server when it is https. SOCKS proxies are not supported without the library.
 */
function tunnelAgent(
  proxyUrl: string,
  serverUrl: URL,
  tls: TlsOptions,
  { http, https, hint }: { http: HttpModule; https: HttpsModule; hint: string },
): Agent {
  let proxy: URL;
  try {
    proxy = new URL(proxyUrl);
  } catch {
    throw new UsageError('kube.proxy', 'the cluster\'s proxy-url is not a URL', { hint });
  }
  if (proxy.protocol !== 'http:' && proxy.protocol !== 'https:') {
    throw new UsageError('kube.proxy', `proxy-url ${proxy.protocol}// proxies are not supported (http and https are)`, { hint });
  }
  const secure = serverUrl.protocol === 'https:';
  const Base = secure ? https.Agent : http.Agent;
  const port = serverUrl.port || (secure ? '443' : '80');
  class TunnelAgent extends Base {
    override createConnection(_options: unknown, done?: (error: Error | null, stream: Duplex) => void): undefined {
      const callback = (error: Error | null, socket?: Duplex): void => done?.(error, socket as Duplex);
      const auth = proxy.username !== '' ? { 'Proxy-Authorization': `Basic ${Buffer.from(`${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`).toString('base64')}` } : {};
      const connect = (proxy.protocol === 'https:' ? https : http).request({
        host: proxy.hostname,
        port: proxy.port || (proxy.protocol === 'https:' ? 443 : 80),
        method: 'CONNECT',
        path: `${serverUrl.hostname}:${port}`,
        headers: { Host: `${serverUrl.hostname}:${port}`, ...auth },
        agent: false,
      });
      connect.once('connect', (response, socket) => {
        if (response.statusCode !== 200) {
          socket.destroy();
          callback(Object.assign(new Error(`proxy answered CONNECT with ${response.statusCode}`), { code: 'EPROXY' }));
          return;
        }
        if (!secure) {
          callback(null, socket);
          return;
        }
        void import('node:tls').then((tlsModule) => {
          const secureSocket = tlsModule.connect({ socket, servername: tls.servername ?? serverUrl.hostname, ...tls });
          secureSocket.once('secureConnect', () => callback(null, secureSocket));
          secureSocket.once('error', (error) => callback(error));
        });
      });
      connect.once('error', (error) => callback(error));
      connect.end();
      return undefined;
    }
  }
  return new TunnelAgent({ keepAlive: true, ...(secure ? tls : {}) });
}
