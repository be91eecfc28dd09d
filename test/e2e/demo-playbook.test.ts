/**
 * The demo project's playbook deploys for real: it renders the committed manifests with the
 * commit as image tag and applies them to the sandbox cluster — with kubectl when there is one,
 * else through the API with Ansible's uri module (server-side apply) — and the cluster rolls
 * them out. Real ansible-playbook, real kubectl, the demo's own sandboxes.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createDemoProject } from '../../src/demo/project.js';
import { startDemoSandboxes, type DemoSandboxes } from '../../src/demo/sandboxes.js';
import { toolAvailable } from '../helpers/tools.js';

let root: string | undefined;
let sandboxes: DemoSandboxes | undefined;
afterEach(async () => {
  await sandboxes?.close();
  sandboxes = undefined;
  if (root) rmSync(root, { recursive: true, force: true });
  root = undefined;
});

function playbook(cwd: string, extraVars: string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      'ansible-playbook',
      ['-i', 'deploy/hosts.ini', 'deploy/site.yml', ...extraVars.flatMap((v) => ['-e', v])],
      { cwd, timeout: 180_000, env: { ...process.env, ANSIBLE_NOCOLOR: '1', ANSIBLE_FORCE_COLOR: '0', HOME: cwd } },
      (error, stdout) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout }),
    );
  });
}

async function deployDev(kubectl: string): Promise<{ sha: string; mainSha: string; stdout: string; box: DemoSandboxes }> {
  root = mkdtempSync(join(tmpdir(), 'iac-demo-playbook-'));
  const project = await createDemoProject(root);
  const box = await startDemoSandboxes(project.mainSha);
  sandboxes = box;
  await box.kube.kubeconfig(join(project.work, 'kubeconfig.yaml'));
  mkdirSync(join(project.work, '.iac'), { recursive: true });
  const sha = await project.commit('src/checkout.js', 'export const checkout = () => 1;\n', 'Add the checkout page');
  const run = await playbook(project.work, [`environment_name=dev`, `image_tag=${sha}`, `kubectl=${kubectl}`]);
  expect(run.code, run.stdout).toBe(0);
  return { sha, mainSha: project.mainSha, stdout: run.stdout, box };
}

/** Resolves once the Deployment's controller has rolled the new template out (or rejects after `ms`). */
async function rolledOut(box: DemoSandboxes, name: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const d = box.kube.store.get('deployments', 'shop-dev', name);
    const status = (d?.status ?? {}) as Record<string, number>;
    if (d && status.observedGeneration === d.metadata.generation && status.updatedReplicas === 3 && status.availableReplicas === 3 && status.replicas === 3) return;
    if (Date.now() > deadline) throw new Error(`${name} did not roll out within ${ms} ms: ${JSON.stringify(status)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function expectDeployed(box: DemoSandboxes, sha: string, mainSha: string): void {
  for (const name of ['web', 'worker']) {
    const image = (box.kube.store.get('deployments', 'shop-dev', name)?.spec?.template as { spec: { containers: { image: string }[] } }).spec.containers[0]?.image;
    expect(image).toBe(`registry.example.com/shop-${name}:${sha}`);
    // A new ReplicaSet, revision 2, owned by the Deployment; the one of main's commit scaled to 0.
    const sets = box.kube.store.list('replicasets', 'shop-dev').filter((rs) => rs.metadata.name.startsWith(`${name}-`));
    const byRevision = Object.fromEntries(sets.map((rs) => [rs.metadata.annotations?.['deployment.kubernetes.io/revision'], rs]));
    expect(Object.keys(byRevision).sort()).toEqual(['1', '2']);
    expect((byRevision['1']?.spec?.template as { spec: { containers: { image: string }[] } }).spec.containers[0]?.image).toBe(`registry.example.com/shop-${name}:${mainSha}`);
    expect(byRevision['1']?.spec?.replicas).toBe(0);
    expect(byRevision['2']?.spec?.replicas).toBe(3);
    const pods = box.kube.store.list('pods', 'shop-dev').filter((pod) => pod.metadata.labels?.app === name);
    expect(pods.map((pod) => (pod.spec?.containers as { image: string }[])[0]?.image)).toEqual(Array(3).fill(`registry.example.com/shop-${name}:${sha}`));
  }
  // prod is untouched.
  expect((box.kube.store.get('deployments', 'shop-prod', 'web')?.spec?.template as { spec: { containers: { image: string }[] } }).spec.containers[0]?.image).toBe(`registry.example.com/shop-web:${mainSha}`);
}

describe.runIf(toolAvailable('ansible-playbook'))('the demo playbook', () => {
  it.runIf(toolAvailable('kubectl'))('applies the manifests with kubectl: the image tag is the full commit SHA, the cluster rolls it out', async () => {
    const { sha, mainSha, stdout, box } = await deployDev('kubectl');
    expect(stdout).toMatch(/TASK \[Apply the manifests with kubectl\] \*+\nchanged: \[deployers\]/);
    expect(stdout).toMatch(/TASK \[Apply the manifests through the Kubernetes API \(server-side apply\)\] \*+\nskipping/);
    await rolledOut(box, 'web', 60_000);
    await rolledOut(box, 'worker', 60_000);
    expectDeployed(box, sha, mainSha);
    expect(box.kube.requests.log.filter((r) => r.verb === 'patch' && r.resource === 'deployments' && r.path.includes('fieldManager=kubectl-client-side-apply'))).toHaveLength(2);
  }, 240_000);

  it('without kubectl, applies them through the API with the uri module (server-side apply)', async () => {
    const { sha, mainSha, stdout, box } = await deployDev('/nonexistent/kubectl');
    expect(stdout).toMatch(/TASK \[Apply the manifests with kubectl\] \*+\nskipping/);
    expect(stdout).toMatch(/TASK \[Apply the manifests through the Kubernetes API \(server-side apply\)\] \*+\nok: \[deployers\]/);
    // no_log: the bearer token never shows.
    expect(stdout).not.toContain(box.kube.token);
    await rolledOut(box, 'web', 60_000);
    await rolledOut(box, 'worker', 60_000);
    expectDeployed(box, sha, mainSha);
    const applies = box.kube.requests.log.filter((r) => r.method === 'PATCH' && r.path.includes('fieldManager=shop-deploy&force=true'));
    expect(applies.map((r) => [r.resource, r.status])).toEqual([
      ['deployments', 200],
      ['deployments', 200],
      ['services', 200],
    ]);
  }, 240_000);
});
