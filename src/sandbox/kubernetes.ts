/**
 * A Kubernetes-API-compatible server on 127.0.0.1 for tests and `iac demo`: discovery and OpenAPI
 * v3, GET / LIST / WATCH (JSON or server-side Table), create / replace / patch / delete with
 * resourceVersion, selector, bookmark, 410-expiry, Status-error, dry-run and bearer-token semantics
 * for Deployments, StatefulSets, DaemonSets, ReplicaSets, Pods (+ logs), Services, ConfigMaps,
 * Secrets, Events, Leases — enough for the real kubectl (`apply`, `set image`, `rollout
 * status|history|undo|restart`, `scale`, `logs -f`, `get -w`, `auth can-i`), the Python
 * kubernetes client and @kubernetes/client-node. Simulated controllers carry out every change to
 * a pod template; scenarios script rollouts; faults can be injected.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { stringify } from 'yaml';
import { KubeApi, type OpenWatch } from './kubernetes-api.js';
import { Controllers, type RolloutTiming, type WorkloadResource } from './kubernetes-controllers.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, openApiV3, servedTypes } from './kubernetes-discovery.js';
import { HttpStatusError, parseResourcePath, send, statusBody } from './kubernetes-http.js';
import type { ImageBehaviour } from './kubernetes-pods.js';
import { ScenarioRunner, type SandboxWorkloadKind, type WorkloadScenario } from './kubernetes-scenario.js';
import { selfSignedCertificate } from './kubernetes-tls.js';
import { KubeStore, type StoredObject } from './kubernetes-store.js';

export type { WorkloadScenario, SandboxWorkloadKind, PodFailure } from './kubernetes-scenario.js';
export type { ImageBehaviour } from './kubernetes-pods.js';
export type { RolloutTiming } from './kubernetes-controllers.js';
export type { StoredObject } from './kubernetes-store.js';

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
  /**
   * Pace of the simulated controllers for changes made through the API (scenarios set their own):
   * default 200 ms per step, observed one step after the change.
   */
  rollout?: Partial<RolloutTiming>;
  /** Objects the cluster holds from the start; workloads among them already rolled out. */
  objects?: StoredObject[];
}

export interface KubeRequestRecord {
  method: string;
  path: string;
  /** `get`, `list`, `watch`, `create`, `update`, `patch`, `delete`, `deletecollection`, `discovery`, `openapi`. */
  verb: string;
  /** e.g. `deployments`, `deployments/scale`, `pods/log`; `''` for discovery. */
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
  /**
   * Stores objects as they would be after `kubectl apply` had long finished: workloads come with
   * their ReplicaSets / pods already Running, no events. For the state a test or demo starts from.
   */
  seed(objects: StoredObject[]): void;
  /** How pods running `image` behave from now on, in every workload (default: they start). */
  setImageBehaviour(image: string, behaviour: ImageBehaviour): void;
  /** Pace of the controllers for changes made through the API from now on. */
  setRolloutTiming(timing: Partial<RolloutTiming>): void;
  /** Direct access to the stored objects (tests). */
  store: KubeStore;
  close(): Promise<void>;
}

const WORKLOADS: Record<string, WorkloadResource> = {
  Deployment: 'deployments',
  StatefulSet: 'statefulsets',
  DaemonSet: 'daemonsets',
  DeploymentConfig: 'deploymentconfigs',
};

export async function startKubeSandbox(options: KubeSandboxOptions = {}): Promise<KubeSandbox> {
  const token = options.token ?? randomBytes(16).toString('hex');
  const openshift = options.openshift ?? false;
  const store = new KubeStore();
  store.put('namespaces', { metadata: { name: 'default', namespace: '' } });
  const controllers = new Controllers(store, { stepMs: 200, observeDelayMs: options.rollout?.stepMs ?? 200, ...options.rollout });
  controllers.start();
  const runner = new ScenarioRunner(store, controllers);
  const log: KubeRequestRecord[] = [];
  const watches = new Set<OpenWatch>();
  const api = new KubeApi({ store, controllers, watches, bookmarkIntervalMs: options.bookmarkIntervalMs ?? 1000 });
  let faults: KubeSandboxFaults = {};
  const faultTimers: NodeJS.Timeout[] = [];
  const types = servedTypes(openshift);

  function record(request: IncomingMessage, verb: string, resource: string, status: number, namespace?: string): KubeRequestRecord {
    const entry: KubeRequestRecord = { method: request.method ?? 'GET', path: request.url ?? '', verb, resource, status, ...(namespace === undefined ? {} : { namespace }) };
    log.push(entry);
    return entry;
  }

  function discoveryDocument(path: string): unknown | undefined {
    if (path === '/api') return apiVersions();
    if (path === '/apis') return apiGroupList(openshift);
    if (path === '/api/v1') return apiResourceList('', 'v1', openshift);
    if (path === '/version') {
      return { major: '1', minor: '32', gitVersion: 'v1.32.0-iac-sandbox', gitTreeState: 'clean', goVersion: 'go1.23.4', compiler: 'gc', platform: 'linux/amd64' };
    }
    const group = /^\/apis\/([^/]+)$/.exec(path);
    if (group) return apiGroup(group[1] as string, openshift);
    const groupVersion = /^\/apis\/([^/]+)\/([^/]+)$/.exec(path);
    if (groupVersion) return apiResourceList(groupVersion[1] as string, groupVersion[2] as string, openshift);
    return undefined;
  }

  async function route(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (request.headers.authorization !== `Bearer ${token}`) {
      record(request, 'unauthorized', '', 401);
      send(response, 401, statusBody(401, 'Unauthorized', 'Unauthorized'));
      return;
    }
    if (request.method === 'GET') {
      const discovery = discoveryDocument(path);
      if (discovery !== undefined) {
        record(request, 'discovery', '', 200);
        send(response, 200, discovery);
        return;
      }
      if (path.startsWith('/openapi/')) {
        const document = openApiV3(path, openshift);
        record(request, 'openapi', '', document === undefined ? 404 : 200);
        send(response, document === undefined ? 404 : 200, document ?? statusBody(404, 'NotFound', 'the server could not find the requested resource'));
        return;
      }
    }
    const target = parseResourcePath(path, types);
    if (target === undefined) {
      record(request, 'unknown', '', 404);
      send(response, 404, statusBody(404, 'NotFound', 'the server could not find the requested resource'));
      return;
    }
    const resource = target.subresource === undefined ? target.type.resource : `${target.type.resource}/${target.subresource}`;
    const entry = record(request, (request.method ?? 'GET').toLowerCase(), resource, 200, target.namespace);
    try {
      entry.verb = await api.handle(request, response, url, target);
    } catch (error) {
      if (!(error instanceof HttpStatusError)) throw error;
      entry.status = error.code;
      if (entry.verb === 'get' && target.name === undefined) entry.verb = 'list';
      if (!response.headersSent) send(response, error.code, statusBody(error.code, error.reason, error.message, error.details));
      else response.destroy();
    }
  }

  const listener: RequestListener = (request, response) => {
    const handle = (): void => {
      route(request, response).catch((error: unknown) => {
        if (!response.headersSent) send(response, 500, statusBody(500, 'InternalError', error instanceof Error ? error.message : String(error)));
        else response.destroy();
      });
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
  function seed(objects: StoredObject[]): void {
    for (const object of objects) {
      const type = types.find((candidate) => candidate.kind === object.kind);
      if (type === undefined || type.virtual) throw new Error(`the sandbox does not serve ${String(object.kind)}`);
      const copy = structuredClone(object);
      copy.metadata.namespace = type.namespaced ? (copy.metadata.namespace ?? 'default') : '';
      api.prepareCreate(type, copy);
      const resource = WORKLOADS[type.kind];
      if (resource !== undefined) controllers.seed(resource, copy);
      else controllers.write(() => store.put(type.resource, copy));
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const url = `${certificate === undefined ? 'http' : 'https'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  setFaults(options.faults ?? {});
  seed(options.objects ?? []);
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
    seed,
    setImageBehaviour: (image, behaviour) => controllers.setImageBehaviour(image, behaviour),
    setRolloutTiming: (timing) => controllers.setDefaults(timing),
    async close() {
      runner.stop();
      controllers.stop();
      for (const timer of faultTimers.splice(0)) clearTimeout(timer);
      for (const watch of [...watches]) watch.finish('dropped');
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
