/**
 * The resource endpoints of the Kubernetes sandbox: GET / LIST / WATCH (JSON or server-side
 * Table), POST, PUT (resourceVersion preconditions, 409 Conflict), PATCH (JSON, merge, strategic
 * merge, server-side apply), DELETE (preconditions), `dryRun=All`, and the `scale`, `status` and
 * `log` subresources, plus the self-subject access reviews behind `kubectl auth can-i`.
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import type { Controllers } from './kubernetes-controllers.js';
import {
  HttpStatusError,
  JSON_TYPE,
  conflict,
  invalid,
  notFound,
  parseBool,
  qualifiedResource,
  readBody,
  readBodyBytes,
  send,
  statusBody,
  type ResourcePath,
} from './kubernetes-http.js';
import { serveLog } from './kubernetes-logs.js';
import { decodeReview } from './kubernetes-protobuf.js';
import { PatchError, jsonPatch, mergePatch, serverSideApply, strategicMergePatch } from './kubernetes-patch.js';
import {
  SelectorError,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  type FieldSelector,
  type LabelSelector,
} from './kubernetes-selectors.js';
import { apiVersionOf, nowIso, type KubeStore, type ResourceType, type StoredObject } from './kubernetes-store.js';
import { toTable } from './kubernetes-table.js';

type Json = Record<string, unknown>;

export interface OpenWatch {
  finish: (reason: 'expired' | 'dropped' | 'closed') => void;
}

export interface ApiContext {
  store: KubeStore;
  controllers: Controllers;
  watches: Set<OpenWatch>;
  bookmarkIntervalMs: number;
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function withTypeMeta(type: ResourceType, object: StoredObject): StoredObject {
  return { ...object, apiVersion: apiVersionOf(type), kind: type.kind };
}

function wantsTable(request: IncomingMessage): boolean {
  return /as=Table/.test(request.headers.accept ?? '');
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

/** The body of a write, as JSON (or YAML for apply patches). */
async function readObject(request: IncomingMessage, yaml = false): Promise<unknown> {
  const text = await readBody(request);
  try {
    return yaml ? parseYaml(text) : JSON.parse(text);
  } catch (error) {
    throw new HttpStatusError(400, 'BadRequest', `couldn't get version/kind; json parse error: ${(error as Error).message}`);
  }
}

const SERVER_FIELDS = ['uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink'];

/** What the apps/v1 validation would refuse about a workload's selector and template. */
function validate(type: ResourceType, object: StoredObject): void {
  const name = object.metadata.name;
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.length > 253) {
    throw invalid(type, name, [{ field: 'metadata.name', message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character` }]);
  }
  if (!['deployments', 'statefulsets', 'daemonsets', 'replicasets'].includes(type.resource)) return;
  const spec = object.spec ?? {};
  const selector = (spec.selector ?? {}) as { matchLabels?: Record<string, string> };
  const labels = ((spec.template as Json | undefined)?.metadata as Json | undefined)?.labels as Record<string, string> | undefined;
  if (!isObject(spec.selector)) throw invalid(type, name, [{ field: 'spec.selector', message: 'Required value' }]);
  const containers = (((spec.template as Json | undefined)?.spec as Json | undefined)?.containers ?? []) as unknown[];
  if (containers.length === 0) throw invalid(type, name, [{ field: 'spec.template.spec.containers', message: 'Required value' }]);
  const mismatch = Object.entries(selector.matchLabels ?? {}).some(([key, value]) => labels?.[key] !== value);
  if (mismatch) {
    throw invalid(type, name, [{ field: 'spec.template.metadata.labels', message: `Invalid value: ${JSON.stringify(labels ?? {})}: \`selector\` does not match template \`labels\`` }]);
  }
}

export class KubeApi {
  /** Server-side apply: the last configuration each field manager applied, per object. */
  private readonly applied = new Map<string, Json>();
  private serviceIp = 10;

  constructor(private readonly ctx: ApiContext) {}

  private get store(): KubeStore {
    return this.ctx.store;
  }

  /** Serves one request on a resource path; returns the verb for the request log. */
  async handle(request: IncomingMessage, response: ServerResponse, url: URL, target: ResourcePath): Promise<string> {
    const method = request.method ?? 'GET';
    const { type, name, subresource } = target;
    if (type.virtual) {
      if (method !== 'POST' || name !== undefined) throw this.methodNotAllowed();
      await this.review(request, response, type);
      return 'create';
    }
    if (subresource !== undefined) return this.subresource(request, response, url, target);
    if (method === 'GET') {
      if (parseBool(url.searchParams.get('watch'))) {
        this.watch(request, response, url, target);
        return 'watch';
      }
      if (name === undefined) {
        this.list(request, response, url, target);
        return 'list';
      }
      const object = this.require(target);
      send(response, 200, wantsTable(request) ? toTable(type.resource, [object], this.store.resourceVersion, url.searchParams.get('includeObject') ?? undefined) : withTypeMeta(type, object));
      return 'get';
    }
    if (method === 'POST' && name === undefined) {
      await this.create(request, response, url, target);
      return 'create';
    }
    if (method === 'PUT' && name !== undefined) {
      await this.update(request, response, url, target);
      return 'update';
    }
    if (method === 'PATCH' && name !== undefined) {
      await this.patch(request, response, url, target);
      return 'patch';
    }
    if (method === 'DELETE') {
      if (name === undefined) await this.deleteCollection(request, response, url, target);
      else await this.delete(request, response, url, target);
      return name === undefined ? 'deletecollection' : 'delete';
    }
    throw this.methodNotAllowed();
  }

  private methodNotAllowed(): HttpStatusError {
    return new HttpStatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
  }

  private namespaceOf(target: ResourcePath): string {
    return target.type.namespaced ? (target.namespace ?? 'default') : '';
  }

  private require(target: ResourcePath): StoredObject {
    const object = this.store.get(target.type.resource, this.namespaceOf(target), target.name ?? '');
    if (object === undefined) throw notFound(target.type, target.name ?? '');
    return object;
  }

  private list(request: IncomingMessage, response: ServerResponse, url: URL, target: ResourcePath): void {
    const { fields, labels } = selectors(url, target.type);
    const namespace = target.type.namespaced ? target.namespace : undefined;
    const items = this.store
      .list(target.type.resource, namespace)
      .filter((object) => matchesFields(fields, object) && matchesLabels(labels, object.metadata.labels));
    if (wantsTable(request)) {
      send(response, 200, toTable(target.type.resource, items, this.store.resourceVersion, url.searchParams.get('includeObject') ?? undefined));
      return;
    }
    send(response, 200, {
      kind: `${target.type.kind}List`,
      apiVersion: apiVersionOf(target.type),
      metadata: { resourceVersion: this.store.resourceVersion },
      items: items.map((object) => withTypeMeta(target.type, object)),
    });
  }

  private watch(request: IncomingMessage, response: ServerResponse, url: URL, target: ResourcePath): void {
    const { store } = this;
    const type = target.type;
    const { fields, labels } = selectors(url, type);
    const nameFields: FieldSelector = target.name === undefined ? [] : [{ path: 'metadata.name', value: target.name, negate: false }];
    const namespace = type.namespaced ? target.namespace : undefined;
    const matches = (object: StoredObject): boolean =>
      (namespace === undefined || object.metadata.namespace === namespace) &&
      matchesFields([...fields, ...nameFields], object) &&
      matchesLabels(labels, object.metadata.labels);
    const table = wantsTable(request);
    const includeObject = url.searchParams.get('includeObject') ?? undefined;
    response.writeHead(200, { 'Content-Type': JSON_TYPE, 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
    response.flushHeaders();
    const write = (eventType: string, object: unknown): void => {
      // One event per line: client-node splits the stream with readline.
      response.write(`${JSON.stringify({ type: eventType, object })}\n`);
    };
    const emit = (eventType: string, object: StoredObject): void => {
      write(eventType, table ? toTable(type.resource, [object], String(object.metadata.resourceVersion ?? store.resourceVersion), includeObject) : withTypeMeta(type, object));
    };
    const rvText = url.searchParams.get('resourceVersion') ?? '';
    const timers: NodeJS.Timeout[] = [];
    let unsubscribe = (): void => {};
    let finished = false;
    const watch: OpenWatch = {
      finish: (reason) => {
        if (finished) return;
        finished = true;
        unsubscribe();
        for (const timer of timers) clearTimeout(timer);
        this.ctx.watches.delete(watch);
        if (reason === 'expired') {
          write('ERROR', statusBody(410, 'Expired', `too old resource version: ${rvText || '0'} (${store.oldestResourceVersion})`));
          response.end();
        } else if (reason === 'dropped') response.destroy();
        else response.end();
      },
    };
    this.ctx.watches.add(watch);
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
      for (const event of replay) if (event.resource === type.resource && matches(event.object)) emit(event.type, event.object);
    } else {
      for (const object of store.list(type.resource, namespace)) if (matches(object)) emit('ADDED', object);
    }
    unsubscribe = store.subscribe((event) => {
      if (event.resource === type.resource && matches(event.object)) emit(event.type, event.object);
    });
    if (url.searchParams.get('allowWatchBookmarks') === 'true' && !table) {
      const bookmark = (): void => {
        write('BOOKMARK', { kind: type.kind, apiVersion: apiVersionOf(type), metadata: { resourceVersion: store.resourceVersion } });
        timers.push(setTimeout(bookmark, this.ctx.bookmarkIntervalMs));
      };
      timers.push(setTimeout(bookmark, this.ctx.bookmarkIntervalMs));
    }
    const timeoutSeconds = Number(url.searchParams.get('timeoutSeconds') ?? '1800');
    timers.push(setTimeout(() => watch.finish('closed'), Math.max(1, Math.min(timeoutSeconds || 1800, 3600)) * 1000));
  }

  /** The object a create or update body describes, checked against the URL. */
  private incoming(body: unknown, target: ResourcePath, forName?: string): StoredObject {
    const { type } = target;
    if (!isObject(body)) throw new HttpStatusError(400, 'BadRequest', 'the body of the request was in an unknown format');
    if (body.apiVersion !== undefined && body.apiVersion !== apiVersionOf(type)) {
      throw new HttpStatusError(400, 'BadRequest', `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${apiVersionOf(type)})`);
    }
    if (body.kind !== undefined && body.kind !== type.kind) {
      throw new HttpStatusError(400, 'BadRequest', `the kind in the data (${String(body.kind)}) does not match the expected kind (${type.kind})`);
    }
    const object = structuredClone(body) as StoredObject;
    const meta = (object.metadata ??= { name: '', namespace: '' });
    const namespace = this.namespaceOf(target);
    if (type.namespaced && meta.namespace !== undefined && meta.namespace !== '' && meta.namespace !== namespace) {
      throw new HttpStatusError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    }
    meta.namespace = namespace;
    if ((meta.name === undefined || meta.name === '') && typeof meta.generateName === 'string' && forName === undefined) {
      meta.name = `${meta.generateName}${randomBytes(3).toString('hex').slice(0, 5)}`;
    }
    if (forName !== undefined && meta.name !== undefined && meta.name !== '' && meta.name !== forName) {
      throw new HttpStatusError(400, 'BadRequest', `the name of the object (${meta.name}) does not match the name on the URL (${forName})`);
    }
    if (forName !== undefined) meta.name = forName;
    if (typeof meta.name !== 'string' || meta.name === '') {
      throw invalid(type, '', [{ field: 'metadata.name', message: 'Required value: name or generateName is required' }]);
    }
    return object;
  }

  /** What the server does to a new object before storing it (seeding uses it too). */
  prepareCreate(type: ResourceType, object: StoredObject): void {
    this.onCreate(type, object);
    this.onWrite(type, object);
  }

  /** Type-specific server behaviour on create (cluster IPs, stringData, empty status). */
  private onCreate(type: ResourceType, object: StoredObject): void {
    for (const field of SERVER_FIELDS) delete object.metadata[field];
    if (type.group === 'apps' && type.resource !== 'controllerrevisions') delete object.status;
    if (type.resource === 'services') {
      const spec = (object.spec ??= {});
      if (spec.type !== 'ExternalName' && spec.clusterIP === undefined) {
        const ip = `10.96.${Math.floor(this.serviceIp / 250)}.${(this.serviceIp++ % 250) + 1}`;
        spec.clusterIP = ip;
        spec.clusterIPs = [ip];
      }
      spec.ipFamilies ??= ['IPv4'];
      spec.ipFamilyPolicy ??= 'SingleStack';
      spec.internalTrafficPolicy ??= 'Cluster';
      object.status ??= { loadBalancer: {} };
    }
  }

  private onWrite(type: ResourceType, object: StoredObject): void {
    if (type.resource === 'secrets' && isObject(object.stringData)) {
      const data = (isObject(object.data) ? object.data : {}) as Json;
      for (const [key, value] of Object.entries(object.stringData)) data[key] = Buffer.from(String(value)).toString('base64');
      object.data = data;
      delete object.stringData;
    }
  }

  private dryRun(url: URL): boolean {
    return url.searchParams.getAll('dryRun').includes('All');
  }

  private async create(request: IncomingMessage, response: ServerResponse, url: URL, target: ResourcePath): Promise<void> {
    const { type } = target;
    const object = this.incoming(await readObject(request), target);
    if (type.resource === 'namespaces') object.metadata.namespace = '';
    if (this.store.get(type.resource, object.metadata.namespace, object.metadata.name) !== undefined) {
      throw new HttpStatusError(409, 'AlreadyExists', `${qualifiedResource(type)} "${object.metadata.name}" already exists`, {
        name: object.metadata.name,
        group: type.group,
        kind: type.resource,
      });
    }
    this.onCreate(type, object);
    this.onWrite(type, object);
    validate(type, object);
    const result = this.dryRun(url) ? this.store.prepare(type.resource, object) : this.store.put(type.resource, object);
    send(response, 201, withTypeMeta(type, result));
  }

  /** Keeps what the main resource may not change: status (subresource), server-set metadata. */
  private carryOver(type: ResourceType, next: StoredObject, existing: StoredObject): void {
    for (const field of ['uid', 'creationTimestamp', 'generation', 'deletionTimestamp']) {
      if (existing.metadata[field] !== undefined) next.metadata[field] = existing.metadata[field];
      else delete next.metadata[field];
    }
    next.metadata.name = existing.metadata.name;
    next.metadata.namespace = existing.metadata.namespace;
    if ((type.subresources ?? []).some((sub) => sub.name === 'status')) {
      if (existing.status !== undefined) next.status = structuredClone(existing.status);
      else delete next.status;
    }
    if (type.resource === 'services' && isObject(existing.spec) && next.spec !== undefined) {
      next.spec.clusterIP ??= existing.spec.clusterIP;
      next.spec.clusterIPs ??= existing.spec.clusterIPs;
    }
  }

  private checkImmutable(type: ResourceType, next: StoredObject, existing: StoredObject): void {
    if (['deployments', 'statefulsets', 'daemonsets', 'replicasets'].includes(type.resource)) {
      if (JSON.stringify(next.spec?.selector) !== JSON.stringify(existing.spec?.selector)) {
        throw invalid(type, existing.metadata.name, [{ field: 'spec.selector', message: `Invalid value: ${JSON.stringify(next.spec?.selector ?? {})}: field is immutable` }]);
      }
    }
  }

  private async update(request: IncomingMessage, response: ServerResponse, url: URL, target: ResourcePath): Promise<void> {
    const { type } = target;
    const existing = this.require(target);
    const next = this.incoming(await readObject(request), target, target.name);
    const rv = next.metadata.resourceVersion;
    if (rv === undefined || rv === '') {
      if (type.requiresResourceVersionOnUpdate) {
        throw invalid(type, existing.metadata.name, [{ field: 'metadata.resourceVersion', message: 'Invalid value: 0x0: must be specified for an update' }]);
      }
    } else if (rv !== existing.metadata.resourceVersion) throw conflict(type, existing.metadata.name);
    this.carryOver(type, next, existing);
    this.onWrite(type, next);
    validate(type, next);
    this.checkImmutable(type, next, existing);
    const result = this.dryRun(url) ? this.store.prepare(type.resource, next) : this.store.put(type.resource, next);
    send(response, 200, withTypeMeta(type, result));
  }

  /** Applies a PATCH body of the request's content type to `base`. */
  private async patched(request: IncomingMessage, url: URL, type: ResourceType, base: StoredObject | undefined, key: string): Promise<{ result: Json; applied?: Json }> {
    const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
    try {
      switch (contentType) {
        case 'application/json-patch+json':
          return { result: jsonPatch(base ?? {}, await readObject(request)) as Json };
        case 'application/merge-patch+json':
          return { result: mergePatch(base ?? {}, await readObject(request)) as Json };
        case 'application/strategic-merge-patch+json':
          return { result: strategicMergePatch(base ?? {}, await readObject(request)) as Json };
        case 'application/apply-patch+yaml': {
          const manager = url.searchParams.get('fieldManager');
          if (manager === null || manager === '') {
            throw new HttpStatusError(422, 'Invalid', 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch');
          }
          const applied = await readObject(request, true);
          if (!isObject(applied)) throw new HttpStatusError(400, 'BadRequest', 'the apply patch is not an object');
          if (applied.apiVersion === undefined || applied.kind === undefined) {
            throw new HttpStatusError(400, 'BadRequest', 'error decoding YAML: Object \'Kind\' is missing in the applied configuration');
          }
          const previous = this.applied.get(`${key}/${manager}`);
          const result = serverSideApply(base ?? {}, applied, previous) as Json;
          return { result, applied: { manager, config: applied } };
        }
        default:
          throw new HttpStatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json`);
      }
    } catch (error) {
      if (error instanceof PatchError) throw new HttpStatusError(error.code, error.code === 400 ? 'BadRequest' : 'Invalid', error.message);
      throw error;
    }
  }

  private objectKey(type: ResourceType, namespace: string, name: string): string {
    return `${type.resource}/${namespace}/${name}`;
  }

  private recordApply(type: ResourceType, object: StoredObject, applied?: Json): void {
    if (applied === undefined) return;
    this.applied.set(`${this.objectKey(type, object.metadata.namespace, object.metadata.name)}/${String(applied.manager)}`, applied.config as Json);
  }

  private async patch(request: IncomingMessage, response: ServerResponse, url: URL, target: ResourcePath): Promise<void> {
    const { type } = target;
    const namespace = this.namespaceOf(target);
    const name = target.name as string;
    const existing = this.store.get(type.resource, namespace, name);
    const isApply = (request.headers['content-type'] ?? '').startsWith('application/apply-patch');
    if (existing === undefined && !isApply) throw notFound(type, name);
    const key = this.objectKey(type, namespace, name);
    const { result, applied } = await this.patched(request, url, type, existing === undefined ? undefined : withTypeMeta(type, existing), key);
    const next = this.incoming(result, target, name);
    if (existing === undefined) {
      this.onCreate(type, next);
    } else {
      const rv = next.metadata.resourceVersion;
      if (rv !== undefined && rv !== '' && rv !== existing.metadata.resourceVersion) throw conflict(type, name);
      this.carryOver(type, next, existing);
      this.checkImmutable(type, next, existing);
    }
    this.onWrite(type, next);
    validate(type, next);
    const dry = this.dryRun(url);
    if (!dry) this.recordApply(type, next, applied);
    const stored = dry ? this.store.prepare(type.resource, next) : this.store.put(type.resource, next);
    send(response, existing === undefined ? 201 : 200, withTypeMeta(type, stored));
  }

  private preconditions(body: unknown, type: ResourceType, existing: StoredObject): void {
    const pre = isObject(body) && isObject(body.preconditions) ? body.preconditions : undefined;
    if (pre === undefined) return;
    if (typeof pre.uid === 'string' && pre.uid !== existing.metadata.uid) {
      throw new HttpStatusError(409, 'Conflict', `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${existing.metadata.uid ?? ''}`, { name: existing.metadata.name, group: type.group, kind: type.resource });
    }
    if (typeof pre.resourceVersion === 'string' && pre.resourceVersion !== existing.metadata.resourceVersion) {
      throw new HttpStatusError(
        409,
        'Conflict',
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${existing.metadata.resourceVersion ?? ''}`,
        { name: existing.metadata.name, group: type.group, kind: type.resource },
      );
    }
  }

  private removeObject(type: ResourceType, object: StoredObject): void {
    const { namespace, name } = object.metadata;
    if (type.resource === 'namespaces') {
      // The namespace controller: everything in it goes, workloads first (their pods follow).
      for (const other of ['deployments', 'statefulsets', 'daemonsets', 'deploymentconfigs', 'replicasets', 'controllerrevisions', 'pods', 'services', 'configmaps', 'secrets', 'leases', 'events']) {
        for (const item of this.store.list(other, name)) this.store.delete(other, name, item.metadata.name);
      }
    }
    if (type.resource === 'pods') this.ctx.controllers.pods.forget(namespace, name);
    this.store.delete(type.resource, namespace, name);
  }

  private deletedBody(type: ResourceType, object: StoredObject): unknown {
    if (type.resource === 'pods' || type.resource === 'namespaces') {
      return withTypeMeta(type, { ...object, metadata: { ...object.metadata, deletionTimestamp: nowIso(), deletionGracePeriodSeconds: 0 } });
    }
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Success',
      details: { name: object.metadata.name, group: type.group, kind: type.resource, uid: object.metadata.uid },
    };
  }

  private async delete(request: IncomingMessage, response: ServerResponse, url: URL, target: ResourcePath): Promise<void> {
    const existing = this.require(target);
    const text = await readBody(request);
    let body: unknown;
    try {
      body = text.trim() === '' ? undefined : JSON.parse(text);
    } catch {
      throw new HttpStatusError(400, 'BadRequest', 'the DeleteOptions body is not valid JSON');
    }
    this.preconditions(body, target.type, existing);
    const dry = this.dryRun(url) || (isObject(body) && Array.isArray(body.dryRun) && body.dryRun.includes('All'));
    if (!dry) this.removeObject(target.type, existing);
    send(response, 200, this.deletedBody(target.type, existing));
  }

  private async deleteCollection(request: IncomingMessage, response: ServerResponse, url: URL, target: ResourcePath): Promise<void> {
    await readBody(request);
    const { fields, labels } = selectors(url, target.type);
    const items = this.store
      .list(target.type.resource, target.type.namespaced ? target.namespace : undefined)
      .filter((object) => matchesFields(fields, object) && matchesLabels(labels, object.metadata.labels));
    if (!this.dryRun(url)) for (const item of items) this.removeObject(target.type, item);
    send(response, 200, { kind: `${target.type.kind}List`, apiVersion: apiVersionOf(target.type), metadata: { resourceVersion: this.store.resourceVersion }, items: items.map((o) => withTypeMeta(target.type, o)) });
  }

  private async subresource(request: IncomingMessage, response: ServerResponse, url: URL, target: ResourcePath): Promise<string> {
    const { type, subresource } = target;
    const method = request.method ?? 'GET';
    if (!(type.subresources ?? []).some((sub) => sub.name === subresource) || target.name === undefined) {
      throw new HttpStatusError(404, 'NotFound', 'the server could not find the requested resource');
    }
    const namespace = this.namespaceOf(target);
    if (subresource === 'log') {
      if (method !== 'GET') throw this.methodNotAllowed();
      serveLog(request, response, url, { type, namespace, name: target.name }, this.store, this.ctx.controllers.pods);
      return 'get';
    }
    const existing = this.require(target);
    if (subresource === 'scale') return this.scale(request, response, url, type, existing);
    // status
    if (method === 'GET') {
      send(response, 200, withTypeMeta(type, existing));
      return 'get';
    }
    let next: StoredObject;
    if (method === 'PUT') {
      next = this.incoming(await readObject(request), target, target.name);
      const rv = next.metadata.resourceVersion;
      if (rv !== undefined && rv !== '' && rv !== existing.metadata.resourceVersion) throw conflict(type, existing.metadata.name);
    } else if (method === 'PATCH') {
      next = this.incoming((await this.patched(request, url, type, withTypeMeta(type, existing), this.objectKey(type, namespace, target.name))).result, target, target.name);
    } else throw this.methodNotAllowed();
    const merged = { ...structuredClone(existing), status: next.status };
    const stored = this.dryRun(url) ? this.store.prepare(type.resource, merged) : this.store.put(type.resource, merged);
    send(response, 200, withTypeMeta(type, stored));
    return method === 'PUT' ? 'update' : 'patch';
  }

  /** autoscaling/v1 Scale of a workload: GET, PUT and PATCH (what `kubectl scale` sends). */
  private async scale(request: IncomingMessage, response: ServerResponse, url: URL, type: ResourceType, existing: StoredObject): Promise<string> {
    const method = request.method ?? 'GET';
    const scaleOf = (object: StoredObject): Json => {
      const selector = (object.spec?.selector ?? {}) as { matchLabels?: Record<string, string> };
      return {
        kind: 'Scale',
        apiVersion: 'autoscaling/v1',
        metadata: {
          name: object.metadata.name,
          namespace: object.metadata.namespace,
          uid: object.metadata.uid,
          resourceVersion: object.metadata.resourceVersion,
          creationTimestamp: object.metadata.creationTimestamp,
        },
        spec: { replicas: object.spec?.replicas ?? 0 },
        status: {
          replicas: object.status?.replicas ?? 0,
          selector: Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
        },
      };
    };
    if (method === 'GET') {
      send(response, 200, scaleOf(existing));
      return 'get';
    }
    let scale: Json;
    if (method === 'PUT') {
      const body = await readObject(request);
      if (!isObject(body)) throw new HttpStatusError(400, 'BadRequest', 'the body of the request was in an unknown format');
      scale = body;
      const rv = (scale.metadata as Json | undefined)?.resourceVersion;
      if (typeof rv === 'string' && rv !== '' && rv !== existing.metadata.resourceVersion) throw conflict(type, existing.metadata.name);
    } else if (method === 'PATCH') {
      scale = (await this.patched(request, url, type, scaleOf(existing) as StoredObject, `${type.resource}/scale`)).result;
    } else throw this.methodNotAllowed();
    const replicas = (scale.spec as Json | undefined)?.replicas;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw invalid(type, existing.metadata.name, [{ field: 'spec.replicas', message: `Invalid value: ${String(replicas)}: must be greater than or equal to 0` }]);
    }
    const next = structuredClone(existing);
    (next.spec ??= {}).replicas = replicas;
    const stored = this.dryRun(url) ? this.store.prepare(type.resource, next) : this.store.put(type.resource, next);
    send(response, 200, scaleOf(stored));
    return method === 'PUT' ? 'update' : 'patch';
  }

  /** SelfSubjectAccessReview / SelfSubjectRulesReview: the sandbox token may do everything. */
  private async review(request: IncomingMessage, response: ServerResponse, type: ResourceType): Promise<void> {
    const bytes = await readBodyBytes(request);
    let spec: Json;
    if ((request.headers['content-type'] ?? '').startsWith('application/vnd.kubernetes.protobuf')) {
      try {
        spec = decodeReview(bytes).spec;
      } catch (error) {
        throw new HttpStatusError(400, 'BadRequest', `the body of the request could not be decoded: ${(error as Error).message}`);
      }
    } else {
      let body: unknown;
      try {
        body = JSON.parse(bytes.toString('utf8'));
      } catch (error) {
        throw new HttpStatusError(400, 'BadRequest', `couldn't get version/kind; json parse error: ${(error as Error).message}`);
      }
      spec = isObject(body) && isObject(body.spec) ? body.spec : {};
    }
    const status =
      type.kind === 'SelfSubjectAccessReview'
        ? { allowed: true, reason: 'RBAC: allowed by ClusterRoleBinding "iac-sandbox" of ClusterRole "cluster-admin" to User "iac-sandbox"' }
        : { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }], incomplete: false };
    send(response, 201, { kind: type.kind, apiVersion: apiVersionOf(type), metadata: { creationTimestamp: null }, spec, status });
  }
}
