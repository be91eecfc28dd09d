import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gitText } from '../git/run.js';

export interface DemoProject {
  root: string;
  work: string;
  remote: string;
}

const IDENTITY = ['-c', 'user.name=iac demo', '-c', 'user.email=demo@iac.invalid', '-c', 'commit.gpgsign=false'];

const PLAYBOOK = `# Deploys the shop: in a real project this renders and applies the Kubernetes manifests.
- name: Deploy shop to {{ environment_name }}
  hosts: deployers
  gather_facts: false
  tasks:
    - name: Render manifests for image {{ image_tag[:7] }}
      ansible.builtin.copy:
        dest: "{{ playbook_dir }}/rendered-{{ environment_name }}.yaml"
        content: |
          image: registry.example.com/shop-web:{{ image_tag }}
        mode: "0600"
    - name: Check the release notes are there
      ansible.builtin.stat:
        path: "{{ playbook_dir }}/../README.md"
`;

function iacYaml(urls: { jenkins: string; ec2: string }): string {
  const env = (name: string, branch: string, extra: string): string => `  ${name}:
    branch: ${branch}
${extra}    jenkins:
      job: shop/deploy-${name}
      parameters: { ENVIRONMENT: ${name}, GIT_SHA: "\${git.sha}" }
      pollInterval: 300ms
    ansible:
      playbook: deploy/site.yml
      inventory: deploy/hosts.ini
      extraVars: { environment_name: ${name}, image_tag: "\${git.sha}" }
    kubernetes:
      kubeconfig: kubeconfig.yaml
      namespace: shop-${name}
      workloads: [deployment/web, deployment/worker]
      timeout: 2m
    aws:
      region: eu-central-1
      endpoint: ${urls.ec2}
      tags: { Project: shop, Environment: ${name} }
`;
  return `# The demo's iac.yaml: every URL points at the local sandbox.
project: shop
git: { remote: origin }
jenkins:
  url: ${urls.jenkins}
environments:
${env('dev', 'develop', '')}${env('prod', 'main', '    promoteFrom: dev\n    confirm: true\n')}`;
}

/** A scratch project: a bare remote, a work repo with main and develop, iac.yaml, a playbook, a kubeconfig. */
export async function createDemoProject(root: string): Promise<DemoProject & { mainSha: string; commit(file: string, text: string, message: string): Promise<string> }> {
  const work = join(root, 'shop');
  const remote = join(root, 'shop.git');
  await gitText(root, ['init', '-q', '--bare', '-b', 'main', remote]);
  await gitText(root, ['init', '-q', '-b', 'main', work]);
  await gitText(work, ['remote', 'add', 'origin', remote]);
  const commit = async (file: string, text: string, message: string): Promise<string> => {
    mkdirSync(join(work, file, '..'), { recursive: true });
    writeFileSync(join(work, file), text);
    await gitText(work, ['add', '--', file]);
    await gitText(work, [...IDENTITY, 'commit', '-q', '-m', message]);
    return gitText(work, ['rev-parse', 'HEAD']);
  };
  await commit('README.md', '# shop\n\nA tiny web shop, deployed with iac.\n', 'Initial commit');
  // iac.yaml and the kubeconfig name this run's sandbox ports, so the demo keeps them out of git.
  writeFileSync(join(work, '.gitignore'), 'iac.yaml\nkubeconfig.yaml\n');
  await commit('deploy/site.yml', PLAYBOOK, 'Add the deploy playbook');
  await commit('deploy/hosts.ini', 'deployers ansible_host=127.0.0.1 ansible_connection=local ansible_python_interpreter=auto_silent\n', 'Add the inventory');
  await gitText(work, ['add', '.gitignore']);
  await gitText(work, [...IDENTITY, 'commit', '-q', '-m', 'Ignore the local demo config']);
  const mainSha = await gitText(work, ['rev-parse', 'HEAD']);
  await gitText(work, ['push', '-q', '-u', 'origin', 'main']);
  await gitText(work, ['switch', '-q', '-c', 'develop']);
  await gitText(work, ['push', '-q', '-u', 'origin', 'develop']);
  return { root, work, remote, mainSha, commit };
}

export function writeDemoConfig(work: string, urls: { jenkins: string; ec2: string }): void {
  writeFileSync(join(work, 'iac.yaml'), iacYaml(urls));
}
