/** The sandbox speaks the Kubernetes wire protocol: checked with raw HTTP and with @kubernetes/client-node. */
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listWorkloads } from '../../../src/kube/list-workloads.js';
import { startKubeSandbox, type KubeSandbox, type KubeSandboxOptions, type WorkloadScenario } from '../../../src/sandbox/kubernetes.js';

let dir: string;
let sandbox: KubeSandbox | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iac-kube-sandbox-'));
});
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function start(options: KubeSandboxOptions): Promise<KubeSandbox> {
  sandbox = await startKubeSandbox(options);
  return sandbox;
}

interface Reply {
  status: number;
  type: string | undefined;
  body: string;
}

/** GET with the sandbox's token; resolves after `readMs` for streams (watches). */
function get(path: string, options: { token?: string | null; accept?: string; readMs?: number } = {}): Promise<Reply> {
  const box = sandbox as KubeSandbox;
  const token = options.token === undefined ? box.token : options.token;
  return new Promise((resolve, reject) => {
    const req = request(`${box.url}${path}`, {
      rejectUnauthorized: false,
      headers: { ...(token === null ? {} : { Authorization: `Bearer ${token}` }), Accept: options.accept ?? 'application/json' },
    });
    req.on('error', reject);
    req.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      const done = (): void => resolve({ status: response.statusCode ?? 0, type: response.headers['content-type'], body });
      response.on('end', done);
      if (options.readMs !== undefined) {
        setTimeout(() => {
          done();
          req.destroy();
        }, options.readMs);
      }
    });
    req.end();
  });
}

const steady = (name: string, namespace = 'shop', kind: WorkloadScenario['kind'] = 'deployment'): WorkloadScenario => ({
  kind,
  name,
  namespace,
  outcome: 'steady',
  replicas: 2,
  image: `registry.example.com/${name}:abc123`,
});

describe('Kubernetes sandbox: protocol', () => {
  it('requires the bearer token (401 Status) and answers unknown objects with a 404 Status', async () => {
    await start({ workloads: [steady('web')] });
    const anonymous = await get('/apis/apps/v1/namespaces/shop/deployments', { token: null });
    expect(anonymous.status).toBe(401);
    expect(JSON.parse(anonymous.body)).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    const missing = await get('/apis/apps/v1/namespaces/shop/deployments/nope');
    expect(missing.status).toBe(404);
    expect(missing.type).toBe('application/json');
    expect(JSON.parse(missing.body)).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'deployments.apps "nope" not found',
      reason: 'NotFound',
      details: { name: 'nope', group: 'apps', kind: 'deployments' },
      code: 404,
    });
    expect(JSON.parse((await get('/apis/apps/v1/namespaces/shop/deployments?fieldSelector=spec.replicas%3D1')).body)).toMatchObject({ code: 400, reason: 'BadRequest' });
  });

  it('serves discovery, with apps.openshift.io only when enabled', async () => {
    await start({ workloads: [] });
    expect(JSON.parse((await get('/api')).body)).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const apps = JSON.parse((await get('/apis/apps/v1')).body) as { resources: { name: string; verbs: string[]; shortNames?: string[] }[] };
    expect(apps.resources.find((r) => r.name === 'deployments')).toMatchObject({ verbs: ['get', 'list', 'watch'], shortNames: ['deploy'] });
    expect(JSON.parse((await get('/apis')).body).groups.map((g: { name: string }) => g.name)).toEqual(['apps']);
    expect((await get('/apis/apps.openshift.io/v1')).status).toBe(404);
    await sandbox!.close();
    await start({ openshift: true, workloads: [steady('legacy', 'shop', 'deploymentconfig')] });
    expect(JSON.parse((await get('/apis')).body).groups.map((g: { name: string }) => g.name)).toEqual(['apps', 'apps.openshift.io']);
    const dc = JSON.parse((await get('/apis/apps.openshift.io/v1/namespaces/shop/deploymentconfigs/legacy')).body);
    expect(dc).toMatchObject({ kind: 'DeploymentConfig', apiVersion: 'apps.openshift.io/v1', status: { latestVersion: 1 } });
  });

  it('applies apps/v1 defaulting and keeps resourceVersions and generations', async () => {
    await start({ workloads: [steady('web'), steady('db', 'shop', 'statefulset'), steady('agent', 'shop', 'daemonset')] });
    const web = JSON.parse((await get('/apis/apps/v1/namespaces/shop/deployments/web')).body);
    expect(web).toMatchObject({ kind: 'Deployment', apiVersion: 'apps/v1', metadata: { generation: 1 }, spec: { progressDeadlineSeconds: 600, revisionHistoryLimit: 10, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } } } });
    expect(typeof web.metadata.resourceVersion).toBe('string');
    const db = JSON.parse((await get('/apis/apps/v1/namespaces/shop/statefulsets/db')).body);
    expect(db.spec).toMatchObject({ podManagementPolicy: 'OrderedReady', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } } });
    const agent = JSON.parse((await get('/apis/apps/v1/namespaces/shop/daemonsets/agent')).body);
    expect(agent.spec.updateStrategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
  });

  it('lists with field and label selectors and a list resourceVersion', async () => {
    await start({ workloads: [steady('web'), steady('api')] });
    const list = JSON.parse((await get('/apis/apps/v1/namespaces/shop/deployments?fieldSelector=metadata.name%3Dapi')).body);
    expect(list.kind).toBe('DeploymentList');
    expect(list.items.map((i: { metadata: { name: string } }) => i.metadata.name)).toEqual(['api']);
    expect(Number(list.metadata.resourceVersion)).toBeGreaterThan(0);
    const pods = JSON.parse((await get('/api/v1/namespaces/shop/pods?labelSelector=app%3Dweb')).body);
    expect(pods.items).toHaveLength(2);
    expect(pods.items.every((p: { metadata: { labels: Record<string, string> } }) => p.metadata.labels.app === 'web')).toBe(true);
    const table = JSON.parse((await get('/apis/apps/v1/namespaces/shop/deployments', { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' })).body);
    expect(table.kind).toBe('Table');
    expect(table.rows[0].cells.slice(0, 4)).toEqual(['api', '2/2', 2, 2]);
  });

  it('watches: replay after a resourceVersion, bookmarks, one event per line, 410 for compacted history', async () => {
    await start({ workloads: [{ kind: 'deployment', name: 'web', namespace: 'shop', stepMs: 50, replicas: 1 }], bookmarkIntervalMs: 200 });
    await new Promise((resolve) => setTimeout(resolve, 700));
    const watch = await get('/apis/apps/v1/namespaces/shop/deployments?watch=true&resourceVersion=1000&allowWatchBookmarks=true&fieldSelector=metadata.name%3Dweb', { readMs: 500 });
    const events = watch.body.trim().split('\n').map((line) => JSON.parse(line) as { type: string; object: { kind: string; metadata: { resourceVersion: string } } });
    expect(events[0]?.type).toBe('ADDED');
    expect(events.some((e) => e.type === 'MODIFIED')).toBe(true);
    expect(events.some((e) => e.type === 'BOOKMARK' && e.object.kind === 'Deployment')).toBe(true);
    const versions = events.filter((e) => e.type !== 'BOOKMARK').map((e) => Number(e.object.metadata.resourceVersion));
    expect([...versions].sort((a, b) => a - b)).toEqual(versions);
    sandbox!.expireWatches();
    const expired = await get('/apis/apps/v1/namespaces/shop/deployments?watch=true&resourceVersion=1001');
    expect(JSON.parse(expired.body.trim())).toMatchObject({ type: 'ERROR', object: { kind: 'Status', code: 410, reason: 'Expired' } });
  });

  it('serves the tail of pod logs as text', async () => {
    await start({ workloads: [{ kind: 'deployment', name: 'web', namespace: 'shop', outcome: 'CrashLoopBackOff', stepMs: 50, logs: ['a', 'b', 'c'] }] });
    await new Promise((resolve) => setTimeout(resolve, 400));
    const pods = JSON.parse((await get('/api/v1/namespaces/shop/pods')).body) as { items: { metadata: { name: string } }[] };
    const names = pods.items.map((p) => p.metadata.name);
    const logs = await Promise.all(names.map((name) => get(`/api/v1/namespaces/shop/pods/${name}/log?container=app&tailLines=2`)));
    expect(logs.map((l) => l.body)).toContain('b\nc\n');
  });

  it('works with @kubernetes/client-node (typed client and Watch) through the written kubeconfig', async () => {
    await start({ workloads: [steady('web')] });
    const kubeconfig = await sandbox!.kubeconfig(join(dir, 'kubeconfig'), { namespace: 'shop' });
    const k8s = await import('@kubernetes/client-node');
    const config = new k8s.KubeConfig();
    config.loadFromFile(kubeconfig);
    const apps = config.makeApiClient(k8s.AppsV1Api);
    const deployment = await apps.readNamespacedDeployment({ name: 'web', namespace: 'shop' });
    expect(deployment.status?.readyReplicas).toBe(2);
    const seen = await new Promise<string[]>((resolve, reject) => {
      const types: string[] = [];
      void new k8s.Watch(config)
        .watch('/apis/apps/v1/namespaces/shop/deployments', { resourceVersion: '0' }, (type) => {
          types.push(type);
          resolve(types);
        }, (error: unknown) => (error ? reject(error as Error) : undefined))
        .then((controller) => setTimeout(() => controller.abort(), 1000));
    });
    expect(seen).toEqual(['ADDED']);
  });
});

describe('listWorkloads', () => {
  it('300 workloads in 3 namespaces: one LIST per kind per namespace, with health and revision', async () => {
    const workloads: WorkloadScenario[] = [];
    for (const namespace of ['team-a', 'team-b', 'team-c']) {
      for (let i = 0; i < 50; i++) workloads.push({ ...steady(`web-${i}`, namespace), replicas: 1 });
      for (let i = 0; i < 30; i++) workloads.push({ ...steady(`db-${i}`, namespace, 'statefulset'), replicas: 1 });
      for (let i = 0; i < 20; i++) workloads.push({ ...steady(`agent-${i}`, namespace, 'daemonset'), replicas: 1 });
    }
    await start({ workloads });
    const kubeconfigPath = await sandbox!.kubeconfig(join(dir, 'kubeconfig'));
    sandbox!.requests.reset();
    const results = await Promise.all(
      ['team-a', 'team-b', 'team-c'].map((namespace) =>
        listWorkloads({
          kubeconfigPath,
          namespace,
          refs: workloads.filter((w) => w.namespace === namespace).map((w) => `${w.kind}/${w.name}`),
        }),
      ),
    );
    expect(results.flat()).toHaveLength(300);
    for (const namespace of ['team-a', 'team-b', 'team-c']) {
      for (const resource of ['deployments', 'statefulsets', 'daemonsets']) expect(sandbox!.requests.count('list', resource, namespace)).toBe(1);
    }
    expect(sandbox!.requests.log.filter((entry) => entry.verb !== 'list')).toEqual([]);
    expect(results[0]?.[0]).toEqual({
      ref: 'deployment/web-0',
      found: true,
      ready: 1,
      desired: 1,
      message: 'deployment "web-0" successfully rolled out',
      done: true,
      state: 'ready',
      verdict: {
        workload: 'deployment/web-0',
        kubectl: { message: 'deployment "web-0" successfully rolled out', done: true },
        revision: { state: 'unchecked' },
        state: 'ready',
        message: 'deployment "web-0" successfully rolled out',
      },
      revision: 'abc123',
      images: ['registry.example.com/web-0:abc123'],
    });
    expect(results[0]?.find((r) => r.ref === 'statefulset/db-3')).toMatchObject({ done: true, message: 'partitioned roll out complete: 1 new pods have been updated...' });
    expect(results[0]?.find((r) => r.ref === 'daemonset/agent-1')).toMatchObject({ done: true, ready: 1, desired: 1 });
  });

  it('reports absent workloads and the configured revision annotation', async () => {
    await start({ workloads: [{ ...steady('web'), templateAnnotations: { 'iac.dev/revision': 'f00d' } }] });
    const kubeconfigPath = await sandbox!.kubeconfig(join(dir, 'kubeconfig'));
    const result = await listWorkloads({ kubeconfigPath, namespace: 'shop', refs: ['deploy/web', 'deployment/gone'], revisionAnnotation: 'iac.dev/revision' });
    expect(result[0]).toMatchObject({ ref: 'deploy/web', revision: 'f00d', done: true });
    expect(result[1]).toMatchObject({ ref: 'deployment/gone', found: false, message: 'not found', done: false, state: 'failing' });
  });
});
