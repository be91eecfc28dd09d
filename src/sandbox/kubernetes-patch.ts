/**
 * The four ways an API server changes an object from a PATCH body: JSON merge patch (RFC 7386),
 * JSON patch (RFC 6902), strategic merge patch (lists of containers, ports, env... merged by their
 * key, with `$patch`, `$setElementOrder`, `$retainKeys` and `$deleteFromPrimitiveList`
 * directives) and server-side apply (the applied configuration merged in, fields the same manager
 * applied before and dropped now removed).
 */

type Json = Record<string, unknown>;

export class PatchError extends Error {
  constructor(
    message: string,
    /** HTTP status the API server answers with. */
    readonly code: 400 | 409 | 422 = 422,
  ) {
    super(message);
  }
}

function isObject(value: unknown): value is Json {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

// ---------------------------------------------------------------------------------------------
// RFC 7386

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const result: Json = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// RFC 6902

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new PatchError(`invalid JSON pointer: ${path}`, 400);
  return path
    .slice(1)
    .split('/')
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(document: unknown, parts: string[], op: string): { parent: Json | unknown[]; key: string } {
  let current: unknown = document;
  for (const part of parts.slice(0, -1)) {
    if (Array.isArray(current)) current = current[Number(part)];
    else if (isObject(current)) current = current[part];
    else current = undefined;
    if (current === undefined) throw new PatchError(`jsonpatch ${op} operation does not apply: doc is missing path: /${parts.join('/')}`);
  }
  if (!Array.isArray(current) && !isObject(current)) throw new PatchError(`jsonpatch ${op} operation does not apply: doc is missing path: /${parts.join('/')}`);
  return { parent: current, key: parts[parts.length - 1] as string };
}

function getAt(document: unknown, parts: string[], op: string): unknown {
  let current: unknown = document;
  for (const part of parts) {
    if (Array.isArray(current)) current = current[Number(part)];
    else if (isObject(current)) current = current[part];
    else current = undefined;
    if (current === undefined) throw new PatchError(`jsonpatch ${op} operation does not apply: doc is missing path: /${parts.join('/')}`);
  }
  return current;
}

function arrayIndex(array: unknown[], key: string, op: string, forInsert: boolean): number {
  if (key === '-' && forInsert) return array.length;
  const index = Number(key);
  if (!/^\d+$/.test(key) || index > array.length || (!forInsert && index >= array.length)) {
    throw new PatchError(`jsonpatch ${op} operation does not apply: index out of range: ${key}`);
  }
  return index;
}

function removeAt(document: unknown, parts: string[], op: string): unknown {
  const { parent, key } = parentOf(document, parts, op);
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, key, op, false), 1)[0];
  if (!(key in parent)) throw new PatchError(`jsonpatch ${op} operation does not apply: doc is missing key: /${parts.join('/')}`);
  const value = parent[key];
  delete parent[key];
  return value;
}

function addAt(document: unknown, parts: string[], value: unknown, op: string, replace: boolean): unknown {
  if (parts.length === 0) return value;
  const { parent, key } = parentOf(document, parts, op);
  if (Array.isArray(parent)) {
    const index = arrayIndex(parent, key, op, !replace);
    if (replace) parent[index] = value;
    else parent.splice(index, 0, value);
  } else {
    if (replace && !(key in parent)) throw new PatchError(`jsonpatch ${op} operation does not apply: doc is missing key: /${parts.join('/')}`);
    parent[key] = value;
  }
  return document;
}

export function jsonPatch(target: unknown, operations: unknown): unknown {
  if (!Array.isArray(operations)) throw new PatchError('json: cannot unmarshal object into Go value of type jsonpatch.Patch', 400);
  let document = structuredClone(target);
  for (const operation of operations as Json[]) {
    const op = String(operation.op ?? '');
    const path = pointer(String(operation.path ?? ''));
    switch (op) {
      case 'add':
        document = addAt(document, path, structuredClone(operation.value), op, false);
        break;
      case 'replace':
        document = addAt(document, path, structuredClone(operation.value), op, true);
        break;
      case 'remove':
        removeAt(document, path, op);
        break;
      case 'move': {
        const value = removeAt(document, pointer(String(operation.from ?? '')), op);
        document = addAt(document, path, value, op, false);
        break;
      }
      case 'copy':
        document = addAt(document, path, structuredClone(getAt(document, pointer(String(operation.from ?? '')), op)), op, false);
        break;
      case 'test':
        if (JSON.stringify(getAt(document, path, op)) !== JSON.stringify(operation.value)) {
          throw new PatchError(`testing value /${path.join('/')} failed: test failed`);
        }
        break;
      default:
        throw new PatchError(`Unexpected kind: ${op}`, 400);
    }
  }
  return document;
}

// ---------------------------------------------------------------------------------------------
// Strategic merge patch

interface ListMeta {
  mergeKey?: string;
  /** A list of scalars merged as a set (finalizers). */
  primitiveMerge?: boolean;
}

const CONTAINER_LISTS = new Set(['containers', 'initContainers', 'ephemeralContainers']);
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  imagePullSecrets: 'name',
  hostAliases: 'ip',
  ownerReferences: 'uid',
  conditions: 'type',
  topologySpreadConstraints: 'topologyKey',
  resourceClaims: 'name',
  schedulingGates: 'name',
};

/** The patch strategy the Kubernetes types declare for the list under `key` (path: the field names above it). */
export function listMeta(path: string[], key: string): ListMeta {
  if (key === 'ports') return { mergeKey: path.some((part) => CONTAINER_LISTS.has(part)) ? 'containerPort' : 'port' };
  if (key === 'finalizers') return { primitiveMerge: true };
  const mergeKey = MERGE_KEYS[key];
  return mergeKey === undefined ? {} : { mergeKey };
}

/** Removes directive keys from values taken over from a patch as they are. */
function stripDirectives(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((item) => !(isObject(item) && item.$patch === 'delete')).map(stripDirectives);
  if (!isObject(value)) return value;
  const result: Json = {};
  for (const [key, item] of Object.entries(value)) {
    if (key.startsWith('$')) continue;
    if (item === null) continue;
    result[key] = stripDirectives(item);
  }
  return result;
}

function sameKey(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function mergeList(original: unknown[], patch: unknown[], meta: ListMeta, path: string[]): unknown[] {
  if (patch.some((item) => isObject(item) && item.$patch === 'replace')) {
    return patch.filter((item) => !(isObject(item) && item.$patch === 'replace')).map(stripDirectives);
  }
  if (meta.primitiveMerge) {
    const result = [...original];
    for (const item of patch) if (!result.some((existing) => sameKey(existing, item))) result.push(item);
    return result;
  }
  const key = meta.mergeKey as string;
  const result = original.map((item) => structuredClone(item));
  for (const item of patch) {
    if (!isObject(item)) continue;
    const index = result.findIndex((existing) => isObject(existing) && sameKey(existing[key], item[key]));
    if (item.$patch === 'delete') {
      if (index >= 0) result.splice(index, 1);
      continue;
    }
    if (index >= 0) result[index] = mergeMap(result[index] as Json, item, path);
    else result.push(mergeMap({}, item, path));
  }
  return result;
}

/** `$setElementOrder/<list>`: the patch's order first; items only the server has keep their place after them. */
function orderList(list: unknown[], order: unknown[], meta: ListMeta): unknown[] {
  const keyOf = (item: unknown): string => JSON.stringify(meta.mergeKey !== undefined && isObject(item) ? item[meta.mergeKey] : item);
  const wanted = order.map(keyOf);
  const ordered = wanted.map((key) => list.find((item) => keyOf(item) === key)).filter((item) => item !== undefined);
  const rest = list.filter((item) => !wanted.includes(keyOf(item)));
  return [...ordered, ...rest];
}

function mergeMap(original: Json, patch: Json, path: string[]): Json {
  if (patch.$patch === 'replace') return stripDirectives(patch) as Json;
  const result: Json = { ...original };
  const orders = new Map<string, unknown[]>();
  const deletions = new Map<string, unknown[]>();
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$setElementOrder/')) {
      if (Array.isArray(value)) orders.set(key.slice('$setElementOrder/'.length), value);
      continue;
    }
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      if (Array.isArray(value)) deletions.set(key.slice('$deleteFromPrimitiveList/'.length), value);
      continue;
    }
    if (key.startsWith('$')) continue;
    if (value === null) {
      delete result[key];
      continue;
    }
    const before = result[key];
    if (isObject(value)) {
      if (value.$patch === 'delete') delete result[key];
      else result[key] = mergeMap(isObject(before) ? before : {}, value, [...path, key]);
    } else if (Array.isArray(value)) {
      const meta = listMeta(path, key);
      result[key] = (meta.mergeKey !== undefined || meta.primitiveMerge) && Array.isArray(before)
        ? mergeList(before, value, meta, [...path, key])
        : (stripDirectives(value) as unknown[]).map((item) => (isObject(item) && meta.mergeKey !== undefined ? mergeMap({}, item, [...path, key]) : item));
    } else result[key] = value;
  }
  for (const [key, values] of deletions) {
    const list = result[key];
    if (Array.isArray(list)) result[key] = list.filter((item) => !values.some((value) => sameKey(value, item)));
  }
  for (const [key, order] of orders) {
    const list = result[key];
    if (Array.isArray(list)) result[key] = orderList(list, order, listMeta(path, key));
  }
  const retain = patch.$retainKeys;
  if (Array.isArray(retain)) for (const key of Object.keys(result)) if (!retain.includes(key)) delete result[key];
  return result;
}

export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) throw new PatchError('strategic merge patch must be a JSON object', 400);
  return mergeMap(isObject(target) ? target : {}, patch, []);
}

// ---------------------------------------------------------------------------------------------
// Server-side apply

/** Removes from `live` what `before` (the manager's previous apply) set and `after` no longer does. */
function prune(live: unknown, before: unknown, after: unknown, path: string[]): unknown {
  if (!isObject(live) || !isObject(before)) return live;
  const result: Json = { ...live };
  const next = isObject(after) ? after : {};
  for (const [key, previous] of Object.entries(before)) {
    if (!(key in next)) {
      delete result[key];
      continue;
    }
    const value = result[key];
    if (isObject(previous) && isObject(value)) result[key] = prune(value, previous, next[key], [...path, key]);
    else if (Array.isArray(previous) && Array.isArray(value)) {
      const meta = listMeta(path, key);
      if (meta.mergeKey === undefined) continue;
      const mergeKey = meta.mergeKey;
      const kept = Array.isArray(next[key]) ? (next[key] as unknown[]).filter(isObject).map((item) => JSON.stringify(item[mergeKey])) : [];
      result[key] = value
        .filter((item) => {
          if (!isObject(item)) return true;
          const id = JSON.stringify(item[mergeKey]);
          const wasApplied = previous.some((p) => isObject(p) && JSON.stringify(p[mergeKey]) === id);
          return !wasApplied || kept.includes(id);
        })
        .map((item) => {
          if (!isObject(item)) return item;
          const id = JSON.stringify(item[mergeKey]);
          const was = previous.find((p) => isObject(p) && JSON.stringify(p[mergeKey]) === id);
          const now = (next[key] as unknown[]).find((p) => isObject(p) && JSON.stringify(p[mergeKey]) === id);
          return was === undefined ? item : prune(item, was, now, [...path, key]);
        });
    }
  }
  return result;
}

/** The object after a server-side apply of `applied` by a manager whose previous apply was `previous`. */
export function serverSideApply(live: unknown, applied: Json, previous: Json | undefined): unknown {
  const pruned = previous === undefined ? live : prune(live, previous, applied, []);
  return strategicMergePatch(pruned, applied);
}
