/**
 * Conformance: the real kubectl, pointed at the sandbox, and iac's watchRollouts watch the same
 * scripted rollout and must print the same status lines and end the same way.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RolloutError } from '../../../src/errors.js';
import { watchRollouts } from '../../../src/kube/watch-rollout.js';
import { startKubeSandbox, type KubeSandbox, type WorkloadScenario } from '../../../src/sandbox/kubernetes.js';
import { toolAvailable } from '../../helpers/tools.js';

let dir: string;
let sandbox: KubeSandbox | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iac-kubectl-'));
});
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** kubectl with its own discovery cache and HOME, so nothing leaks between runs. */
function kubectl(kubeconfig: string, args: string[]) {
  return execa('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], {
    reject: false,
    env: { HOME: dir, KUBECONFIG: '' },
    timeout: 60_000,
  });
}

interface Run {
  lines: string[];
  /** kubectl: `error: …` from stderr; iac: the error message prefixed the same way. */
  error: string | undefined;
  exitCode: number;
}

/** Both clients connect while the spec change is not yet observed, then watch the same events. */
async function runBoth(scenario: WorkloadScenario, timeout: string, timeoutMs: number): Promise<{ kubectl: Run; iac: Run }> {
  sandbox = await startKubeSandbox({ workloads: [{ observeDelayMs: 3000, stepMs: 250, ...scenario }] });
  const kubeconfig = await sandbox.kubeconfig(join(dir, 'kubeconfig'), { namespace: 'shop' });
  const ref = `${scenario.kind}/${scenario.name}`;
  const lines: string[] = [];
  const [cli, iac] = await Promise.all([
    kubectl(kubeconfig, ['rollout', 'status', ref, `--timeout=${timeout}`]),
    watchRollouts({
      kubeconfigPath: kubeconfig,
      namespace: 'shop',
      workloads: [ref],
      timeoutMs,
      onEvent: (event) => {
        if (event.type === 'status') lines.push(event.message);
      },
    }).then(
      () => ({ error: undefined, exitCode: 0 }),
      (error: unknown) => ({ error: `error: ${(error as Error).message}`, exitCode: (error as RolloutError).exitCode }),
    ),
  ]);
  return {
    kubectl: {
      lines: cli.stdout.split('\n').filter((line) => line !== ''),
      error: cli.stderr.split('\n').find((line) => line.startsWith('error: ')),
      exitCode: cli.exitCode ?? -1,
    },
    iac: { lines, ...iac },
  };
}

describe.runIf(toolAvailable('kubectl'))('kubectl conformance against the sandbox', () => {
  it('kubectl get deployments prints the server-side table', async () => {
    sandbox = await startKubeSandbox({ workloads: [{ kind: 'deployment', name: 'web', namespace: 'shop', outcome: 'steady' }] });
    const kubeconfig = await sandbox.kubeconfig(join(dir, 'kubeconfig'), { namespace: 'shop' });
    const result = await kubectl(kubeconfig, ['get', 'deployments']);
    expect(result.exitCode).toBe(0);
    const [header, row] = result.stdout.split('\n');
    expect(header?.split(/\s+/)).toEqual(['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE']);
    expect(row?.split(/\s+/).slice(0, 4)).toEqual(['web', '3/3', '3', '3']);
    const missing = await kubectl(kubeconfig, ['get', 'deployment', 'nope']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toContain('Error from server (NotFound): deployments.apps "nope" not found');
  });

  it('a completing rollout: identical status lines, both succeed', async () => {
    const { kubectl: cli, iac } = await runBoth({ kind: 'deployment', name: 'web', namespace: 'shop', replicas: 3 }, '30s', 30_000);
    expect(cli.exitCode).toBe(0);
    expect(iac.exitCode).toBe(0);
    expect(cli.lines[0]).toBe('Waiting for deployment spec update to be observed...');
    expect(cli.lines[cli.lines.length - 1]).toBe('deployment "web" successfully rolled out');
    expect(iac.lines).toEqual(cli.lines);
  });

  it('a statefulset rollout: identical status lines', async () => {
    const { kubectl: cli, iac } = await runBoth({ kind: 'statefulset', name: 'db', namespace: 'shop', replicas: 2 }, '30s', 30_000);
    expect(cli.exitCode).toBe(0);
    expect(cli.lines[cli.lines.length - 1]).toBe('partitioned roll out complete: 2 new pods have been updated...');
    expect(iac.lines).toEqual(cli.lines);
  });

  it('ProgressDeadlineExceeded: same lines, same error text; kubectl exits 1, iac 40', async () => {
    const { kubectl: cli, iac } = await runBoth({ kind: 'deployment', name: 'web', namespace: 'shop', outcome: 'progress-deadline' }, '30s', 30_000);
    expect(cli.exitCode).toBe(1);
    expect(cli.error).toBe('error: deployment "web" exceeded its progress deadline');
    expect(iac.error).toBe(cli.error);
    expect(iac.exitCode).toBe(40);
    expect(iac.lines).toEqual(cli.lines);
  });

  it('still progressing at the deadline: kubectl times out (1), iac reports a timeout (41)', async () => {
    const { kubectl: cli, iac } = await runBoth({ kind: 'deployment', name: 'web', namespace: 'shop', outcome: 'stuck' }, '4s', 4000);
    expect(cli.exitCode).toBe(1);
    expect(cli.error).toBe('error: timed out waiting for the condition');
    expect(iac.exitCode).toBe(41);
    expect(iac.lines).toEqual(cli.lines);
    expect(iac.error).toContain(cli.lines[cli.lines.length - 1]);
  });
});
