/**
 * Conformance: the real kubectl drives the Kubernetes sandbox as it would a cluster — apply,
 * set image, rollout status / history / undo / restart / pause / resume, scale, get -w, logs
 * (-f), server-side tables, auth can-i, diff, server-side apply, delete — and what it prints is
 * what a cluster makes it print.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startKubeSandbox, type KubeSandbox } from '../../../src/sandbox/kubernetes.js';
import { exitOf, kubectlFor, outputOf, tableRows, type Kubectl } from '../../helpers/kubectl.js';
import { toolAvailable } from '../../helpers/tools.js';

let dir: string;
let sandbox: KubeSandbox | undefined;
let kubectl: Kubectl;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iac-kubectl-writes-'));
  sandbox = await startKubeSandbox({ rollout: { stepMs: 100, observeDelayMs: 100 } });
  kubectl = kubectlFor(await sandbox.kubeconfig(join(dir, 'kubeconfig'), { namespace: 'shop' }), dir);
});
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
  await rm(dir, { recursive: true, force: true });
});

function deployment(image: string, replicas = 3): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: { app: web }
spec:
  replicas: ${replicas}
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
        - name: app
          image: ${image}
          ports: [{ containerPort: 8080 }]
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data: { LOG_LEVEL: info, REGION: eu-central-1 }
`;
}

async function manifest(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

async function ok(args: string[]): Promise<string> {
  const result = await kubectl(args);
  expect(result.stderr, `kubectl ${args.join(' ')}`).not.toMatch(/^error|Error from server/m);
  expect(result.exitCode, `kubectl ${args.join(' ')}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

async function rolledOut(ref: string): Promise<string[]> {
  const lines = (await ok(['rollout', 'status', ref, '--timeout=60s'])).split('\n').filter((line) => line !== '');
  return lines;
}

describe.runIf(toolAvailable('kubectl'))('kubectl drives the sandbox cluster', () => {
  it('apply creates and rolls out; a second apply is unchanged; get prints the server-side tables', async () => {
    const file = await manifest('web.yaml', deployment('registry.example.com/web:v1'));
    expect((await ok(['apply', '-f', file])).split('\n')).toEqual(['deployment.apps/web created', 'service/web created', 'configmap/web-config created']);
    expect((await rolledOut('deployment/web')).at(-1)).toBe('deployment "web" successfully rolled out');
    expect((await ok(['apply', '-f', file])).split('\n')).toEqual(['deployment.apps/web unchanged', 'service/web unchanged', 'configmap/web-config unchanged']);

    const deployments = tableRows(await ok(['get', 'deploy']));
    expect(deployments[0]).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
    expect(deployments[1]?.slice(0, 4)).toEqual(['web', '3/3', '3', '3']);
    const replicaSets = tableRows(await ok(['get', 'rs']));
    expect(replicaSets[0]).toEqual(['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE']);
    expect(replicaSets[1]?.[0]).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{8,10}$/);
    expect(replicaSets[1]?.slice(1, 4)).toEqual(['3', '3', '3']);
    const pods = tableRows(await ok(['get', 'pods']));
    expect(pods[0]).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    expect(pods.slice(1).map((row) => row.slice(1, 4))).toEqual([
      ['1/1', 'Running', '0'],
      ['1/1', 'Running', '0'],
      ['1/1', 'Running', '0'],
    ]);
    for (const row of pods.slice(1)) expect(row[0]?.startsWith(`${replicaSets[1]?.[0]}-`)).toBe(true);
    const wide = tableRows(await ok(['get', 'pods', '-o', 'wide']));
    expect(wide[0]).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
    const services = tableRows(await ok(['get', 'svc']));
    expect(services[0]).toEqual(['NAME', 'TYPE', 'CLUSTER-IP', 'EXTERNAL-IP', 'PORT(S)', 'AGE']);
    expect(services[1]?.slice(0, 5)).toEqual(['web', 'ClusterIP', expect.stringMatching(/^10\.96\.\d+\.\d+$/), '<none>', '80/TCP']);
    expect(tableRows(await ok(['get', 'cm']))[1]?.slice(0, 2)).toEqual(['web-config', '2']);
    const events = tableRows(await ok(['get', 'events']));
    expect(events[0]).toEqual(['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
    expect(events.some((row) => row[2] === 'ScalingReplicaSet' && row[3] === 'deployment/web' && /^Scaled up replica set web-\w+ from 0 to 3$/.test(row[4] ?? ''))).toBe(true);
    expect(events.some((row) => row[2] === 'Started' && row[3]?.startsWith('pod/web-'))).toBe(true);
  }, 120_000);

  it('set image → rollout status, history, describe and logs show the new revision; undo goes back', async () => {
    await ok(['apply', '-f', await manifest('web.yaml', deployment('registry.example.com/web:v1'))]);
    await rolledOut('deployment/web');
    expect(await ok(['set', 'image', 'deployment/web', 'app=registry.example.com/web:v2'])).toBe('deployment.apps/web image updated');
    const status = await rolledOut('deployment/web');
    expect(status.at(-1)).toBe('deployment "web" successfully rolled out');
    expect(status.some((line) => /^Waiting for deployment "web" rollout to finish: \d out of 3 new replicas have been updated\.\.\.$/.test(line))).toBe(true);

    expect(await ok(['rollout', 'history', 'deployment/web'])).toBe('deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n');
    const revision2 = await ok(['rollout', 'history', 'deployment/web', '--revision=2']);
    expect(revision2).toContain('Image:\tregistry.example.com/web:v2');

    const describe = await ok(['describe', 'deployment', 'web']);
    const newRs = /^NewReplicaSet:\s+(web-\w+) \(3\/3 replicas created\)$/m.exec(describe)?.[1];
    const oldRs = /^OldReplicaSets:\s+(web-\w+) \(0\/0 replicas created\)$/m.exec(describe)?.[1];
    expect(newRs).toBeDefined();
    expect(oldRs).toBeDefined();
    expect(newRs).not.toBe(oldRs);
    expect(describe).toMatch(new RegExp(`Scaled down replica set ${oldRs} from 1 to 0`));
    const replicaSets = tableRows(await ok(['get', 'rs']));
    expect(replicaSets.slice(1).map((row) => [row[0], row[1]]).sort()).toEqual([[newRs, '3'], [oldRs, '0']].sort());
    const images = await ok(['get', 'pods', '-o', 'jsonpath={range .items[*]}{.spec.containers[0].image}{"\\n"}{end}']);
    expect(images.trim().split('\n')).toEqual(Array(3).fill('registry.example.com/web:v2'));
    const logs = await kubectl(['logs', 'deployment/web']);
    expect(logs.exitCode).toBe(0);
    expect(logs.stdout).toContain('starting web (registry.example.com/web:v2)');

    expect(await ok(['rollout', 'undo', 'deployment/web'])).toBe('deployment.apps/web rolled back');
    await rolledOut('deployment/web');
    // The template of revision 1 comes back as revision 3 (revision 1 leaves the history).
    expect(await ok(['rollout', 'history', 'deployment/web'])).toBe('deployment.apps/web \nREVISION  CHANGE-CAUSE\n2         <none>\n3         <none>\n');
    expect(await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])).toBe('registry.example.com/web:v1');
    expect(tableRows(await ok(['get', 'rs'])).length).toBe(3);
  }, 120_000);

  it('scale, rollout restart / pause / resume, delete', async () => {
    await ok(['apply', '-f', await manifest('web.yaml', deployment('registry.example.com/web:v1'))]);
    await rolledOut('deployment/web');
    expect(await ok(['scale', 'deployment/web', '--replicas=5'])).toBe('deployment.apps/web scaled');
    await rolledOut('deployment/web');
    expect(tableRows(await ok(['get', 'deploy', 'web']))[1]?.slice(0, 4)).toEqual(['web', '5/5', '5', '5']);
    expect(tableRows(await ok(['get', 'pods'])).length).toBe(6);

    expect(await ok(['rollout', 'restart', 'deployment/web'])).toBe('deployment.apps/web restarted');
    await rolledOut('deployment/web');
    const restartedAt = await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.metadata.annotations.kubectl\\.kubernetes\\.io/restartedAt}']);
    expect(restartedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(await ok(['rollout', 'history', 'deployment/web'])).toContain('\n2         <none>\n');

    expect(await ok(['rollout', 'pause', 'deployment/web'])).toBe('deployment.apps/web paused');
    await ok(['set', 'image', 'deployment/web', 'app=registry.example.com/web:v2']);
    await new Promise((resolve) => setTimeout(resolve, 800));
    // Paused: the new template is not rolled out (no ReplicaSet for it, nothing up to date).
    expect(tableRows(await ok(['get', 'deploy', 'web']))[1]?.slice(0, 3)).toEqual(['web', '5/5', '0']);
    expect(tableRows(await ok(['get', 'rs'])).length).toBe(3);
    expect(await ok(['rollout', 'resume', 'deployment/web'])).toBe('deployment.apps/web resumed');
    await rolledOut('deployment/web');
    expect(await ok(['rollout', 'history', 'deployment/web'])).toContain('\n3         <none>\n');

    expect(await ok(['delete', 'deployment', 'web'])).toBe('deployment.apps "web" deleted');
    const gone = await kubectl(['get', 'deployment', 'web']);
    expect(gone.exitCode).toBe(1);
    expect(gone.stderr).toContain('Error from server (NotFound): deployments.apps "web" not found');
    // The garbage collector took its ReplicaSets and pods.
    expect((await kubectl(['get', 'rs,pods'])).stderr).toContain('No resources found in shop namespace.');
  }, 120_000);

  it('get -w streams table rows as the rollout happens; logs -f ends when its pod goes away', async () => {
    await ok(['apply', '-f', await manifest('web.yaml', deployment('registry.example.com/web:v1', 2))]);
    await rolledOut('deployment/web');
    const oldPod = tableRows(await ok(['get', 'pods']))[1]?.[0] as string;
    const follow = kubectlFor(join(dir, 'kubeconfig'), dir).spawn(['logs', '-f', oldPod]);
    const followed = exitOf(follow);
    const watch = kubectl.spawn(['get', 'pods', '-w']);
    const watched = outputOf(watch);
    // The header and the two running pods first.
    await watched.until((out) => out.split('\n').length >= 4, 30_000);
    await ok(['set', 'image', 'deployment/web', 'app=registry.example.com/web:v2']);
    // Then the rollout, row by row: both old pods terminating, two new ones running.
    const newRunning = (out: string): number => new Set(tableRows(out).slice(3).filter((row) => row[2] === 'Running').map((row) => row[0])).size;
    const streamed = await watched.until((out) => (out.match(/Terminating/g) ?? []).length >= 2 && newRunning(out) >= 2, 30_000);
    watch.kill();
    const rows = tableRows(streamed);
    expect(rows[0]).toEqual(['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE']);
    expect(rows.slice(1).every((row) => row.length === 5)).toBe(true);
    expect(rows.some((row) => row[2] === 'ContainerCreating' && row[1] === '0/1')).toBe(true);
    expect(rows.some((row) => row[0] === oldPod && row[2] === 'Terminating')).toBe(true);

    const { code, stdout } = await Promise.race([
      followed,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('logs -f did not end with its pod')), 30_000)),
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain('starting web (registry.example.com/web:v1)');
    expect(stdout).toContain('listening on :8080');
  }, 120_000);

  it('auth can-i answers yes; diff shows a change without making it (server-side dry run)', async () => {
    const canI = await kubectl(['auth', 'can-i', 'create', 'deployments']);
    expect([canI.exitCode, canI.stdout]).toEqual([0, 'yes']);
    expect(await ok(['auth', 'can-i', 'patch', 'deployments/scale', '-n', 'shop-prod'])).toBe('yes');
    expect(tableRows(await ok(['auth', 'can-i', '--list']))[1]?.[0]).toBe('*.*');

    await ok(['apply', '-f', await manifest('web.yaml', deployment('registry.example.com/web:v1'))]);
    await rolledOut('deployment/web');
    const same = await kubectl(['diff', '-f', join(dir, 'web.yaml')]);
    expect([same.exitCode, same.stdout]).toEqual([0, '']);
    const changed = await kubectl(['diff', '-f', await manifest('web-v2.yaml', deployment('registry.example.com/web:v2'))]);
    expect(changed.exitCode).toBe(1);
    expect(changed.stdout).toMatch(/^-\s+- image: registry\.example\.com\/web:v1$/m);
    expect(changed.stdout).toMatch(/^\+\s+- image: registry\.example\.com\/web:v2$/m);
    expect(changed.stdout).toMatch(/^-\s+generation: 1$/m);
    expect(changed.stdout).toMatch(/^\+\s+generation: 2$/m);
    // Nothing was changed: the dry run did not reach the cluster.
    expect(await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.metadata.generation} {.spec.template.spec.containers[0].image}'])).toBe('1 registry.example.com/web:v1');
    expect(await ok(['rollout', 'history', 'deployment/web'])).toBe('deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n');
  }, 120_000);

  it('server-side apply creates, updates, and drops the fields the manager no longer applies', async () => {
    const file = await manifest('web.yaml', deployment('registry.example.com/web:v1'));
    expect((await ok(['apply', '--server-side', '-f', file])).split('\n')).toEqual([
      'deployment.apps/web serverside-applied',
      'service/web serverside-applied',
      'configmap/web-config serverside-applied',
    ]);
    await rolledOut('deployment/web');
    const v2 = deployment('registry.example.com/web:v2').replace('data: { LOG_LEVEL: info, REGION: eu-central-1 }', 'data: { LOG_LEVEL: debug }');
    await ok(['apply', '--server-side', '-f', await manifest('web-v2.yaml', v2)]);
    expect((await rolledOut('deployment/web')).at(-1)).toBe('deployment "web" successfully rolled out');
    expect(await ok(['get', 'cm', 'web-config', '-o', 'jsonpath={.data}'])).toBe('{"LOG_LEVEL":"debug"}');
    expect(await ok(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'])).toBe('registry.example.com/web:v2');
  }, 120_000);

  it('StatefulSets and DaemonSets roll out pod by pod with controller revisions; undo restores the previous one', async () => {
    const workloads = (image: string): string => `apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db }
spec:
  serviceName: db
  replicas: 2
  selector: { matchLabels: { app: db } }
  template:
    metadata: { labels: { app: db } }
    spec: { containers: [{ name: db, image: "${image}" }] }
---
apiVersion: apps/v1
kind: DaemonSet
metadata: { name: agent }
spec:
  selector: { matchLabels: { app: agent } }
  template:
    metadata: { labels: { app: agent } }
    spec: { containers: [{ name: agent, image: "${image}" }] }
`;
    await ok(['apply', '-f', await manifest('sets.yaml', workloads('registry.example.com/store:1'))]);
    expect((await rolledOut('statefulset/db')).at(-1)).toBe('partitioned roll out complete: 2 new pods have been updated...');
    expect((await rolledOut('daemonset/agent')).at(-1)).toBe('daemon set "agent" successfully rolled out');
    await ok(['set', 'image', 'statefulset/db', 'db=registry.example.com/store:2']);
    await ok(['set', 'image', 'daemonset/agent', 'agent=registry.example.com/store:2']);
    expect((await rolledOut('statefulset/db')).at(-1)).toBe('partitioned roll out complete: 2 new pods have been updated...');
    expect((await rolledOut('daemonset/agent')).at(-1)).toBe('daemon set "agent" successfully rolled out');
    const revisions = await ok(['get', 'sts', 'db', '-o', 'jsonpath={.status.currentRevision} {.status.updateRevision} {.status.updatedReplicas}']);
    const [current, update, updated] = revisions.split(' ');
    expect(current).toBe(update);
    expect(updated).toBe('2');
    const pods = await ok(['get', 'pods', '-l', 'app=db', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.metadata.labels.controller-revision-hash} {.spec.containers[0].image}{"\\n"}{end}']);
    expect(pods.trim().split('\n')).toEqual([`db-0 ${update} registry.example.com/store:2`, `db-1 ${update} registry.example.com/store:2`]);
    expect(await ok(['rollout', 'history', 'statefulset/db'])).toBe('statefulset.apps/db \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n');
    expect(tableRows(await ok(['get', 'controllerrevisions'])).length).toBe(5);
    const agents = await ok(['get', 'pods', '-l', 'app=agent', '-o', 'jsonpath={range .items[*]}{.spec.containers[0].image}{"\\n"}{end}']);
    expect(agents.trim().split('\n')).toEqual(Array(3).fill('registry.example.com/store:2'));

    expect(await ok(['rollout', 'undo', 'statefulset/db'])).toBe('statefulset.apps/db rolled back');
    await rolledOut('statefulset/db');
    const back = await ok(['get', 'pods', '-l', 'app=db', '-o', 'jsonpath={range .items[*]}{.spec.containers[0].image}{"\\n"}{end}']);
    expect(back.trim().split('\n')).toEqual(Array(2).fill('registry.example.com/store:1'));
  }, 120_000);
});
