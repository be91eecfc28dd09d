/**
 * coordination.k8s.io/v1 Leases on the sandbox, as a per-environment deploy lock uses them:
 * create (409 when held), get, replace with resourceVersion (409 on a stale one, 422 without one),
 * delete with preconditions, list and watch — through @kubernetes/client-node and raw HTTP.
 */
import { request } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startKubeSandbox, type KubeSandbox } from '../../../src/sandbox/kubernetes.js';

let dir: string;
let sandbox: KubeSandbox;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iac-leases-'));
  sandbox = await startKubeSandbox({ tls: true });
});
afterEach(async () => {
  await sandbox.close();
  await rm(dir, { recursive: true, force: true });
});

interface Reply {
  status: number;
  body: string;
}

function call(method: string, path: string, body?: unknown, options: { readMs?: number; contentType?: string } = {}): Promise<Reply> {
  const text = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(`${sandbox.url}${path}`, {
      method,
      rejectUnauthorized: false,
      headers: {
        Authorization: `Bearer ${sandbox.token}`,
        Accept: 'application/json',
        'Content-Type': options.contentType ?? 'application/json',
        // Node sends no chunked framing for DELETE: the length must be given.
        ...(text === undefined ? {} : { 'Content-Length': Buffer.byteLength(text) }),
      },
    });
    req.on('error', reject);
    req.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      const done = (): void => resolve({ status: response.statusCode ?? 0, body: text });
      response.on('end', done);
      if (options.readMs !== undefined) {
        setTimeout(() => {
          done();
          req.destroy();
        }, options.readMs);
      }
    });
    req.end(text);
  });
}

const LEASES = '/apis/coordination.k8s.io/v1/namespaces/shop-dev/leases';

describe('Leases on the Kubernetes sandbox', () => {
  it('through @kubernetes/client-node: create, conflict on a second create, replace with resourceVersion, stale replace → 409', async () => {
    const k8s = await import('@kubernetes/client-node');
    const config = new k8s.KubeConfig();
    config.loadFromFile(await sandbox.kubeconfig(join(dir, 'kubeconfig'), { namespace: 'shop-dev' }));
    const leases = config.makeApiClient(k8s.CoordinationV1Api);
    const body = { metadata: { name: 'iac-deploy-dev' }, spec: { holderIdentity: 'alice@laptop up a1b2c3d', leaseDurationSeconds: 30, acquireTime: new k8s.V1MicroTime(), renewTime: new k8s.V1MicroTime() } };
    const created = await leases.createNamespacedLease({ namespace: 'shop-dev', body });
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    const second = await leases.createNamespacedLease({ namespace: 'shop-dev', body }).catch((error: unknown) => error);
    expect((second as { code?: number }).code).toBe(409);
    expect(JSON.parse(String((second as { body?: unknown }).body))).toMatchObject({ reason: 'AlreadyExists', message: 'leases.coordination.k8s.io "iac-deploy-dev" already exists' });

    const renewed = await leases.replaceNamespacedLease({
      name: 'iac-deploy-dev',
      namespace: 'shop-dev',
      body: { ...created, spec: { ...created.spec, renewTime: new k8s.V1MicroTime() } },
    });
    expect(Number(renewed.metadata?.resourceVersion)).toBeGreaterThan(Number(created.metadata?.resourceVersion));
    const stale = await leases.replaceNamespacedLease({ name: 'iac-deploy-dev', namespace: 'shop-dev', body: created }).catch((error: unknown) => error);
    expect((stale as { code?: number }).code).toBe(409);
    expect(JSON.parse(String((stale as { body?: unknown }).body))).toMatchObject({
      reason: 'Conflict',
      message: 'Operation cannot be fulfilled on leases.coordination.k8s.io "iac-deploy-dev": the object has been modified; please apply your changes to the latest version and try again',
    });
    const read = await leases.readNamespacedLease({ name: 'iac-deploy-dev', namespace: 'shop-dev' });
    expect(read.spec?.holderIdentity).toBe('alice@laptop up a1b2c3d');
    // MicroTime: RFC 3339 with microseconds, as the API server writes it (client-node keeps it a string).
    expect(String(read.spec?.renewTime)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    const list = await leases.listNamespacedLease({ namespace: 'shop-dev' });
    expect(list.items.map((lease) => lease.metadata?.name)).toEqual(['iac-deploy-dev']);
  });

  it('raw HTTP: replace without a resourceVersion is 422; delete honours preconditions; a watch sees every change', async () => {
    const created = await call('POST', LEASES, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'lock' }, spec: { holderIdentity: 'a' } });
    expect(created.status).toBe(201);
    const lease = JSON.parse(created.body) as { metadata: { resourceVersion: string; uid: string } };
    const watching = call('GET', `${LEASES}?watch=1&resourceVersion=${lease.metadata.resourceVersion}`, undefined, { readMs: 1500 });
    await new Promise((resolve) => setTimeout(resolve, 200));

    const unconditional = await call('PUT', `${LEASES}/lock`, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'lock' }, spec: { holderIdentity: 'b' } });
    expect(unconditional.status).toBe(422);
    expect(JSON.parse(unconditional.body)).toMatchObject({ reason: 'Invalid', message: expect.stringContaining('metadata.resourceVersion: Invalid value: 0x0: must be specified for an update') });
    const patched = await call('PATCH', `${LEASES}/lock`, { spec: { holderIdentity: 'b' } }, { contentType: 'application/merge-patch+json' });
    expect(patched.status).toBe(200);
    const wrongUid = await call('DELETE', `${LEASES}/lock`, { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: 'someone-else' } });
    expect(wrongUid.status).toBe(409);
    const staleRv = await call('DELETE', `${LEASES}/lock`, { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { resourceVersion: lease.metadata.resourceVersion } });
    expect(staleRv.status).toBe(409);
    const current = JSON.parse(patched.body) as { metadata: { resourceVersion: string } };
    const deleted = await call('DELETE', `${LEASES}/lock`, { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: lease.metadata.uid, resourceVersion: current.metadata.resourceVersion } });
    expect(deleted.status).toBe(200);
    expect((await call('GET', `${LEASES}/lock`)).status).toBe(404);

    const events = (await watching).body.trim().split('\n').map((line) => JSON.parse(line) as { type: string; object: { kind: string; spec: { holderIdentity: string } } });
    expect(events.map((event) => [event.type, event.object.kind, event.object.spec.holderIdentity])).toEqual([
      ['MODIFIED', 'Lease', 'b'],
      ['DELETED', 'Lease', 'b'],
    ]);
  });

  it('discovery lists coordination.k8s.io/v1 leases with every verb a lock needs', async () => {
    const groups = JSON.parse((await call('GET', '/apis')).body) as { groups: { name: string }[] };
    expect(groups.groups.map((group) => group.name)).toContain('coordination.k8s.io');
    const resources = JSON.parse((await call('GET', '/apis/coordination.k8s.io/v1')).body) as { resources: { name: string; namespaced: boolean; verbs: string[] }[] };
    expect(resources.resources.find((resource) => resource.name === 'leases')).toMatchObject({
      namespaced: true,
      verbs: expect.arrayContaining(['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']),
    });
  });
});
