import { startEc2Sandbox, type Ec2Sandbox } from '../sandbox/ec2.js';
import { startJenkinsSandbox, type JenkinsSandbox } from '../sandbox/jenkins.js';
import { startKubeSandbox, type KubeSandbox } from '../sandbox/kubernetes.js';
import { renderManifests } from './project.js';

export const DEMO_USER = 'demo';
/** A made-up API token: iac masks it everywhere, which the demo's output shows. */
export const DEMO_TOKEN = '11e5d3m0t0k3n0000000000000000042';
export const DEMO_WORKLOADS = ['web', 'worker'] as const;
export const DEMO_ENVIRONMENTS = ['dev', 'prod'] as const;

/**
 * Pace of the sandbox cluster's controllers: a Deployment of 3 takes 8 steps, so a rollout the
 * playbook starts lasts ~7 s — long enough for iac's rollout step to watch it happen after the
 * playbook has finished, even on a busy machine.
 */
const ROLLOUT_STEP_MS = 800;

export interface DemoSandboxes {
  jenkins: JenkinsSandbox;
  kube: KubeSandbox;
  ec2: Ec2Sandbox;
  close(): Promise<void>;
}

const consoleLines = (env: string): string[] => [
  '[Pipeline] stage (Checkout)',
  `Checking out the commit iac pushed (GIT_SHA)`,
  '[Pipeline] stage (Test)',
  '+ make test',
  'ok  shop/cart     0.41s',
  'ok  shop/checkout 0.63s',
  '[Pipeline] stage (Image)',
  `+ docker build -t registry.example.com/shop-web:$GIT_SHA .`,
  `+ docker push registry.example.com/shop-web:$GIT_SHA   (${env})`,
];

/**
 * Jenkins-, Kubernetes- and EC2-compatible servers on 127.0.0.1, with the demo's jobs, cluster and
 * fleet. The cluster starts out running main's head in both environments — the demo's manifests,
 * as the playbook would have applied them for that commit; from then on only the playbook
 * changes it.
 */
export async function startDemoSandboxes(mainSha: string): Promise<DemoSandboxes> {
  const started: Array<{ close(): Promise<void> }> = [];
  try {
    const jenkins = await startJenkinsSandbox({
      users: [{ user: DEMO_USER, token: DEMO_TOKEN }],
      jobs: {
        'shop/deploy-dev': { parameters: ['ENVIRONMENT', 'GIT_SHA'], builds: [{ result: 'SUCCESS', queueDelayMs: 600, durationMs: 2500, consoleLines: consoleLines('dev') }] },
        'shop/deploy-prod': {
          parameters: ['ENVIRONMENT', 'GIT_SHA'],
          builds: [{ result: 'SUCCESS', queueDelayMs: 600, durationMs: 2500, consoleLines: consoleLines('prod') }],
          history: [{ result: 'SUCCESS', revision: mainSha, ageMs: 26 * 3_600_000 }],
        },
      },
    });
    started.push(jenkins);
    const kube = await startKubeSandbox({
      rollout: { stepMs: ROLLOUT_STEP_MS, observeDelayMs: ROLLOUT_STEP_MS },
      objects: DEMO_ENVIRONMENTS.flatMap((env) => renderManifests(env, mainSha)),
    });
    started.push(kube);
    // No zones here: the EC2 sandbox places them in the region iac.yaml asks for (eu-central-1).
    const ec2 = await startEc2Sandbox({
      instances: [
        { id: 'i-0d3v0000000000001', tags: { Name: 'shop-dev-1', Environment: 'dev', Project: 'shop' }, privateIp: '10.0.1.11' },
        { id: 'i-0pr0d000000000001', tags: { Name: 'shop-prod-1', Environment: 'prod', Project: 'shop' }, privateIp: '10.0.2.11' },
        { id: 'i-0pr0d000000000002', tags: { Name: 'shop-prod-2', Environment: 'prod', Project: 'shop' }, privateIp: '10.0.2.12' },
        { id: 'i-0pr0d000000000003', state: 'stopped', tags: { Name: 'shop-prod-3', Environment: 'prod', Project: 'shop' }, privateIp: '10.0.2.13' },
      ],
    });
    started.push(ec2);
    return { jenkins, kube, ec2, close: () => closeAll(started) };
  } catch (error) {
    await closeAll(started);
    throw error;
  }
}

async function closeAll(servers: Array<{ close(): Promise<void> }>): Promise<void> {
  await Promise.allSettled(servers.map((s) => s.close()));
}
