/**
 * Conformance with the official Python kubernetes client: its models deserialize what the
 * sandbox serves (pods with containerStatuses[].imageID, ReplicaSets, events, leases…), and its
 * Watch — which sends `watch=True` — streams a rollout to the end.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startKubeSandbox, type KubeSandbox } from '../../../src/sandbox/kubernetes.js';
import { pythonWithKubernetes } from '../../helpers/python.js';

const python = pythonWithKubernetes();

const SCRIPT = String.raw`
import json, sys, threading, time, warnings
warnings.filterwarnings('ignore')
from kubernetes import client, config, watch
config.load_kube_config(config_file=sys.argv[1])
core, apps, coordination = client.CoreV1Api(), client.AppsV1Api(), client.CoordinationV1Api()
out = {}
pods = core.list_namespaced_pod('shop').items
out['pods'] = sorted(p.metadata.name for p in pods)
out['imageIDs'] = [s.image_id for p in pods for s in p.status.container_statuses]
out['replicaSets'] = [(r.metadata.name, r.spec.replicas, r.metadata.owner_references[0].uid) for r in apps.list_namespaced_replica_set('shop').items]
out['deploymentUid'] = apps.read_namespaced_deployment('web', 'shop').metadata.uid
out['statefulSet'] = [s.status.update_revision for s in apps.list_namespaced_stateful_set('shop').items]
out['daemonSet'] = [(d.status.desired_number_scheduled, d.status.number_ready) for d in apps.list_namespaced_daemon_set('shop').items]
out['revisions'] = sorted(r.revision for r in apps.list_namespaced_controller_revision('shop').items)
out['services'] = [(s.spec.cluster_ip, s.spec.ports[0].port) for s in core.list_namespaced_service('shop').items]
out['namespaces'] = sorted(n.metadata.name for n in core.list_namespace().items)
out['log'] = core.read_namespaced_pod_log(pods[0].metadata.name, 'shop', container=pods[0].spec.containers[0].name).splitlines()[0]

def change():
    time.sleep(0.5)
    apps.patch_namespaced_deployment('web', 'shop', {'spec': {'template': {'spec': {'containers': [{'name': 'app', 'image': 'registry.example.com/web:py'}]}}}})
threading.Thread(target=change).start()
seen = []
w = watch.Watch()
for event in w.stream(apps.list_namespaced_deployment, 'shop', timeout_seconds=60):
    d = event['object']
    seen.append([event['type'], d.metadata.name, d.metadata.generation, d.status.observed_generation, d.status.updated_replicas, d.status.available_replicas])
    if d.metadata.name == 'web' and d.spec.template.spec.containers[0].image.endswith(':py') and d.status.observed_generation == d.metadata.generation \
            and d.status.updated_replicas == d.spec.replicas == d.status.available_replicas == d.status.replicas:
        w.stop()
out['watched'] = seen
out['events'] = len(core.list_namespaced_event('shop').items)

lease = coordination.create_namespaced_lease('shop', client.V1Lease(metadata=client.V1ObjectMeta(name='deploy-lock'), spec=client.V1LeaseSpec(holder_identity='ci', lease_duration_seconds=30)))
lease.spec.holder_identity = 'ci-2'
coordination.replace_namespaced_lease('deploy-lock', 'shop', lease)
try:
    coordination.replace_namespaced_lease('deploy-lock', 'shop', lease)
    out['staleReplace'] = 200
except client.exceptions.ApiException as e:
    out['staleReplace'] = e.status
out['holder'] = coordination.read_namespaced_lease('deploy-lock', 'shop').spec.holder_identity
print(json.dumps(out))
`;

let dir: string;
let sandbox: KubeSandbox | undefined;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iac-python-client-'));
});
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe.runIf(python !== undefined)('the Python kubernetes client against the sandbox', () => {
  it('deserializes pods, ReplicaSets, StatefulSets, events and leases, and its watch (watch=True) follows a rollout', async () => {
    sandbox = await startKubeSandbox({
      rollout: { stepMs: 100, observeDelayMs: 100 },
      workloads: [
        { kind: 'deployment', name: 'web', namespace: 'shop', replicas: 2, outcome: 'steady', image: 'registry.example.com/web:v1' },
        { kind: 'statefulset', name: 'db', namespace: 'shop', replicas: 1, outcome: 'steady' },
        { kind: 'daemonset', name: 'agent', namespace: 'shop', replicas: 2, outcome: 'steady' },
      ],
      objects: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } }],
    });
    const kubeconfig = await sandbox.kubeconfig(join(dir, 'kubeconfig'), { namespace: 'shop' });
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(python as string, ['-c', SCRIPT, kubeconfig], { timeout: 90_000, env: { ...process.env, HOME: dir } }, (error, out, err) =>
        error ? reject(new Error(`${error.message}\n${err}`)) : resolve(out),
      ),
    );
    const result = JSON.parse(stdout) as {
      pods: string[];
      imageIDs: string[];
      replicaSets: [string, number, string][];
      deploymentUid: string;
      statefulSet: string[];
      daemonSet: [number, number][];
      revisions: number[];
      services: [string, number][];
      namespaces: string[];
      log: string;
      watched: [string, string, number, number, number, number][];
      events: number;
      staleReplace: number;
      holder: string;
    };
    expect(result.pods).toHaveLength(5);
    for (const id of result.imageIDs) expect(id).toMatch(/^registry\.example\.com\/(web|db|agent)@sha256:[0-9a-f]{64}$/);
    expect(result.daemonSet).toEqual([[2, 2]]);
    expect(result.revisions).toEqual([1, 1]);
    expect(result.services).toEqual([[expect.stringMatching(/^10\.96\./), 80]]);
    expect(result.namespaces).toEqual(['default', 'shop']);
    expect(result.log).toMatch(/ INFO starting (agent|db|web) \(registry\.example\.com\//);
    expect(result.replicaSets.map(([, , owner]) => owner)).toEqual([result.deploymentUid]);
    expect(result.statefulSet[0]).toMatch(/^db-\w+$/);
    // The watch saw the initial state, then the rollout through to the end.
    const web = result.watched.filter(([, name]) => name === 'web');
    expect(web[0]?.[0]).toBe('ADDED');
    expect(web.some(([type, , generation, observed, updated]) => type === 'MODIFIED' && generation === 2 && observed === 2 && updated < 2)).toBe(true);
    expect(web.at(-1)?.slice(2)).toEqual([2, 2, 2, 2]);
    expect(result.events).toBeGreaterThan(0);
    expect(result.staleReplace).toBe(409);
    expect(result.holder).toBe('ci-2');
    // The client sent what it always sends for a watch.
    expect(sandbox.requests.log.some((entry) => entry.verb === 'watch' && entry.path.includes('watch=True'))).toBe(true);
  }, 120_000);
});
