/**
 * A Kubernetes-API-compatible server on 127.0.0.1 for tests and `iac demo`: discovery, GET / LIST /
 * WATCH for the workload kinds, replicasets, pods, events and pod logs, with real resourceVersion,
 * selector, bookmark, 410-expiry, Status-error and bearer-token semantics — enough for the real
 * kubectl and @kubernetes/client-node. A scenario drives rollouts; faults can be injected.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { stringify } from 'yaml';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, servedTypes, toTable } from './kubernetes-discovery.js';
import { ScenarioRunner, type SandboxWorkloadKind, type WorkloadScenario } from './kubernetes-scenario.js';
import {
  SelectorError,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  type FieldSelector,
  type LabelSelector,
} from './kubernetes-selectors.js';
import { selfSignedCertificate } from './kubernetes-tls.js';
import { KubeStore, apiVersionOf, type ResourceType, type StoredObject } from './kubernetes-store.js';

export type { WorkloadScenario, SandboxWorkloadKind, PodFailure } from './kubernetes-scenario.js';

export interface KubeSandboxFaults {
  /** Abruptly drops every open watch connection this often. */
  dropWatchesEveryMs?: number;
  /** Delay before every response. */
  latencyMs?: number;
  /** Once, after this long: every open watch gets an ERROR 410 Expired and the history is compacted. */
  expireWatchesOnceAfterMs?: number;
}

export interface KubeSandboxOptions {
  /** Bearer token clients must send; default a random one. */
  token?: string;
  /** Also serve apps.openshift.io/v1 deploymentconfigs. */
  openshift?: boolean;
  workloads?: WorkloadScenario[];
  faults?: KubeSandboxFaults;
  /** How often a watch that asked for bookmarks gets one. Default 1000 ms. */
  bookmarkIntervalMs?: number;
  /**
   * Serve https with a self-signed certificate (default: when `openssl` is available). kubectl
   * sends no credentials over plain http, so only client-node works against an http sandbox.
   */
  tls?: boolean;
}

export interface KubeRequestRecord {
  method: string;
  path: string;
  /** `get`, `list`, `watch`, `log` or `discovery`. */
  verb: string;
  /** e.g. `deployments`; `''` for discovery. */
  resource: string;
  namespace?: string;
  status: number;
}

export interface KubeRequestCounter {
  readonly log: readonly KubeRequestRecord[];
  /** Requests with this verb and resource (and namespace when given). */
  count(verb: string, resource: string, namespace?: string): number;
  reset(): void;
}

export interface KubeconfigOptions {
  namespace?: string;
  context?: string;
  /** Write a wrong token (to test 401 handling). */
  token?: string;
}

export interface KubeSandbox {
  url: string;
  token: string;
  /** Writes a kubeconfig for this sandbox (insecure-skip-tls-verify, token auth); returns the path. */
  kubeconfig(path: string, options?: KubeconfigOptions): Promise<string>;
  requests: KubeRequestCounter;
  /** Adds workloads and starts their rollouts now. */
  setScenario(workloads: WorkloadScenario[]): void;
  setFaults(faults: KubeSandboxFaults): void;
  /** Every open watch gets ERROR 410 Expired and older resourceVersions become unwatchable. */
  expireWatches(): void;
  /** Drops every open watch connection now. */
  dropWatches(): void;
  deleteWorkload(kind: SandboxWorkloadKind, name: string, namespace?: string): void;
  /** Direct access to the stored objects (tests). */
  store: KubeStore;
  close(): Promise<void>;
}

const JSON_TYPE = 'application/json';

function statusBody(code: number, reason: string, message: string, details?: Record<string, unknown>): unknown {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

class HttpStatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }
}

interface ResourcePath {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

interface OpenWatch {
  response: ServerResponse;
  finish: (reason: 'expired' | 'dropped' | 'closed') => void;
}

export async function startKubeSandbox(options: KubeSandboxOptions = {}): Promise<KubeSandbox> {
  const token = options.token ?? randomBytes(16).toString('hex');
  const openshift = options.openshift ?? false;
  const bookmarkIntervalMs = options.bookmarkIntervalMs ?? 1000;
  const store = new KubeStore();
  const runner = new ScenarioRunner(store);
  const log: KubeRequestRecord[] = [];
  const watches = new Set<OpenWatch>();
  let faults: KubeSandboxFaults = {};
  const faultTimers: NodeJS.Timeout[] = [];

  const types = servedTypes(openshift);

  function parseResourcePath(pathname: string): ResourcePath | undefined {
    const parts = pathname.split('/').filter((part) => part !== '');
    let group: string;
    let rest: string[];
    if (parts[0] === 'api' && parts[1] === 'v1') {
      group = '';
      rest = parts.slice(2);
    } else if (parts[0] === 'apis' && parts.length >= 4) {
      group = parts[1] as string;
      if (parts[2] !== 'v1') return undefined;
      rest = parts.slice(3);
    } else return undefined;
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const type = types.find((candidate) => candidate.group === group && candidate.resource === rest[0]);
    if (type === undefined || rest.length > 3) return undefined;
    return { type, ...(namespace === undefined ? {} : { namespace }), ...(rest[1] === undefined ? {} : { name: rest[1] }), ...(rest[2] === undefined ? {} : { subresource: rest[2] }) };
  }

  function send(response: ServerResponse, status: number, body: unknown): void {
    const text = JSON.stringify(body);
    response.writeHead(status, { 'Content-Type': JSON_TYPE, 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
    response.end(text);
  }

  function notFound(type: ResourceType, name: string): HttpStatusError {
    const qualified = type.group === '' ? type.resource : `${type.resource}.${type.group}`;
    return new HttpStatusError(404, 'NotFound', `${qualified} "${name}" not found`, { name, group: type.group, kind: type.resource });
  }

  function selectors(url: URL, type: ResourceType): { fields: FieldSelector; labels: LabelSelector } {
    try {
      return {
        fields: parseFieldSelector(url.searchParams.get('fieldSelector'), type.resource),
        labels: parseLabelSelector(url.searchParams.get('labelSelector')),
      };
    } catch (error) {
      if (error instanceof SelectorError) throw new HttpStatusError(400, 'BadRequest', error.message);
      throw error;
    }
  }

  function withTypeMeta(type: ResourceType, object: StoredObject): StoredObject {
    return { ...object, apiVersion: apiVersionOf(type), kind: type.kind };
  }

  function handleList(request: IncomingMessage, response: ServerResponse, url: URL, target: ResourcePath): void {
    const { fields, labels } = selectors(url, target.type);
    const items = store
      .list(target.type.resource, target.namespace)
      .filter((object) => matchesFields(fields, object) && matchesLabels(labels, object.metadata.labels));
    const accept = request.headers.accept ?? '';
    if (accept.includes('as=Table')) {
      send(response, 200, toTable(target.type.resource, items, store.resourceVersion));
      return;
    }
    send(response, 200, {
      kind: `${target.type.kind}List`,
      apiVersion: apiVersionOf(target.type),
      metadata: { resourceVersion: store.resourceVersion },
      items: items.map((object) => withTypeMeta(target.type, object)),
    });
  }

  function handleWatch(request: IncomingMessage, response: ServerResponse, url: URL, target: ResourcePath): void {
    const { fields, labels } = selectors(url, target.type);
    const nameFields: FieldSelector = target.name === undefined ? [] : [{ path: 'metadata.name', value: target.name, negate: false }];
    const matches = (object: StoredObject): boolean =>
      (target.namespace === undefined || object.metadata.namespace === target.namespace) &&
      matchesFields([...fields, ...nameFields], object) &&
      matchesLabels(labels, object.metadata.labels);
    response.writeHead(200, { 'Content-Type': JSON_TYPE, 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    response.flushHeaders();
    const write = (type: string, object: unknown): void => {
      // One event per line: client-node splits the stream with readline.
      response.write(`${JSON.stringify({ type, object })}\n`);
    };
    const rvText = url.searchParams.get('resourceVersion') ?? '';
    const timers: NodeJS.Timeout[] = [];
    let unsubscribe = (): void => {};
    let finished = false;
    const watch: OpenWatch = {
      response,
      finish: (reason) => {
        if (finished) return;
        finished = true;
        unsubscribe();
        for (const timer of timers) clearTimeout(timer);
        watches.delete(watch);
        if (reason === 'expired') {
          write('ERROR', statusBody(410, 'Expired', `too old resource version: ${rvText || '0'} (${store.oldestResourceVersion})`));
          response.end();
        } else if (reason === 'dropped') response.destroy();
        else response.end();
      },
    };
    watches.add(watch);
    request.on('close', () => watch.finish('closed'));

    if (rvText !== '' && rvText !== '0') {
      const rv = Number(rvText);
      if (!Number.isInteger(rv)) {
        write('ERROR', statusBody(400, 'BadRequest', `invalid resource version: ${rvText}`));
        watch.finish('closed');
        return;
      }
      const replay = store.eventsSince(rv);
      if (replay === undefined) {
        watch.finish('expired');
        return;
      }
      for (const event of replay) {
        if (event.resource === target.type.resource && matches(event.object)) write(event.type, withTypeMeta(target.type, event.object));
      }
    } else {
      for (const object of store.list(target.type.resource, target.namespace)) {
        if (matches(object)) write('ADDED', withTypeMeta(target.type, object));
      }
    }
    unsubscribe = store.subscribe((event) => {
      if (event.resource === target.type.resource && matches(event.object)) write(event.type, withTypeMeta(target.type, event.object));
    });
    if (url.searchParams.get('allowWatchBookmarks') === 'true') {
      const bookmark = (): void => {
        write('BOOKMARK', { kind: target.type.kind, apiVersion: apiVersionOf(target.type), metadata: { resourceVersion: store.resourceVersion } });
        timers.push(setTimeout(bookmark, bookmarkIntervalMs));
      };
      timers.push(setTimeout(bookmark, bookmarkIntervalMs));
    }
    const timeoutSeconds = Number(url.searchParams.get('timeoutSeconds') ?? '1800');
    timers.push(setTimeout(() => watch.finish('closed'), Math.max(1, Math.min(timeoutSeconds, 3600)) * 1000));
  }

  function handleLog(response: ServerResponse, url: URL, target: ResourcePath): void {
    const name = target.name as string;
    if (store.get('pods', target.namespace ?? '', name) === undefined) throw notFound(target.type, name);
    const lines = runner.logs.get(name) ?? [];
    const tail = Number(url.searchParams.get('tailLines') ?? lines.length);
    const text = lines.slice(Math.max(0, lines.length - tail)).map((line) => `${line}\n`).join('');
    response.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(text) });
    response.end(text);
  }

  function record(request: IncomingMessage, verb: string, resource: string, status: number, namespace?: string): void {
    log.push({ method: request.method ?? 'GET', path: request.url ?? '', verb, resource, status, ...(namespace === undefined ? {} : { namespace }) });
  }

  function route(request: IncomingMessage, response: ServerResponse): void {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (request.headers.authorization !== `Bearer ${token}`) {
      record(request, 'unauthorized', '', 401);
      send(response, 401, statusBody(401, 'Unauthorized', 'Unauthorized'));
      return;
    }
    if (request.method !== 'GET') {
      record(request, request.method?.toLowerCase() ?? '', '', 405);
      send(response, 405, statusBody(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`));
      return;
    }
    const discovery = discoveryDocument(path);
    if (discovery !== undefined) {
      record(request, 'discovery', '', 200);
      send(response, 200, discovery);
      return;
    }
    const namespacePath = /^\/api\/v1\/namespaces(?:\/([^/]+))?$/.exec(path);
    if (namespacePath) {
      serveNamespaces(request, response, namespacePath[1]);
      return;
    }
    const target = parseResourcePath(path);
    if (target === undefined) {
      record(request, 'unknown', '', 404);
      send(response, 404, statusBody(404, 'NotFound', 'the server could not find the requested resource'));
      return;
    }
    const resource = target.subresource === undefined ? target.type.resource : `${target.type.resource}/${target.subresource}`;
    try {
      if (target.subresource === 'log' && target.type.resource === 'pods') {
        record(request, 'get', resource, 200, target.namespace);
        handleLog(response, url, target);
      } else if (target.subresource !== undefined) {
        throw new HttpStatusError(404, 'NotFound', 'the server could not find the requested resource');
      } else if (url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1') {
        record(request, 'watch', resource, 200, target.namespace);
        handleWatch(request, response, url, target);
      } else if (target.name === undefined) {
        record(request, 'list', resource, 200, target.namespace);
        handleList(request, response, url, target);
      } else {
        record(request, 'get', resource, 200, target.namespace);
        const object = store.get(target.type.resource, target.namespace ?? '', target.name);
        if (object === undefined) throw notFound(target.type, target.name);
        send(response, 200, withTypeMeta(target.type, object));
      }
    } catch (error) {
      if (!(error instanceof HttpStatusError)) throw error;
      const last = log[log.length - 1];
      if (last !== undefined) last.status = error.code;
      send(response, error.code, statusBody(error.code, error.reason, error.message, error.details));
    }
  }

  /** Namespaces exist when something lives in them (plus `default`); kubectl checks them on NotFound. */
  function namespaceNames(): string[] {
    const names = new Set(['default']);
    for (const type of types) for (const object of store.list(type.resource)) names.add(object.metadata.namespace);
    return [...names].sort();
  }

  function serveNamespaces(request: IncomingMessage, response: ServerResponse, name: string | undefined): void {
    const namespace = (ns: string): unknown => ({
      kind: 'Namespace',
      apiVersion: 'v1',
      metadata: { name: ns, uid: `ns-${ns}`, resourceVersion: '1', creationTimestamp: '2024-01-01T00:00:00Z' },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    });
    if (name === undefined) {
      record(request, 'list', 'namespaces', 200);
      send(response, 200, { kind: 'NamespaceList', apiVersion: 'v1', metadata: { resourceVersion: store.resourceVersion }, items: namespaceNames().map(namespace) });
      return;
    }
    const found = namespaceNames().includes(name);
    record(request, 'get', 'namespaces', found ? 200 : 404);
    if (found) send(response, 200, namespace(name));
    else send(response, 404, statusBody(404, 'NotFound', `namespaces "${name}" not found`, { name, kind: 'namespaces' }));
  }

  function discoveryDocument(path: string): unknown | undefined {
    if (path === '/api') return apiVersions();
    if (path === '/apis') return apiGroupList(openshift);
    if (path === '/api/v1') return apiResourceList('', 'v1', openshift);
    if (path === '/version') {
      return { major: '1', minor: '32', gitVersion: 'v1.32.0-iac-sandbox', platform: 'linux/amd64' };
    }
    const group = /^\/apis\/([^/]+)$/.exec(path);
    if (group) return apiGroup(group[1] as string, openshift);
    const groupVersion = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
    if (groupVersion) return apiResourceList(groupVersion[1] as string, groupVersion[2] as string, openshift);
    return undefined;
  }

  const listener: RequestListener = (request, response) => {
    const handle = (): void => {
      try {
        route(request, response);
      } catch (error) {
        if (!response.headersSent) send(response, 500, statusBody(500, 'InternalError', error instanceof Error ? error.message : String(error)));
        else response.destroy();
      }
    };
    const latency = faults.latencyMs ?? 0;
    if (latency > 0) setTimeout(handle, latency);
    else handle();
  };
  const certificate = options.tls === false ? undefined : await selfSignedCertificate();
  if (options.tls === true && certificate === undefined) throw new Error('cannot serve https: openssl is not available');
  const server = certificate === undefined ? createHttpServer(listener) : createHttpsServer(certificate, listener);
  server.keepAliveTimeout = 5000;

  function dropWatches(): void {
    for (const watch of [...watches]) watch.finish('dropped');
  }
  function expireWatches(): void {
    store.compact();
    for (const watch of [...watches]) watch.finish('expired');
  }
  function setFaults(next: KubeSandboxFaults): void {
    for (const timer of faultTimers.splice(0)) clearTimeout(timer);
    faults = { ...next };
    if (next.dropWatchesEveryMs !== undefined && next.dropWatchesEveryMs > 0) {
      const every = next.dropWatchesEveryMs;
      const tick = (): void => {
        dropWatches();
        faultTimers.push(setTimeout(tick, every));
      };
      faultTimers.push(setTimeout(tick, every));
    }
    if (next.expireWatchesOnceAfterMs !== undefined) faultTimers.push(setTimeout(expireWatches, next.expireWatchesOnceAfterMs));
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `${certificate === undefined ? 'http' : 'https'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  setFaults(options.faults ?? {});
  runner.add(options.workloads ?? []);

  return {
    url,
    token,
    store,
    requests: {
      log,
      count: (verb, resource, namespace) =>
        log.filter((entry) => entry.verb === verb && entry.resource === resource && (namespace === undefined || entry.namespace === namespace)).length,
      reset: () => {
        log.length = 0;
      },
    },
    async kubeconfig(path, kubeconfigOptions = {}) {
      const name = kubeconfigOptions.context ?? 'iac-sandbox';
      const config = {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [{ name: 'iac-sandbox', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
        users: [{ name: 'iac-sandbox', user: { token: kubeconfigOptions.token ?? token } }],
        contexts: [{ name, context: { cluster: 'iac-sandbox', user: 'iac-sandbox', namespace: kubeconfigOptions.namespace ?? 'default' } }],
        'current-context': name,
        preferences: {},
      };
      await writeFile(path, stringify(config), { mode: 0o600 });
      return path;
    },
    setScenario: (workloads) => runner.add(workloads),
    setFaults,
    expireWatches,
    dropWatches,
    deleteWorkload: (kind, name, namespace) => runner.deleteWorkload(kind, name, namespace),
    async close() {
      runner.stop();
      for (const timer of faultTimers.splice(0)) clearTimeout(timer);
      for (const watch of [...watches]) watch.finish('dropped');
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
