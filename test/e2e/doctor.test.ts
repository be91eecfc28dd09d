import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../src/doctor/types.js';
import { startEc2Sandbox, type Ec2Sandbox } from '../../src/sandbox/ec2.js';
import { startJenkinsSandbox, type JenkinsSandbox } from '../../src/sandbox/jenkins.js';
import { startKubeSandbox, type KubeSandbox } from '../../src/sandbox/kubernetes.js';
import { TAGGED_INSTANCES } from '../fixtures/ec2/scenario-tagged.js';
import { createProject } from '../helpers/project.js';
import { parseNdjson, runIac, type CliResult } from '../helpers/run-cli.js';
import { toolAvailable } from '../helpers/tools.js';

const TOKEN = 'doctor0token0abcdef0123456789abc';
const WRONG_TOKEN = 'wrong0token0fedcba9876543210zyx';
const SECRET = 'doctor-db-password-value';
const AWS_ENV = {
  AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
  AWS_SECRET_ACCESS_KEY: 'test-secret-key',
  AWS_CONFIG_FILE: '/nonexistent/aws-config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
  AWS_EC2_METADATA_DISABLED: 'true',
};
const ENV = { IAC_JENKINS_USER: 'ci', IAC_JENKINS_TOKEN: TOKEN, IAC_TEST_DB_PASSWORD: SECRET, ...AWS_ENV };

const OK_PLAYBOOK = `- hosts: all
  gather_facts: false
  tasks:
    - name: Say hello
      ansible.builtin.debug:
        msg: hello
`;

interface Sections {
  jenkinsUrl?: string;
  ansible?: { playbook: string };
  workloads?: string[];
  ec2Url?: string;
}

/** Lines of the check list: the ones that start with a mark. */
function checkLines(stdout: string): string[] {
  return stdout.split('\n').filter((line) => /^ {2}[✓✗!○] /.test(line));
}

function dataOf(result: CliResult): { checks: CheckResult[]; summary: Record<string, number> } {
  const event = parseNdjson(result.stdout).find((e) => e.type === 'data' && e.kind === 'doctor') as { data: { checks: CheckResult[]; summary: Record<string, number> } };
  return event.data;
}

describe('iac doctor against the sandboxes', () => {
  let jenkins: JenkinsSandbox;
  let kube: KubeSandbox;
  let ec2: Ec2Sandbox;

  beforeAll(async () => {
    jenkins = await startJenkinsSandbox({
      users: [{ user: 'ci', token: TOKEN }],
      jobs: { 'shop/dev': { parameters: ['GIT_SHA'], builds: [{ result: 'SUCCESS' }] } },
    });
    kube = await startKubeSandbox({ workloads: [{ kind: 'deployment', name: 'web', namespace: 'dev', replicas: 2, outcome: 'steady' }] });
    ec2 = await startEc2Sandbox({ instances: TAGGED_INSTANCES });
  });
  afterAll(async () => {
    await jenkins.close();
    await kube.close();
    await ec2.close();
  });

  async function project(sections: Sections) {
    const dev: Record<string, unknown> = { branch: 'develop', jenkins: { job: 'shop/dev', parameters: { GIT_SHA: '${git.sha}' } } };
    dev.kubernetes = { kubeconfig: 'kubeconfig.yaml', namespace: 'dev', workloads: sections.workloads ?? ['deployment/web'] };
    if (sections.ansible) {
      dev.ansible = {
        playbook: 'deploy/site.yml',
        inventory: 'deploy/hosts.ini',
        secretExtraVars: { db_password: '${env.IAC_TEST_DB_PASSWORD}' },
      };
    }
    if (sections.ec2Url) dev.aws = { region: 'us-west-2', endpoint: sections.ec2Url, tags: { Environment: 'dev' } };
    const p = createProject({ jenkinsUrl: sections.jenkinsUrl ?? jenkins.url, environments: { dev, prod: { branch: 'main' } } });
    if (sections.ansible) {
      mkdirSync(join(p.work, 'deploy'), { recursive: true });
      writeFileSync(join(p.work, 'deploy/hosts.ini'), 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n');
      writeFileSync(join(p.work, 'deploy/site.yml'), sections.ansible.playbook);
      p.git('add', 'deploy');
      p.git('commit', '-q', '-m', 'playbook');
    }
    p.git('push', '-q', 'origin', 'develop');
    await kube.kubeconfig(join(p.work, 'kubeconfig.yaml'));
    return p;
  }

  describe.runIf(toolAvailable('ansible-playbook'))('with a real ansible-playbook', () => {
    it('everything in order: a ✓ per check, the summary, exit 0; --json lists the same checks', async () => {
      const p = await project({ ansible: { playbook: OK_PLAYBOOK }, ec2Url: ec2.url });
      try {
        const result = await runIac(['doctor'], { cwd: p.work, env: ENV });
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
        const lines = checkLines(result.stdout);
        expect(lines.every((line) => line.startsWith('  ✓ '))).toBe(true);
        for (const expected of ['git repository', 'git remote origin', 'ansible-playbook', 'git branch', 'ansible syntax', 'ansible secrets', 'jenkins auth', 'jenkins job', 'kube namespace', 'deployment/web', 'aws instances']) {
          expect(lines.some((line) => line.includes(` ${expected} `))).toBe(true);
        }
        expect(result.stdout).toMatch(/ansible-playbook\s+ansible-playbook \[core \d/);
        expect(result.stdout).toMatch(/ansible secrets\s+IAC_TEST_DB_PASSWORD set/);
        expect(result.stdout).toMatch(/jenkins credentials\s+user ci from IAC_JENKINS_USER \/ IAC_JENKINS_TOKEN/);
        expect(result.stdout).toMatch(/aws instances\s+3 instances tagged Environment=dev/);
        expect(result.stdout).toMatch(/^dev \(branch develop\)$/m);
        expect(result.stdout).toMatch(/^prod \(branch main\)$/m);
        expect(result.stdout.trimEnd().split('\n').at(-1)).toBe(`${lines.length} checks: ${lines.length} passed, 0 failed`);
        // Aligned: every message starts in the same column.
        const columns = new Set(lines.map((line) => /^ {2}. \S.*?\s{2,}(?=\S)/.exec(line)?.[0].length));
        expect(columns.size).toBe(1);
        expect(result.stdout).not.toContain(SECRET);
        expect(result.stdout).not.toContain(TOKEN);

        const json = await runIac(['doctor', '--json'], { cwd: p.work, env: ENV });
        expect(json.code).toBe(0);
        const { checks, summary } = dataOf(json);
        expect(checks).toHaveLength(lines.length);
        expect(checks.every((c) => c.ok && c.severity === 'ok')).toBe(true);
        expect(checks.find((c) => c.id === 'jenkins.job')).toMatchObject({ env: 'dev', ok: true, message: 'shop/dev exists and is buildable' });
        expect(summary).toMatchObject({ passed: lines.length, failed: 0 });
        expect(parseNdjson(json.stdout).at(-1)).toMatchObject({ type: 'result', exitCode: 0 });
      } finally {
        p.cleanup();
      }
    });

    it('an ansible syntax error is ✗ with file:line, exit 3', async () => {
      const p = await project({ ansible: { playbook: `- hosts: all\n  tasks:\n    - name: broken\n      ansible.builtin.debug:\n        msg: "unterminated\n` } });
      try {
        const result = await runIac(['doctor', 'dev'], { cwd: p.work, env: ENV });
        expect(result.code).toBe(3);
        expect(result.stdout).toMatch(/✗ ansible syntax\s+deploy\/site\.yml:\d+:\d+: /);
        expect(result.stdout).toMatch(/✓ jenkins job/);
        expect(result.stderr).toContain('ansible syntax (dev)');
      } finally {
        p.cleanup();
      }
    });

    it('a missing secret variable is ✗ naming the variable, never a value', async () => {
      const p = await project({ ansible: { playbook: OK_PLAYBOOK } });
      try {
        const result = await runIac(['doctor', 'dev'], { cwd: p.work, env: { ...ENV, IAC_TEST_DB_PASSWORD: undefined } });
        expect(result.code).toBe(3);
        expect(result.stdout).toMatch(/✗ ansible secrets\s+not set: IAC_TEST_DB_PASSWORD \(for db_password\) → fix: export IAC_TEST_DB_PASSWORD=/);
        expect(checkLines(result.stdout).filter((line) => line.startsWith('  ✗'))).toHaveLength(1);
      } finally {
        p.cleanup();
      }
    });
  });

  it('a wrong Jenkins token: ✗ jenkins auth with the IAC_JENKINS_TOKEN fix, the job not checked, exit 3, no token printed', async () => {
    const p = await project({});
    try {
      const env = { ...ENV, IAC_JENKINS_TOKEN: WRONG_TOKEN };
      const result = await runIac(['doctor', 'dev'], { cwd: p.work, env });
      expect(result.code).toBe(3);
      expect(result.stdout).toMatch(/✓ jenkins reachable/);
      expect(result.stdout).toMatch(/✗ jenkins auth\s+Jenkins at .* rejected the credentials of user ci \(401\) → fix: .*IAC_JENKINS_TOKEN/);
      expect(result.stdout).toMatch(/○ jenkins job\s+not checked: jenkins auth failed/);
      expect(result.stdout).toMatch(/✓ deployment\/web/);
      expect(result.stdout).not.toContain('prod (branch');
      expect(result.stdout).toMatch(/checks: \d+ passed, 1 failed, 1 not checked \(it needs one that failed\)$/m);
      expect(result.stderr).toContain('1 of');
      for (const text of [result.stdout, result.stderr]) {
        expect(text).not.toContain(WRONG_TOKEN);
        expect(text).not.toContain(TOKEN);
      }

      const json = await runIac(['doctor', 'dev', '--json'], { cwd: p.work, env });
      expect(json.stdout).not.toContain(WRONG_TOKEN);
      const auth = dataOf(json).checks.find((c) => c.id === 'jenkins.auth');
      expect(auth).toMatchObject({ env: 'dev', ok: false, severity: 'error' });
      expect(auth?.fix).toContain('IAC_JENKINS_TOKEN');
      expect(parseNdjson(json.stdout).at(-1)).toMatchObject({ type: 'result', exitCode: 3, error: { code: 'doctor.failed' } });
    } finally {
      p.cleanup();
    }
  });

  it('a missing workload is ✗ naming it; the others still ✓', async () => {
    const p = await project({ workloads: ['deployment/web', 'statefulset/db'] });
    try {
      const result = await runIac(['doctor', 'dev'], { cwd: p.work, env: ENV });
      expect(result.code).toBe(3);
      expect(result.stdout).toMatch(/✓ deployment\/web\s+exists in dev \(2\/2 ready\)/);
      expect(result.stdout).toMatch(/✓ kube statefulset access\s+may list and watch statefulsets in dev/);
      // The fix names the same cluster iac asked: namespace and the configured kubeconfig.
      expect(result.stdout).toMatch(/✗ statefulset\/db\s+statefulset\/db not found in namespace dev → fix: kubectl get statefulsets -n dev --kubeconfig \S+\/kubeconfig\.yaml/);
      expect(result.stdout).toMatch(/✓ jenkins job/);
    } finally {
      p.cleanup();
    }
  });

  it('Kubernetes refusing the credentials: ✗ at the namespace with the fix, the workloads not checked', async () => {
    const p = await project({});
    try {
      await kube.kubeconfig(join(p.work, 'kubeconfig.yaml'), { token: 'not-the-sandbox-token' });
      const result = await runIac(['doctor', 'dev'], { cwd: p.work, env: ENV });
      expect(result.code).toBe(3);
      expect(result.stdout).toMatch(/✓ kube context\s+iac-sandbox → https?:\/\/127\.0\.0\.1:\d+/);
      expect(result.stdout).toMatch(/✗ kube namespace\s+.*refused the credentials of context "iac-sandbox" \(401 Unauthorized\) → fix: kubectl auth whoami --kubeconfig \S+\/kubeconfig\.yaml/);
      expect(result.stdout).toMatch(/○ deployment\/web\s+not checked: kube namespace failed/);
      expect(result.stdout).not.toContain('not-the-sandbox-token');
    } finally {
      p.cleanup();
    }
  });

  it('AWS: refused credentials are ✗ with the fix; tags matching nothing are a warning (!), not a failure', async () => {
    const refusing = await startEc2Sandbox({ instances: TAGGED_INSTANCES, faults: { authFailure: true } });
    const p = createProject({
      environments: {
        dev: { branch: 'develop', aws: { region: 'us-west-2', endpoint: refusing.url, tags: { Environment: 'dev' } } },
        prod: { branch: 'main', aws: { region: 'us-west-2', endpoint: ec2.url, tags: { Environment: 'nowhere' } } },
      },
    });
    try {
      const result = await runIac(['doctor'], { cwd: p.work, env: AWS_ENV });
      expect(result.code).toBe(3);
      expect(result.stdout).toMatch(/✓ aws region\s+us-west-2 \(from iac\.yaml\)/);
      expect(result.stdout).toMatch(/✗ aws credentials\s+AWS refused the credentials \(AuthFailure\).* → fix: aws sts get-caller-identity/);
      expect(result.stdout).toMatch(/○ aws instances\s+not checked: aws credentials failed/);
      expect(result.stdout).toMatch(/✓ aws credentials\s+found \(AWS_ACCESS_KEY_ID\)/);
      expect(result.stdout).toMatch(/! aws instances\s+DescribeInstances works, but no instance is tagged Environment=nowhere → fix: /);
      expect(result.stdout).toMatch(/checks: \d+ passed, 1 with a warning, 1 failed, 1 not checked \(it needs one that failed\)$/m);
      expect(result.stdout).not.toContain('test-secret-key');
    } finally {
      p.cleanup();
      await refusing.close();
    }
  });

  it('a Jenkins that does not answer times out on its own line while every other check completes', async () => {
    const slow = await startJenkinsSandbox({ users: [{ user: 'ci', token: TOKEN }], jobs: { 'shop/dev': { builds: [{ result: 'SUCCESS' }] } }, faults: { latencyMs: 60_000 } });
    const p = await project({ jenkinsUrl: slow.url });
    try {
      const started = Date.now();
      const result = await runIac(['doctor', 'dev', '--json'], { cwd: p.work, env: { ...ENV, IAC_DOCTOR_TIMEOUT: '3s' } });
      // Generous bound: far below Jenkins' 60 s, so the hung request was abandoned, not awaited.
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(result.code).toBe(3);
      const { checks } = dataOf(result);
      expect(checks.find((c) => c.id === 'jenkins.reachable')).toMatchObject({ severity: 'error', message: 'no answer within 3.0s' });
      expect(checks.find((c) => c.id === 'jenkins.job')?.severity).toBe('skipped');
      const others = checks.filter((c) => !c.id.startsWith('jenkins.'));
      expect(others.map((c) => c.id)).toEqual(expect.arrayContaining(['git.remote', 'kube.namespace', 'kube.workload.deployment/web']));
      expect(others.every((c) => c.ok)).toBe(true);
    } finally {
      p.cleanup();
      await slow.close();
    }
  });
});
