/**
 * Every hint names the same target (issue 13 §4): the command a failure suggests is parsed as a
 * shell would and run with the real kubectl against the sandbox — it must reach the same cluster,
 * context and namespace and show the failing object.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isIacError } from '../../../src/errors.js';
import { watchRollouts } from '../../../src/kube/watch-rollout.js';
import { startKubeSandbox, type KubeSandbox, type WorkloadScenario } from '../../../src/sandbox/kubernetes.js';
import { toolAvailable } from '../../helpers/tools.js';

let dir: string;
let sandbox: KubeSandbox | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iac kube hints '));
});
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
  await rm(dir, { recursive: true, force: true });
});

/** POSIX shell words: plain, and '…' quoted (all the hints use). */
function shellWords(command: string): string[] {
  const words: string[] = [];
  const pattern = /'([^']*)'|(\\.)|(\S)|(\s+)/g;
  let word: string | undefined;
  for (const match of command.matchAll(pattern)) {
    if (match[4] !== undefined) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else word = (word ?? '') + (match[1] ?? match[2]?.slice(1) ?? match[3] ?? '');
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** The failure's hint, run as the user would paste it (HOME only for kubectl's cache). */
async function runHint(scenario: WorkloadScenario, options: { expectedRevision?: string } = {}) {
  sandbox = await startKubeSandbox({ workloads: [scenario] });
  // A kubeconfig whose current context is NOT the one iac.yaml names, in a directory with a space.
  const kubeconfigPath = await sandbox.kubeconfig(join(dir, 'kube config.yaml'), { namespace: 'default', context: 'sandbox-ctx' });
  const ref = `${scenario.kind}/${scenario.name}`;
  const error = await watchRollouts({ kubeconfigPath, context: 'sandbox-ctx', namespace: 'shop', workloads: [ref], timeoutMs: 2500, ...options, onEvent: () => {} }).catch((e: unknown) => e);
  expect(isIacError(error)).toBe(true);
  const hint = (error as { hint: string }).hint;
  const argv = shellWords(hint);
  expect(argv[0]).toBe('kubectl');
  expect(argv).toEqual(expect.arrayContaining(['-n', 'shop', '--context', 'sandbox-ctx', '--kubeconfig', kubeconfigPath]));
  const result = await execa(argv[0] as string, argv.slice(1), { reject: false, env: { HOME: dir, KUBECONFIG: '' }, timeout: 60_000 });
  return { error: error as Error & { exitCode: number }, hint, result };
}

describe.runIf(toolAvailable('kubectl'))('hints run with the real kubectl against the same target', () => {
  it('ProgressDeadlineExceeded → kubectl describe deployment … shows the deployment', async () => {
    const { error, hint, result } = await runHint({ kind: 'deployment', name: 'web', namespace: 'shop', outcome: 'progress-deadline', stepMs: 100 });
    expect(error.exitCode).toBe(40);
    expect(hint).toMatch(/^kubectl describe deployment web -n shop --context sandbox-ctx --kubeconfig '.*kube config\.yaml'$/);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^Name:\s+web$/m);
    expect(result.stdout).toMatch(/^Namespace:\s+shop$/m);
  });

  it('ImagePullBackOff → kubectl describe pod … shows the failing pod', async () => {
    const { error, hint, result } = await runHint({ kind: 'statefulset', name: 'db', namespace: 'shop', outcome: 'ImagePullBackOff', stepMs: 100 });
    expect(error.exitCode).toBe(40);
    expect(hint).toMatch(/^kubectl describe pod db-\d -n shop /);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^Namespace:\s+shop$/m);
    expect(result.stdout).toContain('Controlled By:  StatefulSet/db');
  });

  it('the run\'s commit never applied (41) → kubectl get … -o jsonpath prints the image still running', async () => {
    const { error, result } = await runHint(
      { kind: 'deployment', name: 'web', namespace: 'shop', image: 'registry.example.com/web:89a72f5', outcome: 'steady' },
      { expectedRevision: '3472e6ab9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f' },
    );
    expect(error.exitCode).toBe(41);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe('registry.example.com/web:89a72f5');
  });
});
