import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJenkinsSandbox, type JenkinsSandbox } from '../../src/sandbox/jenkins.js';
import { startKubeSandbox, type KubeSandbox } from '../../src/sandbox/kubernetes.js';
import { createProject } from '../helpers/project.js';
import { IAC_BIN } from '../helpers/run-cli.js';
import { toolAvailable } from '../helpers/tools.js';

const TOKEN = '7e3f0c0ffee1234567890abcdef7e3f0';
const SPINNER = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏◼]/;

function tmux(...args: string[]): string {
  return execFileSync('tmux', ['-L', 'iac-test', ...args], { encoding: 'utf8' });
}

/** The pane's screen and its whole scrollback, wrapped lines joined, as a person would scroll through it. */
function screen(session: string): string {
  return tmux('capture-pane', '-p', '-J', '-S', '-', '-t', session);
}

async function until(condition: () => boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const quote = (arg: string): string => `'${arg.replace(/'/g, `'\\''`)}'`;

/**
 * `iac up` in a real terminal (tmux), with a Jenkins console, an Ansible playbook and two workloads
 * rolling out over many redraws: afterwards the scrollback holds exactly the final frame and the summary.
 */
describe.runIf(toolAvailable('tmux') && toolAvailable('ansible-playbook'))('the live task list in a real terminal', () => {
  let jenkins: JenkinsSandbox;
  let kube: KubeSandbox | undefined;

  beforeAll(async () => {
    jenkins = await startJenkinsSandbox({
      users: [{ user: 'ci', token: TOKEN }],
      jobs: { 'shop/deploy': { parameters: ['GIT_SHA'], builds: [{ result: 'SUCCESS', durationMs: 1500, consoleLines: Array.from({ length: 30 }, (_, i) => `building step ${i}`) }] } },
    });
  });
  afterAll(async () => {
    await jenkins.close();
    try {
      tmux('kill-server');
    } catch {
      // no server left
    }
  });

  async function runInTerminal(width: number, env: Record<string, string>): Promise<{ text: string; sha: string }> {
    const project = createProject({
      jenkinsUrl: jenkins.url,
      environments: {
        dev: {
          branch: 'develop',
          jenkins: { job: 'shop/deploy', parameters: { GIT_SHA: '${git.sha}' }, pollInterval: '100ms' },
          ansible: { playbook: 'deploy/site.yml', inventory: 'deploy/hosts.ini', extraVars: { image_tag: '${git.sha}' } },
          kubernetes: { kubeconfig: 'kubeconfig.yaml', namespace: 'shop', workloads: ['deployment/web', 'statefulset/db'], timeout: '90s' },
        },
      },
    });
    mkdirSync(join(project.work, 'deploy'));
    writeFileSync(join(project.work, 'deploy/hosts.ini'), 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n');
    writeFileSync(
      join(project.work, 'deploy/site.yml'),
      ['- hosts: all', '  gather_facts: false', '  tasks:', ...['Render manifests', 'Apply manifests', 'Record the release'].map((name) => `    - name: ${name}\n      ansible.builtin.debug: { msg: "{{ image_tag }}" }`)].join('\n') + '\n',
    );
    writeFileSync(join(project.work, '.gitignore'), 'kubeconfig.yaml\n');
    project.git('add', '.');
    project.git('commit', '-q', '-m', 'deploy files');
    const sha = project.git('rev-parse', 'HEAD');
    await kube?.close();
    kube = await startKubeSandbox({
      workloads: [
        // The new image lands while iac watches (as when an agent applies it), then rolls out over many redraws.
        { kind: 'deployment', name: 'web', namespace: 'shop', replicas: 3, stepMs: 300, startDelayMs: 8000, image: `registry.example.com/web:${sha}` },
        { kind: 'statefulset', name: 'db', namespace: 'shop', replicas: 2, stepMs: 500, startDelayMs: 8000, image: `registry.example.com/db:${sha}` },
      ],
    });
    await kube.kubeconfig(join(project.work, 'kubeconfig.yaml'), { namespace: 'shop' });
    const session = `up-${width}-${Object.keys(env).join('-') || 'color'}`;
    const vars = Object.entries({ TERM: 'xterm-256color', CI: '', IAC_JENKINS_USER: 'ci', IAC_JENKINS_TOKEN: TOKEN, ...env }).map(([k, v]) => `${k}=${quote(v)}`);
    const command = `cd ${quote(project.work)} && env ${vars.join(' ')} ${quote(process.execPath)} ${quote(IAC_BIN)} up; echo "EXIT=$?"; sleep 60`;
    tmux('new-session', '-d', '-s', session, '-x', String(width), '-y', '40', command);
    try {
      await until(() => /EXIT=\d+/.test(screen(session)), 'iac up to finish in the terminal');
      return { text: screen(session), sha };
    } finally {
      tmux('kill-session', '-t', session);
      project.cleanup();
    }
  }

  function assertCleanFrame(text: string, sha: string, width: number): void {
    expect(text).toContain('EXIT=0');
    const lines = text.split('\n');
    // Joined (-J) lines longer than the pane are lines the terminal had to wrap: none may be.
    expect(lines.filter((line) => [...line].length > width)).toEqual([]);
    const count = (pattern: RegExp): number => lines.filter((line) => pattern.test(line)).length;
    // The header says what runs and how to stop it.
    expect(count(/iac up dev · develop @ [0-9a-f]{7} · Ctrl-C stops iac/)).toBe(1);
    expect(count(/a Jenkins build goes on unless --cancel-on-interrupt/)).toBe(1);
    // Every task and subtask line of the final frame appears exactly once: no frame was left behind.
    for (const title of [/✔ Push develop to origin/, /✔ Build shop\/deploy on Jenkins/, /✔ Run deploy\/site\.yml/, /✔ Roll out 2 workloads/]) expect(count(title), String(title)).toBe(1);
    expect(count(/deployment\/web/)).toBe(1);
    expect(count(/statefulset\/db/)).toBe(1);
    expect(count(/✔ deployment\/web/)).toBe(1);
    expect(count(/✔ statefulset\/db/)).toBe(1);
    expect(lines.filter((line) => SPINNER.test(line))).toEqual([]);
    expect(count(/building step/)).toBe(0);
    // Per-step durations, then the summary after the list.
    expect(count(/\[(\d+m )?\d+(\.\d+)?s\]$/)).toBe(6);
    const listEnd = lines.findIndex((line) => /✔ statefulset\/db/.test(line));
    const summary = lines.findIndex((line) => line.startsWith(`up dev @ ${sha.slice(0, 7)}`));
    expect(summary).toBeGreaterThan(listEnd);
    expect(lines.slice(summary).some((line) => /rollout .*2 workloads rolled out/.test(line))).toBe(true);
  }

  it('120 columns, in colour: the final frame once, then the summary', async () => {
    const { text, sha } = await runInTerminal(120, {});
    assertCleanFrame(text, sha, 120);
  });

  it('60 columns with NO_COLOR: the same, no line wider than the terminal', async () => {
    const { text, sha } = await runInTerminal(60, { NO_COLOR: '1' });
    assertCleanFrame(text, sha, 60);
  });
});
