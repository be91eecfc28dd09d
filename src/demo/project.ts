import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { gitText } from '../git/run.js';
import type { StoredObject } from '../sandbox/kubernetes.js';

export interface DemoProject {
  root: string;
  work: string;
  remote: string;
}

const IDENTITY = ['-c', 'user.name=iac demo', '-c', 'user.email=demo@iac.invalid', '-c', 'commit.gpgsign=false'];

/** The demo's images: what the Jenkins job builds and pushes, tagged with the full commit SHA. */
export const DEMO_REGISTRY = 'registry.example.com';

/**
 * The shop's Kubernetes objects, committed in the demo repo as an Ansible template: the playbook
 * renders it with the environment and the commit being deployed (image tag = full SHA).
 */
export const MANIFEST_TEMPLATE = `# The shop's Kubernetes objects. deploy/site.yml renders this file for one environment, with
# image_tag = the commit being deployed, and applies it; iac then watches the rollout it starts.
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop-{{ environment_name }}
  labels: { app: web }
spec:
  replicas: 3
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
        - name: app
          image: ${DEMO_REGISTRY}/shop-web:{{ image_tag }}
          ports:
            - containerPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: worker
  namespace: shop-{{ environment_name }}
  labels: { app: worker }
spec:
  replicas: 3
  selector:
    matchLabels: { app: worker }
  template:
    metadata:
      labels: { app: worker }
    spec:
      containers:
        - name: app
          image: ${DEMO_REGISTRY}/shop-worker:{{ image_tag }}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop-{{ environment_name }}
spec:
  selector: { app: web }
  ports:
    - port: 80
      targetPort: 8080
`;

/**
 * Renders the manifests, applies them — with kubectl when it is installed, else through the API
 * with Ansible's uri module (server-side apply) — so the cluster starts rolling out the commit.
 */
const PLAYBOOK = `# Deploys the shop: renders deploy/k8s/shop.yaml.j2 for this commit and applies it to the cluster.
- name: Deploy shop to {{ environment_name }}
  hosts: deployers
  gather_facts: false
  vars:
    kubeconfig: "{{ playbook_dir }}/../kubeconfig.yaml"
    kubectl: kubectl
    kubectl_found: "{{ lookup('ansible.builtin.pipe', 'command -v ' + (kubectl | quote) + ' || true') }}"
    rendered: "{{ playbook_dir }}/shop-{{ environment_name }}.yaml"
    api_paths: { Deployment: apis/apps/v1, Service: api/v1, ConfigMap: api/v1 }
    plurals: { Deployment: deployments, Service: services, ConfigMap: configmaps }
  tasks:
    - name: Render the manifests for image {{ image_tag[:7] }}
      ansible.builtin.template:
        src: k8s/shop.yaml.j2
        dest: "{{ rendered }}"
        mode: "0600"

    - name: Apply the manifests with kubectl
      ansible.builtin.command:
        argv: ["{{ kubectl }}", --kubeconfig, "{{ kubeconfig }}", --cache-dir, "{{ playbook_dir }}/.kube-cache", apply, -f, "{{ rendered }}"]
      register: applied
      changed_when: "'configured' in applied.stdout or 'created' in applied.stdout"
      when: kubectl_found != ''

    - name: Apply the manifests through the Kubernetes API (server-side apply)
      vars:
        config: "{{ lookup('ansible.builtin.file', kubeconfig) | from_yaml }}"
      ansible.builtin.uri:
        url: "{{ config.clusters[0].cluster.server }}/{{ api_paths[item.kind] }}/namespaces/{{ item.metadata.namespace }}/{{ plurals[item.kind] }}/{{ item.metadata.name }}?fieldManager=shop-deploy&force=true"
        method: PATCH
        headers:
          Authorization: "Bearer {{ config.users[0].user.token }}"
          Content-Type: application/apply-patch+yaml
        body_format: json
        body: "{{ item }}"
        validate_certs: false
        status_code: [200, 201]
      loop: "{{ lookup('ansible.builtin.file', rendered) | from_yaml_all | list }}"
      loop_control:
        label: "{{ item.kind }}/{{ item.metadata.name }}"
      no_log: true
      when: kubectl_found == ''
`;

function iacYaml(work: string, urls: { jenkins: string; ec2: string }): string {
  const env = (name: string, branch: string, extra: string): string => `  ${name}:
    branch: ${branch}
${extra}    jenkins:
      job: shop/deploy-${name}
      parameters: { ENVIRONMENT: ${name}, GIT_SHA: "\${git.sha}" }
      pollInterval: 300ms
    ansible:
      playbook: deploy/site.yml
      inventory: deploy/hosts.ini
      # iac runs the commit's playbook from the run directory: the (uncommitted) kubeconfig is named by path.
      extraVars: { environment_name: ${name}, image_tag: "\${git.sha}", kubeconfig: "${join(work, 'kubeconfig.yaml')}" }
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

/** The objects the manifests describe for one environment and commit (what the playbook's template task renders). */
export function renderManifests(environment: string, imageTag: string): StoredObject[] {
  const text = MANIFEST_TEMPLATE.replaceAll('{{ environment_name }}', environment).replaceAll('{{ image_tag }}', imageTag);
  return parseAllDocuments(text).map((document) => document.toJS() as StoredObject);
}

/** A scratch project: a bare remote, a work repo with main and develop, iac.yaml, a playbook, manifests, a kubeconfig. */
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
  await commit('deploy/k8s/shop.yaml.j2', MANIFEST_TEMPLATE, 'Add the Kubernetes manifests');
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
  writeFileSync(join(work, 'iac.yaml'), iacYaml(work, urls));
}
