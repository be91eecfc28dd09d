/**
 * A fault-injecting HTTP proxy in front of the Kubernetes sandbox: it forwards every request (the
 * sandbox's https, any certificate) and, by rule, answers some itself instead — a 500 every Nth
 * request, 429 with Retry-After, 403 for a resource, or a watch that ends at once without an
 * event. It counts requests and the TCP connections clients open to it.
 */
import { writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { stringify } from 'yaml';

export interface ProxyFaults {
  /**
   * 500 InternalError for every Nth request of each stream (verb + resource, e.g. `watch deployments`),
   * starting with the first: the first LIST and the first WATCH of each kind fail, then every Nth.
   * Counted per stream so that no stream can be starved by the others' requests.
   */
  status500Every?: number;
  /** Every request is answered with this status (503, 500, …) while set. */
  statusAlways?: number;
  /** The next N requests are answered 429 with this Retry-After (seconds). */
  tooManyRequests?: { count: number; retryAfterSeconds: number };
  /** Resources (`pods`, `events`, `pods/log`, `replicasets`) answered 403 Forbidden. */
  forbid?: string[];
  /** Watches answered 200 and ended at once without any event: the next N, or all. */
  emptyWatches?: number | 'all';
  /** Every watch is answered with this status (the LISTs still work). */
  watchStatus?: number;
}

export interface ProxyRequest {
  verb: 'list' | 'watch' | 'get' | 'other';
  resource: string;
  path: string;
  /** What the proxy answered itself (a fault), or `forwarded`. */
  answer: number | 'forwarded' | 'empty-watch';
  at: number;
}

export interface KubeFaultProxy {
  url: string;
  faults: ProxyFaults;
  readonly requests: ProxyRequest[];
  /** TCP connections accepted so far. */
  readonly connections: number;
  kubeconfig(path: string, options: { token: string; namespace?: string }): Promise<string>;
  close(): Promise<void>;
}

function classify(url: URL): { verb: ProxyRequest['verb']; resource: string } {
  const parts = url.pathname.split('/').filter((p) => p !== '');
  const at = parts.indexOf('namespaces');
  const rest = at === -1 ? [] : parts.slice(at + 2);
  const resource = rest.length >= 3 ? `${rest[0]}/${rest[2]}` : (rest[0] ?? '');
  if (resource === '') return { verb: 'other', resource: url.pathname };
  if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') return { verb: 'watch', resource };
  return { verb: rest.length === 1 ? 'list' : 'get', resource };
}

function status(response: ServerResponse, code: number, reason: string, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
  response.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
  response.end(body);
}

export async function startKubeFaultProxy(upstream: string, faults: ProxyFaults = {}): Promise<KubeFaultProxy> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true, rejectUnauthorized: false });
  const requests: ProxyRequest[] = [];
  const perStream = new Map<string, number>();
  let connections = 0;
  const state: { faults: ProxyFaults } = { faults };

  const handle = (request: IncomingMessage, response: ServerResponse): void => {
    const url = new URL(request.url ?? '/', 'http://proxy');
    const { verb, resource } = classify(url);
    const entry: ProxyRequest = { verb, resource, path: url.pathname + url.search, answer: 'forwarded', at: Date.now() };
    requests.push(entry);
    const f = state.faults;
    if (f.statusAlways !== undefined) {
      entry.answer = f.statusAlways;
      status(response, f.statusAlways, 'ServiceUnavailable', 'the server is currently unable to handle the request');
      return;
    }
    if (f.tooManyRequests !== undefined && f.tooManyRequests.count > 0) {
      f.tooManyRequests.count--;
      entry.answer = 429;
      status(response, 429, 'TooManyRequests', 'too many requests, please try again later', { 'Retry-After': String(f.tooManyRequests.retryAfterSeconds) });
      return;
    }
    const stream = `${verb} ${resource}`;
    const nth = (perStream.get(stream) ?? 0) + 1;
    perStream.set(stream, nth);
    if (f.status500Every !== undefined && (nth - 1) % f.status500Every === 0) {
      entry.answer = 500;
      status(response, 500, 'InternalError', 'Internal error occurred: etcdserver: request timed out');
      return;
    }
    if (verb === 'watch' && f.watchStatus !== undefined) {
      entry.answer = f.watchStatus;
      status(response, f.watchStatus, 'InternalError', 'Internal error occurred: watch chan error: etcdserver: no leader');
      return;
    }
    if (f.forbid?.includes(resource)) {
      entry.answer = 403;
      status(response, 403, 'Forbidden', `${resource} is forbidden: User "iac" cannot ${verb} resource "${resource}" in API group "" in the namespace`);
      return;
    }
    if (verb === 'watch' && f.emptyWatches !== undefined && (f.emptyWatches === 'all' || f.emptyWatches > 0)) {
      if (f.emptyWatches !== 'all') f.emptyWatches--;
      entry.answer = 'empty-watch';
      response.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
      response.end();
      return;
    }
    const forward = (target.protocol === 'https:' ? httpsRequest : httpRequest)(
      {
        host: target.hostname,
        port: target.port,
        method: request.method,
        path: request.url,
        headers: { ...request.headers, host: target.host },
        ...(target.protocol === 'https:' ? { agent } : {}),
      },
      (upstreamResponse) => {
        response.writeHead(upstreamResponse.statusCode ?? 502, upstreamResponse.headers);
        upstreamResponse.pipe(response);
        upstreamResponse.once('error', () => response.destroy());
      },
    );
    forward.once('error', () => response.destroy());
    // A client that goes away ends the upstream request too (watches).
    response.once('close', () => forward.destroy());
    request.pipe(forward);
  };

  const server = createServer(handle);
  server.on('connection', () => connections++);
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    get faults() {
      return state.faults;
    },
    set faults(next: ProxyFaults) {
      state.faults = next;
    },
    requests,
    get connections() {
      return connections;
    },
    async kubeconfig(path, options) {
      const config = {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'fault-proxy', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'fault-proxy', user: { token: options.token } }],
        contexts: [{ name: 'fault-proxy', context: { cluster: 'fault-proxy', user: 'fault-proxy', namespace: options.namespace ?? 'default' } }],
        'current-context': 'fault-proxy',
      };
      await writeFile(path, stringify(config), { mode: 0o600 });
      return path;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
