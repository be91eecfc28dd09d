/**
 * Hostile and unlucky API servers (issue 12.5, 12.6, 12.8): the sandbox behind a fault-injecting
 * proxy (500 every Nth request, 429 with Retry-After, 403 on diagnostics, watches that end without
 * an event), and objects carrying huge or control-sequence-laden messages.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isIacError, UnreachableError } from '../../../src/errors.js';
import { listWorkloads } from '../../../src/kube/list-workloads.js';
import { watchRollouts, type RolloutEvent } from '../../../src/kube/watch-rollout.js';
import { startKubeSandbox, type KubeSandbox, type WorkloadScenario } from '../../../src/sandbox/kubernetes.js';
import { startKubeFaultProxy, type KubeFaultProxy, type ProxyFaults } from '../../helpers/kube-fault-proxy.js';

let dir: string;
let sandbox: KubeSandbox | undefined;
let proxy: KubeFaultProxy | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iac-kube-faults-'));
});
afterEach(async () => {
  await proxy?.close();
  await sandbox?.close();
  proxy = undefined;
  sandbox = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** The sandbox with these workloads, behind the proxy with these faults; returns the kubeconfig. */
async function start(workloads: WorkloadScenario[], faults: ProxyFaults, openshift = false): Promise<string> {
  sandbox = await startKubeSandbox({ workloads, openshift });
  proxy = await startKubeFaultProxy(sandbox.url, faults);
  return proxy.kubeconfig(join(dir, 'kubeconfig'), { token: sandbox.token, namespace: 'shop' });
}

function collector(): { events: RolloutEvent[]; onEvent: (event: RolloutEvent) => void } {
  const events: RolloutEvent[] = [];
  return { events, onEvent: (event) => events.push(event) };
}

const rolling = (name: string, kind: WorkloadScenario['kind'] = 'deployment'): WorkloadScenario => ({
  kind,
  name,
  namespace: 'shop',
  replicas: 2,
  stepMs: 200,
  observeDelayMs: 800,
});

describe('watchRollouts through a fault-injecting proxy', () => {
  it('500 on every 2nd request of each stream, the first LIST and WATCH included (watches also dropped): retried with backoff, the rollout completes', async () => {
    const kubeconfigPath = await start([rolling('web'), rolling('db', 'statefulset')], { status500Every: 2 });
    sandbox!.setFaults({ dropWatchesEveryMs: 1000 });
    const { events, onEvent } = collector();
    const outcomes = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['deployment/web', 'statefulset/db'], timeoutMs: 30_000, onEvent });
    expect(outcomes.map((o) => o.verdict?.state)).toEqual(['ready', 'ready']);
    const failed = proxy!.requests.filter((r) => r.answer === 500);
    expect(failed.length).toBeGreaterThan(0);
    // The first LIST and the first WATCH of each kind met a 500 and were retried.
    for (const resource of ['deployments', 'statefulsets']) {
      for (const verb of ['list', 'watch'] as const) {
        const stream = proxy!.requests.filter((r) => r.verb === verb && r.resource === resource);
        expect(stream[0]?.answer).toBe(500);
        expect(stream[1]?.answer).toBe('forwarded');
      }
    }
    expect(events.some((e) => e.type === 'reconnect' && e.reason.includes('500'))).toBe(true);
  });

  it('500 on every request: exit 4 (UnreachableError) naming the 500 within the deadline, never a bug (exit 1)', async () => {
    const kubeconfigPath = await start([rolling('web')], { statusAlways: 500 });
    const started = Date.now();
    const error = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['deployment/web'], timeoutMs: 3000, onEvent: () => {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnreachableError);
    expect(isIacError(error) && error.exitCode).toBe(4);
    expect((error as Error).message).toContain('500');
    expect((error as Error).message).toContain('LIST deployments in shop');
    // Retried, not a hot loop, and over by the deadline (plus one request's worth of slack).
    const lists = proxy!.requests.filter((r) => r.verb === 'list').length;
    expect(lists).toBeGreaterThan(1);
    expect(lists).toBeLessThan(15);
    expect(Date.now() - started).toBeLessThan(3000 + 5000);
  });

  it('every WATCH answered 500 (LISTs fine): exit 4 at the deadline, not a timeout verdict and not exit 1', async () => {
    const kubeconfigPath = await start([{ ...rolling('web'), outcome: 'stuck' }], { watchStatus: 500 });
    const error = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['deployment/web'], timeoutMs: 3000, onEvent: () => {} }).catch((e: unknown) => e);
    expect(isIacError(error) && error.exitCode).toBe(4);
    expect((error as Error).message).toMatch(/500|no leader/);
    expect(proxy!.requests.filter((r) => r.verb === 'watch').length).toBeGreaterThan(1);
  });

  it('429 with Retry-After: the next attempt waits as long as the server asked', async () => {
    const kubeconfigPath = await start([rolling('web')], { tooManyRequests: { count: 1, retryAfterSeconds: 1 } });
    const outcomes = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['deployment/web'], timeoutMs: 30_000, onEvent: () => {} });
    expect(outcomes[0]?.verdict?.state).toBe('ready');
    const [refused, retry] = proxy!.requests;
    expect(refused?.answer).toBe(429);
    expect(retry?.path).toBe(refused?.path);
    expect((retry?.at ?? 0) - (refused?.at ?? 0)).toBeGreaterThanOrEqual(950);
  });

  it('403 on pods (diagnostics only): one warning, and the rollout still completes', async () => {
    const kubeconfigPath = await start([rolling('web'), rolling('api')], { forbid: ['pods'] });
    const { events, onEvent } = collector();
    const outcomes = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['deployment/web', 'deployment/api'], timeoutMs: 30_000, onEvent });
    expect(outcomes.map((o) => o.verdict?.state)).toEqual(['ready', 'ready']);
    const warnings = events.filter((e) => e.type === 'warning');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ code: 'diagnostics-forbidden' });
    expect((warnings[0] as { message: string }).message).toContain('cannot read pods in shop (403');
    expect((warnings[0] as { hint: string }).hint).toMatch(/^kubectl auth can-i list pods -n shop --kubeconfig /);
  });

  it('403 on events and logs: a failing rollout still fails with its reason (40), each gap said once', async () => {
    const kubeconfigPath = await start([{ kind: 'deployment', name: 'web', namespace: 'shop', outcome: 'ImagePullBackOff', stepMs: 100 }], { forbid: ['events', 'pods/log'] });
    const { events, onEvent } = collector();
    const error = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['deployment/web'], timeoutMs: 30_000, onEvent }).catch((e: unknown) => e);
    expect(isIacError(error) && error.exitCode).toBe(40);
    expect((error as Error).message).toMatch(/ErrImagePull|ImagePullBackOff/);
    const warnings = events.filter((e): e is Extract<RolloutEvent, { type: 'warning' }> => e.type === 'warning');
    expect(warnings.map((w) => w.message.split(' (')[0]).sort()).toEqual(['cannot read events in shop', 'cannot read pods/log in shop']);
  });

  it('watches that end at once without an event are retried with a growing backoff, then the rollout completes', async () => {
    const kubeconfigPath = await start([{ ...rolling('web'), observeDelayMs: 4000 }], { emptyWatches: 'all' });
    setTimeout(() => (proxy!.faults = {}), 4000);
    const outcomes = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['deployment/web'], timeoutMs: 30_000, onEvent: () => {} });
    expect(outcomes[0]?.verdict?.state).toBe('ready');
    const empty = proxy!.requests.filter((r) => r.answer === 'empty-watch' && r.resource === 'deployments');
    // ~100 ms forever would be ~40 in 4 s; a doubling backoff from 250 ms makes about 4.
    expect(empty.length).toBeGreaterThanOrEqual(2);
    expect(empty.length).toBeLessThanOrEqual(6);
    const gaps = empty.slice(1).map((r, i) => r.at - (empty[i] as { at: number }).at);
    expect(gaps.at(-1)).toBeGreaterThan((gaps[0] as number) * 1.5);
  });
});

describe('listWorkloads (iac status) through a fault-injecting proxy', () => {
  it('403 on pods: the verdicts stand and the missing diagnostics are said; 500s are retried', async () => {
    const kubeconfigPath = await start([{ kind: 'deployment', name: 'web', namespace: 'shop', outcome: 'stuck', stepMs: 100 }], { forbid: ['pods'], status500Every: 2 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const health = await listWorkloads({ kubeconfigPath, namespace: 'shop', refs: ['deployment/web'], diagnosePods: true, retryForMs: 10_000 });
    expect(health[0]).toMatchObject({ ref: 'deployment/web', found: true, state: 'progressing', diagnosticsUnavailable: 'pods not readable (403 Forbidden)' });
    expect(proxy!.requests.some((r) => r.answer === 500)).toBe(true);
  });
});

describe('remote text from the cluster', () => {
  /** A DeploymentConfig whose (displayed) Progressing message is `message`. */
  function completeDc(message: string): Record<string, unknown> {
    return {
      metadata: { name: 'legacy', namespace: 'shop', labels: { app: 'legacy' } },
      spec: { replicas: 1, selector: { app: 'legacy' }, triggers: [{ type: 'ConfigChange' }], template: { metadata: { labels: { app: 'legacy' } }, spec: { containers: [{ name: 'app', image: 'registry.example.com/legacy:v1' }] } } },
      status: {
        observedGeneration: 1,
        latestVersion: 1,
        replicas: 1,
        updatedReplicas: 1,
        availableReplicas: 1,
        conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicationControllerAvailable', message }],
      },
    };
  }

  it('a 10 MB status message with terminal control sequences is cut and cleaned before it leaves the adapter', async () => {
    const kubeconfigPath = await start([], {}, true);
    const hostile = `\x1b]0;pwned\x07\x1b[2J\x1b]52;c;ZWNobyBwd25lZA==\x07replication controller "legacy-1" successfully rolled out ${'A'.repeat(10 * 1024 * 1024)}`;
    sandbox!.store.put('deploymentconfigs', completeDc(hostile) as never);
    const { events, onEvent } = collector();
    const outcomes = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['dc/legacy'], timeoutMs: 30_000, onEvent });
    const shown = [outcomes[0]?.message ?? '', ...events.map((e) => ('message' in e ? (e.message ?? '') : ''))];
    for (const text of shown) {
      expect(text.length).toBeLessThan(1200);
      // eslint-disable-next-line no-control-regex
      expect(text).not.toMatch(/[\x00-\x08\x0a-\x1f\x7f-\x9f]/);
    }
    expect(outcomes[0]?.message).toMatch(/^replication controller "legacy-1" successfully rolled out A+… \[\d+ more characters cut\]$/);
  });

  it('an object with fields of the wrong type is the server\'s fault (exit 4), never a crash (exit 1)', async () => {
    const kubeconfigPath = await start([], {});
    sandbox!.store.put('deployments', {
      metadata: { name: 'odd', namespace: 'shop' },
      spec: { replicas: 1, template: { spec: { containers: [{ name: 'app', image: 'app:v1' }] } } },
      status: { observedGeneration: 1, conditions: 'not a list' },
    } as never);
    const error = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['deployment/odd'], timeoutMs: 10_000, onEvent: () => {} }).catch((e: unknown) => e);
    expect(isIacError(error) && error.exitCode).toBe(4);
    expect((error as Error).message).toContain('deployment/odd: the Kubernetes API sent an object iac cannot read');
  });

  it('an answer above the body bound (20 MB) is refused with a clear error (exit 4)', async () => {
    const kubeconfigPath = await start([], {}, true);
    sandbox!.store.put('deploymentconfigs', completeDc('x'.repeat(20 * 1024 * 1024)) as never);
    const error = await watchRollouts({ kubeconfigPath, namespace: 'shop', workloads: ['dc/legacy'], timeoutMs: 10_000, onEvent: () => {} }).catch((e: unknown) => e);
    expect(isIacError(error) && error.exitCode).toBe(4);
    expect((error as Error).message).toMatch(/sent a body for \/apis\/apps\.openshift\.io\/v1\/namespaces\/shop\/deploymentconfigs of more than 16 MiB .*iac refuses answers that large/);
  });
});
