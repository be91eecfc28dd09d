/**
 * A small Kubernetes HTTP client: @kubernetes/client-node loads the kubeconfig and authenticates
 * (token, client certificate, exec plugins such as `aws eks get-token`, OIDC); the requests
 * themselves are plain node:http(s) so that iac owns timeouts, aborts and the watch stream.
 * The library is imported lazily: it costs ~0.4 s and only the rollout and status steps need it.
 */
import type { ClientRequest, IncomingMessage, RequestOptions } from 'node:http';
import { InterruptedError, UnreachableError, UsageError } from '../errors.js';
import type { StatusObject, WatchEvent } from './types.js';

export interface KubeConnectionOptions {
  /** Explicit kubeconfig file; default: $KUBECONFIG, ~/.kube/config, in-cluster. */
  kubeconfigPath?: string;
  /** Context to use; default: the kubeconfig's current context. */
  context?: string;
  /** Default namespace; default: the context's namespace, else `default`. */
  namespace?: string;
}

export type Query = Record<string, string | undefined>;

export interface WatchStreamEnd {
  /** `closed`: the server ended the stream; `dropped`: the connection broke. */
  ended: 'closed' | 'dropped';
  error?: Error;
}

export interface KubeClient {
  readonly server: string;
  readonly context: string;
  readonly namespace: string;
  getJson<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T>;
  getText(path: string, query?: Query, signal?: AbortSignal): Promise<string>;
  /** Streams a watch; resolves when the stream ends (never for an aborted signal: that rejects). */
  watch<T>(path: string, query: Query, onEvent: (event: WatchEvent<T>) => void, signal?: AbortSignal): Promise<WatchStreamEnd>;
}

/** A non-2xx answer other than 401/403 (which become UnreachableError). */
export class KubeApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly reason: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

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

/** Loads the kubeconfig and returns a client for its (or the given) context. */
export async function connectKube(options: KubeConnectionOptions = {}): Promise<KubeClient> {
  const k8s = await import('@kubernetes/client-node');
  const config = new k8s.KubeConfig();
  try {
    if (options.kubeconfigPath !== undefined) config.loadFromFile(options.kubeconfigPath);
    else config.loadFromDefault();
  } catch (error) {
    throw new UsageError('kube.kubeconfig', `cannot load the kubeconfig: ${(error as Error).message}`, {
      hint: 'kubectl config view',
      cause: error,
    });
  }
  if (options.context !== undefined) {
    if (config.getContextObject(options.context) === null) {
      const known = config.getContexts().map((context) => context.name);
      throw new UsageError('kube.context', `kubeconfig has no context "${options.context}" (known: ${known.join(', ') || 'none'})`, {
        hint: 'kubectl config get-contexts',
      });
    }
    config.setCurrentContext(options.context);
  }
  const context = config.getCurrentContext();
  const cluster = config.getCurrentCluster();
  if (cluster === null) {
    throw new UsageError('kube.cluster', `kubeconfig context "${context}" names no cluster`, { hint: 'kubectl config get-contexts' });
  }
  const namespace = options.namespace ?? config.getContextObject(context)?.namespace ?? 'default';
  const server = cluster.server.replace(/\/+$/, '');
  // For messages only: a server URL could carry user:password, which must never be printed.
  const shownServer = server.replace(/\/\/[^/@]*@/, '//');
  const http = await import('node:http');
  const https = await import('node:https');

  const unreachable = (what: string, cause: unknown): UnreachableError =>
    new UnreachableError('kube.unreachable', `cannot reach the Kubernetes API at ${shownServer} (${what})`, {
      hint: `kubectl --context ${context} cluster-info`,
      cause,
    });

  async function requestOptions(): Promise<RequestOptions> {
    const options: RequestOptions = {};
    try {
      await config.applyToHTTPSOptions(options);
    } catch (error) {
      throw new UnreachableError('kube.credentials', `cannot get credentials for kubeconfig context "${context}": ${(error as Error).message.split('\n')[0]}`, {
        hint: `kubectl --context ${context} auth whoami`,
        cause: error,
      });
    }
    return options;
  }

  function urlFor(path: string, query: Query = {}): URL {
    const url = new URL(server + path);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, value);
    return url;
  }

  /** Opens a GET and resolves with the response once headers arrive. */
  async function open(url: URL, accept: string, signal: AbortSignal | undefined, timeoutMs: number | undefined): Promise<{ response: IncomingMessage; request: ClientRequest }> {
    if (signal?.aborted) throw new InterruptedError();
    const base = await requestOptions();
    const transport = url.protocol === 'https:' ? https : http;
    return new Promise((resolve, reject) => {
      const request = transport.request(url, { ...base, method: 'GET', headers: { ...base.headers, Accept: accept } });
      const onAbort = (): void => {
        request.destroy();
        reject(new InterruptedError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      request.once('close', () => signal?.removeEventListener('abort', onAbort));
      if (timeoutMs !== undefined) {
        request.setTimeout(timeoutMs, () => request.destroy(Object.assign(new Error('request timed out'), { code: 'ETIMEDOUT' })));
      }
      request.once('error', (error) => reject(signal?.aborted ? new InterruptedError() : unreachable(networkCode(error) ?? error.message, error)));
      request.once('response', (response) => resolve({ response, request }));
      request.end();
    });
  }

  async function readBody(response: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of response) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  function httpError(statusCode: number, body: string, url: URL): Error {
    let status: StatusObject = {};
    try {
      status = JSON.parse(body) as StatusObject;
    } catch {
      // not a Status object: keep the HTTP code only
    }
    const resource = url.pathname.split('/').slice(-1)[0] ?? '';
    if (statusCode === 401) {
      return new UnreachableError('kube.unauthorized', `the Kubernetes API at ${shownServer} refused the credentials of context "${context}" (401 Unauthorized)`, {
        hint: `kubectl --context ${context} auth whoami`,
      });
    }
    if (statusCode === 403) {
      return new UnreachableError('kube.forbidden', `the Kubernetes API at ${shownServer} forbids this request: ${status.message ?? `403 Forbidden for ${resource}`}`, {
        hint: `kubectl --context ${context} auth can-i list ${resource} -n ${namespace}`,
      });
    }
    return new KubeApiError(statusCode, status.reason, status.message ?? `HTTP ${statusCode} for ${url.pathname}`);
  }

  async function get(path: string, query: Query | undefined, accept: string, signal?: AbortSignal): Promise<string> {
    const url = urlFor(path, query);
    const { response } = await open(url, accept, signal, REQUEST_TIMEOUT_MS);
    let body: string;
    try {
      body = await readBody(response);
    } catch (error) {
      if (signal?.aborted) throw new InterruptedError();
      throw unreachable(networkCode(error) ?? 'connection lost', error);
    }
    const code = response.statusCode ?? 0;
    if (code < 200 || code >= 300) throw httpError(code, body, url);
    return body;
  }

  return {
    server,
    context,
    namespace,
    async getJson<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
      return JSON.parse(await get(path, query, 'application/json', signal)) as T;
    },
    getText: (path, query, signal) => get(path, query, 'text/plain, */*', signal),
    async watch<T>(path: string, query: Query, onEvent: (event: WatchEvent<T>) => void, signal?: AbortSignal): Promise<WatchStreamEnd> {
      const url = urlFor(path, { ...query, watch: 'true' });
      const { response, request } = await open(url, 'application/json', signal, undefined);
      const code = response.statusCode ?? 0;
      if (code !== 200) throw httpError(code, await readBody(response).catch(() => ''), url);
      return new Promise<WatchStreamEnd>((resolve, reject) => {
        let buffer = '';
        let settled = false;
        const finish = (end: WatchStreamEnd | Error): void => {
          if (settled) return;
          settled = true;
          signal?.removeEventListener('abort', onAbort);
          request.destroy();
          if (end instanceof Error) reject(end);
          else resolve(end);
        };
        const onAbort = (): void => finish(new InterruptedError());
        signal?.addEventListener('abort', onAbort, { once: true });
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          buffer += chunk;
          let newline = buffer.indexOf('\n');
          while (newline !== -1) {
            const line = buffer.slice(0, newline).trim();
            buffer = buffer.slice(newline + 1);
            if (line !== '') {
              let event: WatchEvent<T> | undefined;
              try {
                event = JSON.parse(line) as WatchEvent<T>;
              } catch {
                event = undefined; // a torn line from a dropped connection: the resume re-delivers it
              }
              if (event !== undefined) {
                try {
                  onEvent(event);
                } catch (error) {
                  // The handler rejected the stream (e.g. an ERROR event): end it with that error.
                  finish(error instanceof Error ? error : new Error(String(error)));
                }
              }
            }
            if (settled) return;
            newline = buffer.indexOf('\n');
          }
        });
        response.once('end', () => finish({ ended: 'closed' }));
        response.once('aborted', () => finish({ ended: 'dropped' }));
        response.once('error', (error) => finish({ ended: 'dropped', error }));
        response.once('close', () => finish({ ended: response.complete ? 'closed' : 'dropped' }));
      });
    },
  };
}
