/**
 * Discovery (/api, /apis, /api/v1, /apis/<group>/<version>) and the OpenAPI v3 documents kubectl
 * reads before `apply`, `create` and `diff`: it checks that PATCH accepts the `fieldValidation`
 * query parameter (then the server validates, and kubectl needs no schema of its own). The
 * request bodies do not list strategic merge patch, so kubectl computes its patches from its
 * built-in types — exact for every kind the sandbox serves.
 */
import { createHash } from 'node:crypto';
import { RESOURCE_TYPES, apiVersionOf, type ResourceType } from './kubernetes-store.js';

export function servedTypes(openshift: boolean): ResourceType[] {
  return RESOURCE_TYPES.filter((type) => openshift || type.group !== 'apps.openshift.io');
}

export function apiVersions(): unknown {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1:6443' }],
  };
}

function groupEntry(group: string, version: string): unknown {
  const groupVersion = `${group}/${version}`;
  return { name: group, versions: [{ groupVersion, version }], preferredVersion: { groupVersion, version } };
}

function groups(openshift: boolean): string[] {
  return [...new Set(servedTypes(openshift).map((type) => type.group))].filter((group) => group !== '');
}

export function apiGroupList(openshift: boolean): unknown {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups(openshift).map((group) => groupEntry(group, 'v1')) };
}

export function apiGroup(group: string, openshift: boolean): unknown | undefined {
  if (!groups(openshift).includes(group)) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...(groupEntry(group, 'v1') as object) };
}

/** APIResourceList for one group/version, or undefined when not served. */
export function apiResourceList(group: string, version: string, openshift: boolean): unknown | undefined {
  const types = servedTypes(openshift).filter((type) => type.group === group && type.version === version);
  if (types.length === 0) return undefined;
  const resources: unknown[] = [];
  for (const type of types) {
    resources.push({
      name: type.resource,
      singularName: type.singular,
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: type.verbs,
      ...(type.shortNames.length > 0 ? { shortNames: type.shortNames } : {}),
      ...(type.categories ? { categories: type.categories } : {}),
    });
    for (const sub of type.subresources ?? []) {
      resources.push({
        name: `${type.resource}/${sub.name}`,
        singularName: '',
        namespaced: type.namespaced,
        ...(sub.group !== undefined ? { group: sub.group, version: sub.version } : {}),
        kind: sub.kind,
        verbs: sub.verbs,
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(types[0] as ResourceType), resources };
}

// ---------------------------------------------------------------------------------------------
// OpenAPI v3

function gvPath(group: string): string {
  return group === '' ? 'api/v1' : `apis/${group}/v1`;
}

function gvDocument(group: string, types: ResourceType[]): unknown {
  const query = (name: string, description: string): unknown => ({ name, in: 'query', description, schema: { type: 'string', uniqueItems: true } });
  const parameters = [
    query('dryRun', 'When present, indicates that modifications should not be persisted.'),
    query('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes.'),
    query('fieldValidation', 'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields.'),
    { name: 'force', in: 'query', description: 'Force is going to "force" Apply requests.', schema: { type: 'boolean', uniqueItems: true } },
  ];
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const type of types) {
    const gvk = { group: type.group, version: type.version, kind: type.kind };
    const schemaName = `io.k8s.sandbox.${type.group === '' ? 'core' : type.group}.${type.version}.${type.kind}`;
    schemas[schemaName] = { type: 'object', description: `${type.kind} (sandbox schema: fields are not enumerated)`, 'x-kubernetes-group-version-kind': [gvk] };
    const ref = { $ref: `#/components/schemas/${schemaName}` };
    const base = `/${gvPath(type.group)}${type.namespaced ? '/namespaces/{namespace}' : ''}/${type.resource}`;
    const operation = (action: string, extra: Record<string, unknown> = {}): unknown => ({
      operationId: `${action}${type.kind}`,
      responses: { '200': { description: 'OK', content: { 'application/json': { schema: ref } } } },
      'x-kubernetes-action': action,
      'x-kubernetes-group-version-kind': gvk,
      ...extra,
    });
    if (type.virtual) {
      paths[base] = { post: operation('post', { parameters, requestBody: { content: { '*/*': { schema: ref } }, required: true } }) };
      continue;
    }
    paths[base] = { get: operation('list'), post: operation('post', { parameters, requestBody: { content: { '*/*': { schema: ref } }, required: true } }) };
    paths[`${base}/{name}`] = {
      get: operation('get'),
      put: operation('put', { parameters, requestBody: { content: { '*/*': { schema: ref } }, required: true } }),
      delete: operation('delete'),
      patch: operation('patch', {
        parameters,
        requestBody: {
          content: {
            'application/apply-patch+yaml': { schema: { type: 'object' } },
            'application/json-patch+json': { schema: { type: 'object' } },
            'application/merge-patch+json': { schema: { type: 'object' } },
          },
          required: true,
        },
      }),
    };
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0-iac-sandbox' }, paths, components: { schemas } };
}

/** `/openapi/v3` and `/openapi/v3/<gv>` documents, or undefined. */
export function openApiV3(path: string, openshift: boolean): unknown | undefined {
  const byGroup = new Map<string, ResourceType[]>();
  for (const type of servedTypes(openshift)) byGroup.set(type.group, [...(byGroup.get(type.group) ?? []), type]);
  if (path === '/openapi/v3') {
    const entries = [...byGroup.entries()].map(([group, types]) => {
      const hash = createHash('sha512').update(JSON.stringify(gvDocument(group, types))).digest('hex').toUpperCase().slice(0, 128);
      return [gvPath(group), { serverRelativeURL: `/openapi/v3/${gvPath(group)}?hash=${hash}` }];
    });
    return { paths: Object.fromEntries(entries) };
  }
  for (const [group, types] of byGroup) if (path === `/openapi/v3/${gvPath(group)}`) return gvDocument(group, types);
  return undefined;
}
