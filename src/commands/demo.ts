import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { createDemoProject, writeDemoConfig } from '../demo/project.js';
import { DEMO_TOKEN, DEMO_USER, rollOut, startDemoSandboxes } from '../demo/sandboxes.js';
import { InterruptedError } from '../errors.js';
import { packageRoot } from '../util/package-root.js';
import type { CommandContext } from './context.js';

interface DemoStep {
  explain: string;
  args: string[];
  before?: () => void;
}

/**
 * `iac demo`: the whole pipeline against local sandboxes in a scratch project — `up dev`, `status`,
 * `promote develop main`, `status` — each run as a user would run it (the real bin/iac, real git,
 * real ansible-playbook). Leaves nothing behind unless --keep.
 */
export default async function demo(ctx: CommandContext): Promise<number> {
  const { output } = ctx;
  const c = output.chalk;
  const root = mkdtempSync(join(tmpdir(), 'iac-demo-'));
  const keep = ctx.options.keep === true;
  let sandboxes: Awaited<ReturnType<typeof startDemoSandboxes>> | undefined;
  const timers: NodeJS.Timeout[] = [];
  try {
    output.info(c.bold('iac demo') + c.dim(` — a scratch project in ${root}, with Jenkins-, Kubernetes- and EC2-compatible sandboxes on 127.0.0.1`));
    const project = await createDemoProject(root);
    sandboxes = await startDemoSandboxes(project.mainSha);
    writeDemoConfig(project.work, { jenkins: sandboxes.jenkins.url, ec2: sandboxes.ec2.url });
    await sandboxes.kube.kubeconfig(join(project.work, 'kubeconfig.yaml'));
    const featureSha = await project.commit('src/checkout.js', "export const checkout = (cart) => cart.total();\n", 'Add the checkout page');

    const hasAnsible = await commandExists('ansible-playbook');
    const skip = hasAnsible ? [] : ['--skip', 'ansible'];
    if (!hasAnsible) {
      output.warn('ansible-playbook is not installed, so the demo skips the Ansible step. Install it with: sudo apt-get install ansible-core (or pipx install ansible-core)');
    }
    const { kube, jenkins } = sandboxes;
    // The sandbox cluster starts rolling out the new image once the deploy job has been triggered,
    // timed to land while iac watches, as the playbook's `kubectl apply` would in a real project.
    const rolloutAfterTrigger = (job: string, namespace: string): void => {
      const seen = jenkins.triggers.length;
      const timer = setInterval(() => {
        if (!jenkins.triggers.slice(seen).some((t) => t.job === job)) return;
        clearInterval(timer);
        rollOut(kube, namespace, featureSha, project.mainSha, hasAnsible ? 5000 : 3500);
      }, 100);
      timers.push(timer);
    };
    const steps: DemoStep[] = [
      {
        explain: 'iac up dev — push develop, build it on Jenkins, run the Ansible playbook, wait for every workload',
        args: ['up', 'dev', ...skip],
        before: () => rolloutAfterTrigger('shop/deploy-dev', 'shop-dev'),
      },
      { explain: 'iac status — what runs where: develop has work that main (prod) does not have yet', args: ['status'] },
      {
        explain: 'iac promote develop main — fast-forward main to the tested commit, push it, deploy prod',
        args: ['promote', 'develop', 'main', '--yes', ...skip],
        before: () => rolloutAfterTrigger('shop/deploy-prod', 'shop-prod'),
      },
      { explain: 'iac status — prod now runs the promoted commit; nothing is waiting to be promoted', args: ['status'] },
    ];

    const bin = join(packageRoot(), 'bin', 'iac');
    const childEnv = {
      ...ctx.env,
      IAC_JENKINS_USER: DEMO_USER,
      IAC_JENKINS_TOKEN: DEMO_TOKEN,
      AWS_ACCESS_KEY_ID: 'AKIAIACDEMO000000000',
      AWS_SECRET_ACCESS_KEY: 'iac-demo-secret-key-not-a-real-one',
      AWS_REGION: 'eu-central-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    for (const [index, step] of steps.entries()) {
      if (ctx.signal.aborted) throw new InterruptedError();
      output.info('');
      output.info(c.cyan(`▶ ${index + 1}/${steps.length}  ${step.explain}`));
      step.before?.();
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
      output.info(`the scratch project stays in ${project.work}; the sandboxes keep running until you press Ctrl-C. In another terminal:`);
      output.info(`  cd ${project.work} && IAC_JENKINS_USER=${DEMO_USER} IAC_JENKINS_TOKEN=<any> AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x ${bin} status`);
      await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
    }
    return 0;
  } finally {
    for (const timer of timers) clearInterval(timer);
    await sandboxes?.close();
    if (!keep) rmSync(root, { recursive: true, force: true });
  }
}

async function commandExists(name: string): Promise<boolean> {
  const result = await execa('sh', ['-c', 'command -v "$1"', 'sh', name], { reject: false });
  return result.exitCode === 0;
}
