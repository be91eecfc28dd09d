import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect, createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RolloutError } from '../../../src/errors.js';
import { WorkloadRolloutError, watchRollouts, type RolloutEvent } from '../../../src/kube/watch-rollout.js';
import { startKubeSandbox, type KubeSandbox, type KubeSandboxOptions } from '../../../src/sandbox/kubernetes.js';
import { startKubeFaultProxy } from '../../helpers/kube-fault-proxy.js';

let dir: string;
let sandbox: KubeSandbox | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iac-kube-'));
});
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function start(options: KubeSandboxOptions): Promise<string> {
  sandbox = await startKubeSandbox(options);
  return sandbox.kubeconfig(join(dir, 'kubeconfig'), { namespace: 'shop' });
}

function collector(): { events: RolloutEvent[]; onEvent: (event: RolloutEvent) => void } {
  const events: RolloutEvent[] = [];
  return { events, onEvent: (event) => events.push(event) };
}

describe('watchRollouts against the Kubernetes sandbox', () => {
  it('3 workloads roll out in parallel in about the slowest one\'s time', async () => {
    // The specs change at once; the controllers observe them after observeDelayMs (so every
    // watcher's first LIST sees an unfinished rollout), then take one step per stepMs: a
    // Deployment of 3 needs 8 steps, a StatefulSet or DaemonSet of 3 needs 6.
    const observeDelayMs = 1500;
    const kubeconfigPath = await start({
      workloads: [
        { kind: 'deployment', name: 'web', namespace: 'shop', replicas: 3, stepMs: 250, observeDelayMs },
        { kind: 'statefulset', name: 'db', namespace: 'shop', replicas: 3, stepMs: 300, observeDelayMs },
        { kind: 'daemonset', name: 'agent', namespace: 'shop', replicas: 3, stepMs: 300, observeDelayMs },
      ],
    });
    const scenarioMs = [8 * 250, 6 * 300, 6 * 300];
    const slowest = observeDelayMs + Math.max(...scenarioMs);
    const sequential = observeDelayMs + scenarioMs.reduce((total, ms) => total + ms, 0);
    const { events, onEvent } = collector();
    const started = Date.now();
    const outcomes = await watchRollouts({
      kubeconfigPath,
      namespace: 'shop',
      workloads: ['deployment/web', 'sts/db', 'ds/agent'],
      timeoutMs: 20_000,
      onEvent,
    });
    const elapsed = Date.now() - started;
    expect(outcomes.map((outcome) => outcome.message)).toEqual([
      'deployment "web" successfully rolled out',
      'partitioned roll out complete: 3 new pods have been updated...',
      'daemon set "agent" successfully rolled out',
    ]);
    // Parallel: about the slowest rollout (plus connection overhead), well under the sum.
    expect(elapsed).toBeGreaterThanOrEqual(slowest - 500);
    // The claim is "parallel, not summed": bounded by the sequential time, not a tight wall-clock budget.
    expect(elapsed).toBeLessThan(sequential);
    const webMessages = events.filter((e) => e.type === 'status' && e.workload === 'deployment/web').map((e) => (e as { message: string }).message);
    // kubectl's progress lines, in order; under load a watch event may carry several steps at once,
    // so intermediate lines can be skipped, never reordered.
    const progress = webMessages.filter((m) => m.startsWith('Waiting for deployment "web"'));
    expect(progress.length).toBeGreaterThan(0);
    expect(progress[0]).toBe('Waiting for deployment "web" rollout to finish: 0 out of 3 new replicas have been updated...');
    expect(webMessages.at(-1)).toBe('deployment "web" successfully rolled out');
    // One list and one watch per kind (here one workload each; no reconnects happened).
    for (const resource of ['deployments', 'statefulsets', 'daemonsets']) {
      expect(sandbox!.requests.count('list', resource, 'shop')).toBe(1);
      expect(sandbox!.requests.count('watch', resource, 'shop')).toBe(1);
    }
  });

  it('20 Deployments: ONE LIST + ONE WATCH of deployments, one shared pod stream, on two connections', async () => {
    const names = Array.from({ length: 20 }, (_, i) => `web-${String(i).padStart(2, '0')}`);
    sandbox = await startKubeSandbox({ workloads: names.map((name) => ({ kind: 'deployment', name, namespace: 'shop', replicas: 2, stepMs: 150, observeDelayMs: 800 })) });
    const proxy = await startKubeFaultProxy(sandbox.url);
    try {
      const kubeconfigPath = await proxy.kubeconfig(join(dir, 'kubeconfig'), { token: sandbox.token, namespace: 'shop' });
      const outcomes = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: names.map((n) => `deployment/${n}`), timeoutMs: 30_000, onEvent: () => {} });
      expect(outcomes.every((o) => o.verdict?.state === 'ready')).toBe(true);
      const count = (verb: string, resource: string): number => proxy.requests.filter((r) => r.verb === verb && r.resource === resource).length;
      expect([count('list', 'deployments'), count('watch', 'deployments'), count('list', 'pods'), count('watch', 'pods')]).toEqual([1, 1, 1, 1]);
      expect(proxy.requests).toHaveLength(4);
      // Each LIST and its WATCH share one keep-alive connection.
      expect(proxy.connections).toBe(2);
    } finally {
      await proxy.close();
    }
  });

  it('proxy-url: every connection is a CONNECT tunnel through the proxy', async () => {
    sandbox = await startKubeSandbox({ workloads: [{ kind: 'deployment', name: 'web', namespace: 'shop', replicas: 1, outcome: 'steady' }] });
    const tunnels: string[] = [];
    const proxy = createNetServer();
    proxy.on('connection', (client) => {
      client.once('data', (head) => {
        const target = /^CONNECT (\S+) HTTP/.exec(head.toString('latin1'))?.[1];
        if (target === undefined) return client.destroy();
        tunnels.push(target);
        const [host, port] = target.split(':') as [string, string];
        const upstream = connect(Number(port), host, () => {
          client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
          client.pipe(upstream).pipe(client);
        });
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
      });
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', () => resolve()));
    try {
      const kubeconfigPath = await sandbox.kubeconfig(join(dir, 'kubeconfig'), { namespace: 'shop' });
      const text = await readFile(kubeconfigPath, 'utf8');
      const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      await writeFile(kubeconfigPath, text.replace('insecure-skip-tls-verify: true', `insecure-skip-tls-verify: true\n      proxy-url: ${proxyUrl}`));
      const outcomes = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['deployment/web'], timeoutMs: 10_000, onEvent: () => {} });
      expect(outcomes[0]?.verdict?.state).toBe('ready');
      expect(tunnels.length).toBeGreaterThanOrEqual(1);
      expect(new Set(tunnels)).toEqual(new Set([new URL(sandbox.url).host]));
    } finally {
      proxy.close();
    }
  });

  it('an OpenShift DeploymentConfig completes on NewReplicationControllerAvailable', async () => {
    const kubeconfigPath = await start({ openshift: true, workloads: [{ kind: 'deploymentconfig', name: 'legacy', namespace: 'shop', replicas: 2, stepMs: 100, observeDelayMs: 1500 }] });
    const { events, onEvent } = collector();
    const outcomes = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['dc/legacy'], timeoutMs: 20_000, onEvent });
    expect(outcomes[0]?.message).toBe('replication controller "legacy-2" successfully rolled out');
    const messages = events.filter((e) => e.type === 'status').map((e) => (e as { message: string }).message);
    expect(messages).toContain('Waiting for rollout to finish: 0 out of 2 new replicas have been updated...');
  });

  it('ImagePullBackOff fails in under 5 s with the image name, pod details and events', async () => {
    const kubeconfigPath = await start({
      workloads: [{ kind: 'deployment', name: 'web', namespace: 'shop', image: 'registry.example.com/web:does-not-exist', outcome: 'ImagePullBackOff', stepMs: 100 }],
    });
    const { events, onEvent } = collector();
    const started = Date.now();
    const error = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['deployment/web'], timeoutMs: 30_000, onEvent }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(error).toBeInstanceOf(WorkloadRolloutError);
    const failure = error as WorkloadRolloutError;
    expect(failure.exitCode).toBe(40);
    expect(failure.message).toContain('registry.example.com/web:does-not-exist');
    expect(failure.message).toMatch(/ErrImagePull|ImagePullBackOff/);
    expect(failure.hint).toMatch(/^kubectl describe pod web-/);
    expect(failure.details.join('\n')).toContain('Failed to pull image "registry.example.com/web:does-not-exist"');
    expect(failure.details.join('\n')).toContain('| fatal: cannot connect to database');
    expect(events.some((e) => e.type === 'diagnostic' && /ErrImagePull|ImagePullBackOff/.test(e.reason))).toBe(true);
  });

  it('CrashLoopBackOff fails after the grace period with the last termination and logs', async () => {
    const kubeconfigPath = await start({
      workloads: [{ kind: 'deployment', name: 'api', namespace: 'shop', outcome: 'CrashLoopBackOff', stepMs: 100, logs: ['boot', 'panic: nil map'] }],
    });
    const error = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['deployment/api'], timeoutMs: 30_000, crashLoopGraceMs: 600, onEvent: () => {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RolloutError);
    const failure = error as RolloutError;
    expect(failure.exitCode).toBe(40);
    expect(failure.message).toContain('CrashLoopBackOff');
    const details = failure.details.join('\n');
    expect(details).toContain('last termination: Error (exit code 1): fatal: cannot connect to database at db:5432');
    expect(details).toContain('| panic: nil map');
    expect(details).toContain('Back-off restarting failed container app');
  });

  it('a CrashLoopBackOff that recovers within the grace period completes', async () => {
    const kubeconfigPath = await start({
      workloads: [{ kind: 'deployment', name: 'api', namespace: 'shop', replicas: 2, outcome: 'CrashLoopBackOff', recoverAfterMs: 700, stepMs: 100 }],
    });
    const { events, onEvent } = collector();
    const outcomes = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['deployment/api'], timeoutMs: 20_000, crashLoopGraceMs: 5000, onEvent });
    expect(outcomes[0]?.message).toBe('deployment "api" successfully rolled out');
    expect(events.some((e) => e.type === 'diagnostic' && e.reason === 'CrashLoopBackOff')).toBe(true);
  });

  it.each(['ErrImagePull', 'InvalidImageName', 'CreateContainerConfigError'] as const)('%s fails fast', async (outcome) => {
    const kubeconfigPath = await start({ workloads: [{ kind: 'statefulset', name: 'db', namespace: 'shop', outcome, stepMs: 100 }] });
    const error = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['statefulset/db'], timeoutMs: 30_000, onEvent: () => {} }).catch((e: unknown) => e);
    expect((error as RolloutError).exitCode).toBe(40);
    expect((error as RolloutError).message).toContain(outcome);
  });

  it('ProgressDeadlineExceeded fails with kubectl\'s message', async () => {
    const kubeconfigPath = await start({ workloads: [{ kind: 'deployment', name: 'web', namespace: 'shop', outcome: 'progress-deadline', stepMs: 100 }] });
    const error = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['deployment/web'], timeoutMs: 30_000, onEvent: () => {} }).catch((e: unknown) => e);
    expect((error as RolloutError).exitCode).toBe(40);
    expect((error as RolloutError).message).toBe('deployment "web" exceeded its progress deadline');
  });

  it('still progressing at the deadline → timeout (41) with the last status', async () => {
    const kubeconfigPath = await start({ workloads: [{ kind: 'deployment', name: 'web', namespace: 'shop', outcome: 'stuck', stepMs: 100 }] });
    const error = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['deployment/web'], timeoutMs: 1200, onEvent: () => {} }).catch((e: unknown) => e);
    expect((error as RolloutError).exitCode).toBe(41);
    expect((error as RolloutError).message).toBe(
      'deployment/web did not finish rolling out within 1s: Waiting for deployment "web" rollout to finish: 1 out of 3 new replicas have been updated...',
    );
  });

  it('watches dropped every 2 s plus one 410 (and 20 ms latency) still finish, re-connecting from the last resourceVersion', async () => {
    const kubeconfigPath = await start({
      workloads: [
        { kind: 'deployment', name: 'web', namespace: 'shop', replicas: 4, stepMs: 450, observeDelayMs: 1000 },
        { kind: 'statefulset', name: 'db', namespace: 'shop', replicas: 3, stepMs: 450, observeDelayMs: 1000 },
      ],
      faults: { dropWatchesEveryMs: 2000, expireWatchesOnceAfterMs: 2900, latencyMs: 20 },
    });
    const { events, onEvent } = collector();
    const outcomes = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['deployment/web', 'statefulset/db'], timeoutMs: 30_000, onEvent });
    expect(outcomes.map((o) => o.message)).toEqual([
      'deployment "web" successfully rolled out',
      'partitioned roll out complete: 3 new pods have been updated...',
    ]);
    for (const [workload, resource] of [['deployment/web', 'deployments'], ['statefulset/db', 'statefulsets']] as const) {
      const reconnects = events.filter((e) => e.type === 'reconnect' && e.workload === workload);
      const relists = reconnects.filter((e) => e.type === 'reconnect' && e.reason.includes('410'));
      expect(reconnects.length).toBeGreaterThanOrEqual(2);
      expect(relists).toHaveLength(1);
      // One list + one watch, plus one watch per reconnect and one list per 410.
      expect(sandbox!.requests.count('watch', resource, 'shop')).toBe(1 + reconnects.length);
      expect(sandbox!.requests.count('list', resource, 'shop')).toBe(1 + relists.length);
    }
    // No status was lost: the sequence still reaches every stage.
    const web = events.filter((e) => e.type === 'status' && e.workload === 'deployment/web').map((e) => (e as { message: string }).message);
    expect(web).toContain('Waiting for deployment "web" rollout to finish: 3 out of 4 new replicas have been updated...');
  });

  it('a deleted workload fails; a missing one fails at once', async () => {
    const kubeconfigPath = await start({ workloads: [{ kind: 'deployment', name: 'web', namespace: 'shop', outcome: 'stuck', stepMs: 100 }] });
    setTimeout(() => sandbox!.deleteWorkload('deployment', 'web', 'shop'), 500);
    const deleted = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['deployment/web'], timeoutMs: 10_000, onEvent: () => {} }).catch((e: unknown) => e);
    expect((deleted as RolloutError).exitCode).toBe(40);
    expect((deleted as RolloutError).message).toContain('deleted');
    const missing = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['deployment/nope'], timeoutMs: 10_000, onEvent: () => {} }).catch((e: unknown) => e);
    expect((missing as RolloutError).message).toBe('deployment/nope not found in namespace shop');
  });

  it('a wrong token is exit 4 (credentials refused); a closed port is exit 4 (unreachable)', async () => {
    await start({ workloads: [] });
    const bad = await sandbox!.kubeconfig(join(dir, 'bad'), { namespace: 'shop', token: 'wrong-token' });
    const refused = await watchRollouts({ kubeconfigPath: bad, namespace: 'shop', workloads: ['deployment/web'], timeoutMs: 5000, onEvent: () => {} }).catch((e: unknown) => e);
    expect((refused as RolloutError).exitCode).toBe(4);
    expect((refused as Error).message).toContain('401');
    expect((refused as Error).message).not.toContain(sandbox!.token);
    await sandbox!.close();
    const gone = await watchRollouts({ kubeconfigPath: bad, namespace: 'shop', workloads: ['deployment/web'], timeoutMs: 5000, onEvent: () => {} }).catch((e: unknown) => e);
    expect((gone as RolloutError).exitCode).toBe(4);
    expect((gone as Error).message).toContain('ECONNREFUSED');
    sandbox = undefined;
  });

  it('an aborted signal ends the wait with InterruptedError (130)', async () => {
    const kubeconfigPath = await start({ workloads: [{ kind: 'deployment', name: 'web', namespace: 'shop', outcome: 'stuck' }] });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 400);
    const error = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['deployment/web'], timeoutMs: 10_000, signal: controller.signal, onEvent: () => {} }).catch((e: unknown) => e);
    expect((error as RolloutError).exitCode).toBe(130);
  });
});
