import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { DEMO_REGISTRY, createDemoProject, writeDemoConfig } from '../demo/project.js';
import { DEMO_TOKEN, DEMO_USER, startDemoSandboxes } from '../demo/sandboxes.js';
import { InterruptedError } from '../errors.js';
import { packageRoot } from '../util/package-root.js';
import type { CommandContext } from './context.js';

interface DemoStep {
  explain: string;
  args: string[];
}

/** Made-up AWS credentials: the EC2 sandbox checks the signature's presence and region, not the key. */
const DEMO_AWS = {
  AWS_ACCESS_KEY_ID: 'AKIAIACDEMO000000000',
  AWS_SECRET_ACCESS_KEY: 'iac-demo-secret-key-not-a-real-one',
  AWS_REGION: 'eu-central-1',
  AWS_EC2_METADATA_DISABLED: 'true',
};

/**
 * `iac demo`: the whole pipeline against local sandboxes in a scratch project — `up dev`, `status`,
 * `promote develop main`, `status` — each run as a user would run it (the real bin/iac, real git,
 * real ansible-playbook). The project's playbook applies its committed manifests (image tag = the
 * commit) to the sandbox cluster, whose controllers roll them out while iac watches; nothing else
 * touches the cluster. Leaves nothing behind unless --keep.
 */
export default async function demo(ctx: CommandContext): Promise<number> {
  const { output } = ctx;
  const c = output.chalk;
  const root = mkdtempSync(join(tmpdir(), 'iac-demo-'));
  const keep = ctx.options.keep === true;
  let sandboxes: Awaited<ReturnType<typeof startDemoSandboxes>> | undefined;
  try {
    output.info(c.bold('iac demo') + c.dim(` — a scratch project in ${root}, with Jenkins-, Kubernetes- and EC2-compatible sandboxes on 127.0.0.1`));
    const project = await createDemoProject(root);
    sandboxes = await startDemoSandboxes(project.mainSha);
    writeDemoConfig(project.work, { jenkins: sandboxes.jenkins.url, ec2: sandboxes.ec2.url });
    const kubeconfig = await sandboxes.kube.kubeconfig(join(project.work, 'kubeconfig.yaml'));
    const featureSha = await project.commit('src/checkout.js', "export const checkout = (cart) => cart.total();\n", 'Add the checkout page');

    const hasAnsible = await commandExists('ansible-playbook');
    // Without Ansible nothing applies the manifests, so there is no rollout to watch either.
    const skip = hasAnsible ? [] : ['--skip', 'ansible,rollout'];
    if (!hasAnsible) {
      output.warn(
        'ansible-playbook is not installed, so the demo skips the Ansible and rollout steps: nothing is deployed to the cluster. Install it with: sudo apt-get install ansible-core (or pipx install ansible-core)',
      );
    }
    const steps: DemoStep[] = [
      { explain: 'iac up dev — push develop, build it on Jenkins, apply the manifests with Ansible, watch the rollout', args: ['up', 'dev', ...skip] },
      { explain: 'iac status — what runs where: develop has work that main (prod) does not have yet', args: ['status'] },
      { explain: 'iac promote develop main — fast-forward main to the tested commit, push it, deploy prod', args: ['promote', 'develop', 'main', '--yes', ...skip] },
      { explain: 'iac status — prod now runs the promoted commit; nothing is waiting to be promoted', args: ['status'] },
    ];

    const bin = join(packageRoot(), 'bin', 'iac');
    const childEnv = { ...ctx.env, IAC_JENKINS_USER: DEMO_USER, IAC_JENKINS_TOKEN: DEMO_TOKEN, ...DEMO_AWS };
    for (const [index, step] of steps.entries()) {
      if (ctx.signal.aborted) throw new InterruptedError();
      output.info('');
      output.info(c.cyan(`▶ ${index + 1}/${steps.length}  ${step.explain}`));
      const flags = [...(ctx.options.json ? ['--json'] : []), ...(ctx.options.verbose ? ['--verbose'] : []), ...(ctx.options.color === false ? ['--no-color'] : [])];
      const child = await execa(process.execPath, [bin, ...step.args, ...flags], {
        cwd: project.work,
        env: childEnv,
        stdio: 'inherit',
        reject: false,
        cancelSignal: ctx.signal,
        forceKillAfterDelay: 10_000,
      });
      if (ctx.signal.aborted) throw new InterruptedError();
      if (child.exitCode !== 0) {
        output.warn(`\`iac ${step.args.join(' ')}\` exited ${child.exitCode}; the demo stops here`);
        return child.exitCode ?? 1;
      }
    }
    output.info('');
    output.info(c.green('✔ demo complete: ') + 'that is the whole path, commit → Jenkins → Ansible → rollout → promotion. Next: `iac init` in your own repository.');
    if (keep) {
      for (const line of await keepInstructions(project.work, kubeconfig, bin, featureSha)) output.info(line);
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
    }
    return 0;
  } finally {
    await sandboxes?.close();
    if (!keep) rmSync(root, { recursive: true, force: true });
  }
}

/**
 * Commands to try by hand, each runnable exactly as printed in a POSIX shell: the demo's own
 * credentials (made up, accepted by the sandboxes), the kubeconfig, and — with kubectl — a
 * rollout started by hand (web to its commit's short tag) that `iac up --only rollout` watches.
 */
async function keepInstructions(work: string, kubeconfig: string, bin: string, sha: string): Promise<string[]> {
  const iac = (await sameFile('iac', bin)) ? 'iac' : shellWord(bin);
  const env = { IAC_JENKINS_USER: DEMO_USER, IAC_JENKINS_TOKEN: DEMO_TOKEN, ...DEMO_AWS, KUBECONFIG: kubeconfig };
  const lines = [
    `the scratch project stays in ${work}; the sandboxes keep running until you press Ctrl-C. Try it in another terminal:`,
    `  cd ${shellWord(work)}`,
    `  export ${Object.entries(env).map(([key, value]) => `${key}=${shellWord(value)}`).join(' ')}`,
    `  ${iac} status`,
  ];
  if (await commandExists('kubectl')) {
    lines.push(
      `  kubectl get pods -n shop-dev`,
      `  kubectl set image deployment/web app=${DEMO_REGISTRY}/shop-web:${sha.slice(0, 7)} -n shop-dev`,
      `  ${iac} up dev --only rollout`,
      `  kubectl rollout history deployment/web -n shop-dev`,
    );
  } else {
    lines.push(`  ${iac} up dev --only rollout`, '(install kubectl to change the sandbox cluster by hand)');
  }
  return lines;
}

/** A word a POSIX shell reads back as `text` (quoted only when it has to be). */
function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Is `name` on PATH the same file as `path`? */
async function sameFile(name: string, path: string): Promise<boolean> {
  const result = await execa('sh', ['-c', 'command -v "$1"', 'sh', name], { reject: false });
  if (result.exitCode !== 0) return false;
  try {
    return realpathSync(result.stdout.trim()) === realpathSync(path);
  } catch {
    return false;
  }
}

async function commandExists(name: string): Promise<boolean> {
  const result = await execa('sh', ['-c', 'command -v "$1"', 'sh', name], { reject: false });
  return result.exitCode === 0;
}
