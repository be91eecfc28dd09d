import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { toolAvailable } from '../helpers/tools.js';
import { createProject } from '../helpers/project.js';
import { runIac } from '../helpers/run-cli.js';

const SECRET = 'hunter2-very-secret-value';

function ansibleProject(playbookBody: string) {
  const project = createProject({
    environments: {
      dev: {
        branch: 'develop',
        ansible: {
          playbook: 'deploy/site.yml',
          inventory: 'deploy/hosts.ini',
          extraVars: { image_tag: '${git.sha}', replicas: 3, out_file: '' },
          secretExtraVars: { db_password: '${env.IAC_TEST_DB_PASSWORD}' },
        },
      },
    },
  });
  mkdirSync(join(project.work, 'deploy'), { recursive: true });
  writeFileSync(join(project.work, 'deploy/hosts.ini'), 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n');
  writeFileSync(join(project.work, 'deploy/site.yml'), playbookBody);
  project.git('add', '.');
  project.git('commit', '-q', '-m', 'playbook');
  return project;
}

describe.runIf(toolAvailable('ansible-playbook'))('iac up --only ansible (real ansible-playbook)', () => {
  it('runs the playbook with the extra vars and the secret from the environment, and logs no secret', async () => {
    const project = ansibleProject(`- hosts: all
  gather_facts: false
  tasks:
    - name: Write what we got
      ansible.builtin.copy:
        dest: "{{ playbook_dir }}/../got.json"
        content: "{{ {'image_tag': image_tag, 'replicas': replicas, 'db_password': db_password} | to_json }}"
`);
    try {
      const sha = project.git('rev-parse', 'HEAD');
      const result = await runIac(['up', '--only', 'ansible'], { cwd: project.work, env: { IAC_TEST_DB_PASSWORD: SECRET } });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const got = JSON.parse(readFileSync(join(project.work, 'got.json'), 'utf8')) as Record<string, unknown>;
      expect(got).toEqual({ image_tag: sha, replicas: 3, db_password: SECRET });
      expect(result.stdout).toContain('✓ Write what we got  ok=1 changed=1');
      expect(result.stdout).toMatch(/ansible: done in \S+ — 1 tasks on 1 host: ok=1 changed=1/);
      expect(result.stdout).not.toContain(SECRET);
      const runs = join(project.work, '.iac', 'runs');
      const runDir = join(runs, readdirSync(runs)[0] as string);
      for (const file of readdirSync(runDir)) expect(readFileSync(join(runDir, file), 'utf8')).not.toContain(SECRET);
      expect(readFileSync(join(runDir, 'ansible.log'), 'utf8')).toContain('Write what we got');
    } finally {
      project.cleanup();
    }
  });

  it('a failing task is exit 30 with the task, host and msg', async () => {
    const project = ansibleProject(`- hosts: all
  gather_facts: false
  tasks:
    - name: Check the database is reachable
      ansible.builtin.fail:
        msg: database db.internal:5432 refused the connection
`);
    try {
      const result = await runIac(['up', '--only', 'ansible'], { cwd: project.work, env: { IAC_TEST_DB_PASSWORD: SECRET } });
      expect(result.code).toBe(30);
      expect(result.stderr).toContain('Check the database is reachable');
      expect(result.stderr).toContain('localhost');
      expect(result.stderr).toContain('database db.internal:5432 refused the connection');
    } finally {
      project.cleanup();
    }
  });

  it('a syntax error is exit 2 before anything ran: nothing pushed', async () => {
    const project = ansibleProject(`- hosts: all
  tasks:
    - name: Two modules in one task
      ansible.builtin.debug: { msg: a }
      ansible.builtin.command: echo b
`);
    try {
      const remoteBefore = project.git('ls-remote', 'origin', 'refs/heads/develop');
      const result = await runIac(['up'], { cwd: project.work, env: { IAC_TEST_DB_PASSWORD: SECRET } });
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(/site\.yml:\d+:\d+/);
      expect(project.git('ls-remote', 'origin', 'refs/heads/develop')).toBe(remoteBefore);
    } finally {
      project.cleanup();
    }
  });

  it('a missing secret variable is a preflight error (exit 3) naming the variable', async () => {
    const project = ansibleProject(`- hosts: all
  gather_facts: false
  tasks: []
`);
    try {
      const result = await runIac(['up', '--only', 'ansible'], { cwd: project.work, env: { IAC_TEST_DB_PASSWORD: undefined } });
      expect(result.code).toBe(3);
      expect(result.stderr).toContain('needs environment variable IAC_TEST_DB_PASSWORD');
    } finally {
      project.cleanup();
    }
  });
});
