// `iac up` against the shell script a user would write instead (issue 15, DESIGN.md budgets):
//   git push; curl the trigger; poll the queue item and the build every second; ansible-playbook;
//   kubectl rollout status
// on the same local stand-ins (Jenkins sandbox: quiet period 1 s, builds of 2, 2.25, 2.5 and 2.75 s in turn —
// a build that always ends on a whole second would flatter the 1 s poller; one-task playbook that applies
// the commit's image; Kubernetes sandbox: one Deployment). Runs alternate (iac, script, iac, …); each pushes
// a new commit. Prints both medians, the ratio (budget ≤ 0.90), start → Jenkins trigger of iac (budget
// ≤ 0.6 s with the syntax-check cache warm, ≤ 1.0 s cold) and the per-phase timeline of both, so a regression
// shows where; and on a terminal (under script(1)), spawn → the header's first byte (budget < 150 ms).
// The script triggers with ?delay=0sec like iac does: the comparison is of the tools, not of the quiet period.
// Needs `npm run build`, git, curl, ansible-playbook and kubectl. BENCH_UP_RUNS sets the runs per side (default 5).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

const BIN = fileURLToPath(new URL('../../bin/iac', import.meta.url));
const RUNS = Number(process.env.BENCH_UP_RUNS ?? 5);
const USER = 'bench';
const TOKEN = 'bench0up0token00123456789abcdef0';
const BUDGET = 0.9;
const TRIGGER_BUDGET_MS = 600;
const COLD_TRIGGER_BUDGET_MS = 1000;
const COLD_RUNS = 5;
const FIRST_OUTPUT_BUDGET_MS = 150;
const TTY_RUNS = 5;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const GIT_ENV = { ...process.env, GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'bench@example.test', GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'bench@example.test' };

const SCRIPT = `#!/bin/bash
# What a user writes instead of iac: push, trigger, poll every second, playbook, rollout status.
set -euo pipefail
mark() { echo "$1 $(date +%s.%N)"; }
auth="$JENKINS_USER:$JENKINS_TOKEN"
git push -q origin develop
sha=$(git rev-parse develop)
location=$(curl -sf -i -X POST -u "$auth" "\${JENKINS_URL}job/shop/job/deploy/buildWithParameters?delay=0sec&GIT_SHA=$sha" | tr -d '\\r' | awk 'tolower($1)=="location:" {print $2}')
mark trigger
build=""
while [ -z "$build" ]; do
  sleep 1
  build=$(curl -sf -u "$auth" "\${location}api/json" | grep -o '"executable":{[^}]*}' | grep -o '"url":"[^"]*"' | cut -d'"' -f4 || true)
done
mark started
while :; do
  sleep 1
  state=$(curl -sf -u "$auth" "\${build}api/json?tree=building,result")
  case "$state" in *'"building":false'*) break ;; esac
done
case "$state" in *'"result":"SUCCESS"'*) ;; *) echo "build failed: $state" >&2; exit 20 ;; esac
mark built
ansible-playbook -i deploy/hosts.ini deploy/site.yml -e image_tag="$sha" -e kubeconfig="$PWD/kubeconfig.yaml" > /dev/null
mark played
kubectl --kubeconfig kubeconfig.yaml rollout status deployment/web -n shop --timeout=60s > /dev/null
mark done
`;

const PLAYBOOK = `- hosts: all
  gather_facts: false
  tasks:
    - name: Apply the commit's image
      ansible.builtin.command:
        argv: [kubectl, --kubeconfig, "{{ kubeconfig }}", set, image, deployment/web, "app=registry.example.com/web:{{ image_tag }}", -n, shop]
`;

function timed(file, args, options) {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    execFile(file, args, { ...options, maxBuffer: 32 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${file} ${args.join(' ')} failed: ${stderr || error.message}`));
      else resolve({ start, end: Date.now(), stdout });
    });
  });
}

export async function run() {
  const [{ startJenkinsSandbox }, { startKubeSandbox }] = await Promise.all([import('../../dist/sandbox/jenkins.js'), import('../../dist/sandbox/kubernetes.js')]);
  const root = mkdtempSync(join(tmpdir(), 'iac-bench-up-'));
  const work = join(root, 'work');
  const remote = join(root, 'remote.git');
  const git = (...args) => execFileSync('git', args, { cwd: work, env: GIT_ENV, encoding: 'utf8' }).trim();
  execFileSync('git', ['init', '-q', '--bare', '-b', 'develop', remote]);
  execFileSync('git', ['init', '-q', '-b', 'develop', work]);
  git('remote', 'add', 'origin', remote);
  // The identity in the repository's config, as a user has it (not in GIT_COMMITTER_* variables).
  git('config', 'user.name', 'Bench');
  git('config', 'user.email', 'bench@example.test');
  const jenkins = await startJenkinsSandbox({
    users: [{ user: USER, token: TOKEN }],
    quietPeriodMs: 1000,
    // Each trigger plays the next build; both sides see the same sequence (they alternate, two per round).
    jobs: { 'shop/deploy': { parameters: ['GIT_SHA'], builds: Array.from({ length: 2 * (RUNS + 1) }, (_, i) => ({ result: 'SUCCESS', durationMs: 2000 + 250 * (Math.floor(i / 2) % 4), consoleLines: ['building the image', 'pushing it'] })) } },
  });
  const kube = await startKubeSandbox({ workloads: [{ kind: 'deployment', name: 'web', namespace: 'shop', replicas: 2, outcome: 'steady', image: 'registry.example.com/web:v0' }] });
  try {
    await kube.kubeconfig(join(work, 'kubeconfig.yaml'), { namespace: 'shop' });
    mkdirSync(join(work, 'deploy'));
    writeFileSync(join(work, 'deploy/hosts.ini'), 'localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n');
    writeFileSync(join(work, 'deploy/site.yml'), PLAYBOOK);
    writeFileSync(join(work, 'deploy.sh'), SCRIPT, { mode: 0o755 });
    writeFileSync(join(work, '.gitignore'), 'kubeconfig.yaml\n');
    writeFileSync(
      join(work, 'iac.yaml'),
      stringify({
        project: 'shop',
        jenkins: { url: jenkins.url },
        environments: {
          dev: {
            branch: 'develop',
            jenkins: { job: 'shop/deploy', parameters: { GIT_SHA: '${git.sha}' } },
            ansible: { playbook: 'deploy/site.yml', inventory: 'deploy/hosts.ini', extraVars: { image_tag: '${git.sha}', kubeconfig: join(work, 'kubeconfig.yaml') } },
            kubernetes: { kubeconfig: 'kubeconfig.yaml', namespace: 'shop', workloads: ['deployment/web'], timeout: '60s' },
          },
        },
      }),
    );
    git('add', '.');
    git('commit', '-q', '-m', 'deploy with iac or a script');
    git('push', '-q', '-u', 'origin', 'develop');

    const env = { ...process.env, CI: '1', NO_COLOR: '1', IAC_JENKINS_USER: USER, IAC_JENKINS_TOKEN: TOKEN, JENKINS_URL: jenkins.url, JENKINS_USER: USER, JENKINS_TOKEN: TOKEN };
    /** When the trigger POST reached Jenkins, seen from inside the sandbox. */
    const triggerSeen = () => {
      const before = jenkins.triggers.length;
      return new Promise((resolve) => {
        const timer = setInterval(() => {
          if (jenkins.triggers.length > before) {
            clearInterval(timer);
            resolve(Date.now());
          }
        }, 5);
      });
    };
    let round = 0;
    /** A new commit; `playbookChanged`: it edits the playbook too (a comment), so the syntax check is not cached. */
    const commit = (playbookChanged = false) => {
      writeFileSync(join(work, 'version.txt'), `${++round}\n`);
      if (playbookChanged) writeFileSync(join(work, 'deploy/site.yml'), `${PLAYBOOK}# change ${round}\n`);
      git('add', 'version.txt', 'deploy/site.yml');
      git('commit', '-q', '-m', `change ${round}`);
    };

    const sides = { iac: [], script: [] };
    const runIac = async (playbookChanged = false) => {
      commit(playbookChanged);
      const trigger = triggerSeen();
      const result = await timed(process.execPath, [BIN, 'up', 'dev'], { cwd: work, env });
      const runs = join(work, '.iac', 'runs');
      const dir = readdirSync(runs).sort().at(-1);
      const events = readFileSync(join(runs, dir, 'events.ndjson'), 'utf8').trim().split('\n').map((line) => JSON.parse(line));
      const finished = (step) => Date.parse(events.find((e) => e.type === 'step.finished' && e.step === step).time);
      return { total: result.end - result.start, trigger: (await trigger) - result.start, built: finished('jenkins') - result.start, played: finished('ansible') - result.start, done: finished('rollout') - result.start };
    };
    const runScript = async () => {
      commit();
      const trigger = triggerSeen();
      const result = await timed(join(work, 'deploy.sh'), [], { cwd: work, env });
      const marks = Object.fromEntries(result.stdout.trim().split('\n').map((line) => line.split(' ')).map(([name, at]) => [name, Math.round(Number(at) * 1000) - result.start]));
      return { total: result.end - result.start, trigger: (await trigger) - result.start, built: marks.built, played: marks.played, done: marks.done };
    };
    // Warm-up (file caches, the syntax-check cache, kubectl's discovery cache), then alternate.
    await runIac();
    await runScript();
    for (let i = 0; i < RUNS; i++) {
      sides.iac.push(await runIac());
      sides.script.push(await runScript());
    }
    // Cold: each commit also edits the playbook, so its syntax check is not in the cache (the usual cold run).
    const cold = [];
    for (let i = 0; i < COLD_RUNS; i++) cold.push((await runIac(true)).trigger);
    // Time to first useful output on a terminal: iac under `script` (a pseudo-terminal, live list on),
    // from the spawn to the first byte of its header naming the run.
    const ttyEnv = { ...env, TERM: 'xterm-256color' };
    delete ttyEnv.CI;
    delete ttyEnv.NO_COLOR;
    const firstOutput = () =>
      new Promise((resolve, reject) => {
        commit();
        const start = performance.now();
        const child = spawn('script', ['-qfec', `'${process.execPath}' '${BIN}' up dev`, '/dev/null'], { cwd: work, env: ttyEnv, stdio: ['ignore', 'pipe', 'pipe'] });
        let seen = '';
        let first;
        child.stdout.on('data', (chunk) => {
          seen += chunk;
          if (first === undefined && seen.includes('iac up dev')) first = performance.now() - start;
        });
        child.on('exit', (code) => (code === 0 && first !== undefined ? resolve(first) : reject(new Error(`iac up under script: exit ${code}: ${seen.slice(-500)}`))));
      });
    // The floor on this machine: node itself under script(1), doing nothing (alternating with iac).
    const nodeUnderScript = () =>
      new Promise((resolve, reject) => {
        const start = performance.now();
        const child = spawn('script', ['-qfec', `'${process.execPath}' -e 0`, '/dev/null'], { cwd: work, env: ttyEnv, stdio: 'ignore' });
        child.on('exit', (code) => (code === 0 ? resolve(performance.now() - start) : reject(new Error(`node under script: exit ${code}`))));
      });
    const ttyFirst = [];
    const ttyNode = [];
    for (let i = 0; i < TTY_RUNS; i++) {
      ttyFirst.push(await firstOutput());
      ttyNode.push(await nodeUnderScript());
    }
    const m = (side, key) => median(sides[side].map((r) => r[key]));
    const timeline = (side) =>
      `start→trigger ${m(side, 'trigger')} ms, →build end noticed ${m(side, 'built')} ms, →playbook done ${m(side, 'played')} ms, →rolled out ${m(side, 'done')} ms, exit ${m(side, 'total')} ms`;
    process.stderr.write(`bench: up vs script, medians of ${RUNS}\n  iac:    ${timeline('iac')}\n  script: ${timeline('script')}\n`);
    const ratio = m('iac', 'total') / m('script', 'total');
    return [
      {
        benchmark: 'iac up vs a hand-written script (push, curl + 1 s polls, ansible-playbook, kubectl rollout status)',
        value: `${m('iac', 'total')} ms vs ${m('script', 'total')} ms (median of ${RUNS}, alternating)`,
        ratio,
        budget: BUDGET,
        ok: ratio <= BUDGET,
      },
      {
        benchmark: 'iac up: start → Jenkins trigger (syntax-check cache warm)',
        value: `${m('iac', 'trigger')} ms (the script: ${m('script', 'trigger')} ms)`,
        ratio: m('iac', 'trigger') / TRIGGER_BUDGET_MS,
        budget: 1,
        ok: m('iac', 'trigger') <= TRIGGER_BUDGET_MS,
      },
      {
        benchmark: 'iac up on a terminal: spawn → first useful output (the header)',
        value: `${median(ttyFirst).toFixed(0)} ms (median of ${TTY_RUNS}, under script(1); node -e 0 there: ${median(ttyNode).toFixed(0)} ms)`,
        ratio: median(ttyFirst) / FIRST_OUTPUT_BUDGET_MS,
        budget: 1,
        ok: median(ttyFirst) <= FIRST_OUTPUT_BUDGET_MS,
      },
      {
        benchmark: 'iac up: start → Jenkins trigger (syntax-check cache cold: the playbook changed)',
        value: `${median(cold)} ms (median of ${COLD_RUNS})`,
        ratio: median(cold) / COLD_TRIGGER_BUDGET_MS,
        budget: 1,
        ok: median(cold) <= COLD_TRIGGER_BUDGET_MS,
      },
    ];
  } finally {
    await jenkins.close();
    await kube.close();
    rmSync(root, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await run();
  console.table(rows);
  process.exit(rows.every((r) => r.ok) ? 0 : 1);
}
