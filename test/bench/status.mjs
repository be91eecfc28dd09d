// `iac status` budget (DESIGN.md, issue 15): with every system answering in 200 ms, status finishes
// within 0.25 s of the slowest single system — the sources are asked concurrently, not one after
// another, and reading a plain kubeconfig does not load @kubernetes/client-node (~0.5 s of CPU).
// The Jenkins, Kubernetes and EC2 sandboxes run in this process with added latency on every request;
// a temp project (real git work repo + bare remote) has two environments using all of them.
// In the same run the same command is timed with configs naming one system only (git is always
// there: it is the fourth system, local), which gives the slowest single system and a sequential
// baseline: git-only + Σ (single system − git-only). A third row: status over 300 workloads in 3
// namespaces (another Kubernetes sandbox, no added latency) answers in < 1 s with one LIST per kind
// per namespace (the workloads cells' own time: process start-up is the startup benchmark's).
// Needs `npm run build` (imports ../../dist).
// BENCH_STATUS_RUNS sets the runs per config (median); BENCH_STATUS_LATENCY_MS the added latency;
// BENCH_STATUS_NODE_OPTIONS passes node flags to the status processes (e.g. --cpu-prof).
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

const BIN = fileURLToPath(new URL('../../bin/iac', import.meta.url));
const RUNS = Number(process.env.BENCH_STATUS_RUNS ?? 5);
const LATENCY_MS = Number(process.env.BENCH_STATUS_LATENCY_MS ?? 200);
const BUDGET_EXTRA_MS = 250;
const TOKEN = 'bench0status0token0123456789abcd';
const ENVIRONMENTS = { dev: 'develop', prod: 'main' };
const SYSTEMS = ['jenkins', 'kubernetes', 'ec2'];
const CHILD_FLAGS = (process.env.BENCH_STATUS_NODE_OPTIONS ?? '').split(' ').filter(Boolean);

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Bench',
  GIT_AUTHOR_EMAIL: 'bench@example.test',
  GIT_COMMITTER_NAME: 'Bench',
  GIT_COMMITTER_EMAIL: 'bench@example.test',
  GIT_CONFIG_NOSYSTEM: '1',
};

/** A work repo with main and develop pushed to a bare remote, like test/helpers/git-repos.ts. */
function createRepos() {
  const root = mkdtempSync(join(tmpdir(), 'iac-bench-status-'));
  const work = join(root, 'work');
  const remote = join(root, 'remote.git');
  const git = (...args) => execFileSync('git', args, { cwd: work, env: GIT_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  execFileSync('git', ['init', '-q', '--bare', '-b', 'main', remote], { env: GIT_ENV });
  execFileSync('git', ['init', '-q', '-b', 'main', work], { env: GIT_ENV });
  git('config', 'commit.gpgsign', 'false');
  git('remote', 'add', 'origin', remote);
  writeFileSync(join(work, 'README.md'), '# bench\n');
  writeFileSync(join(work, '.gitignore'), 'kubeconfig*.yaml\niac.*.yaml\n');
  git('add', 'README.md', '.gitignore');
  git('commit', '-q', '-m', 'initial commit');
  git('push', '-q', '-u', 'origin', 'main');
  git('checkout', '-q', '-b', 'develop');
  writeFileSync(join(work, 'feature.txt'), 'one\n');
  git('add', 'feature.txt');
  git('commit', '-q', '-m', 'feature');
  git('push', '-q', '-u', 'origin', 'develop');
  git('push', '-q', 'origin', 'develop:staging');
  git('branch', '-q', 'staging', 'origin/staging');
  return { root, work };
}

/** iac.yaml with the given systems in both environments (git is always in). */
function configText(systems, urls) {
  const environments = {};
  for (const [name, branch] of Object.entries(ENVIRONMENTS)) {
    const env = { branch, ...(name === 'prod' ? { promoteFrom: 'dev' } : {}) };
    if (systems.includes('jenkins')) env.jenkins = { job: `shop/${name}` };
    if (systems.includes('kubernetes')) {
      env.kubernetes = { kubeconfig: 'kubeconfig.yaml', namespace: name, workloads: ['deployment/web', 'deployment/api', 'statefulset/db'] };
    }
    if (systems.includes('ec2')) env.aws = { region: 'us-east-1', endpoint: urls.ec2, tags: { env: name } };
    environments[name] = env;
  }
  return stringify({ project: 'shop', git: { remote: 'origin' }, ...(systems.includes('jenkins') ? { jenkins: { url: urls.jenkins } } : {}), environments });
}

function runStatus(work, config, env) {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    execFile(process.execPath, [...CHILD_FLAGS, BIN, 'status', '--json', '--config', config], { cwd: work, env, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      const data = stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line)).find((e) => e.type === 'data')?.data;
      resolve({ ms, code, stderr, report: data });
    });
  });
}

/** Every cell of the report answered: otherwise the timing measures a failure, not the budget. */
function problems(result) {
  if (!result.report) return [`exit ${result.code}: ${result.stderr.trim().split('\n')[0] ?? ''}`];
  const out = [];
  for (const env of result.report.environments) {
    for (const key of ['git', 'promotion', 'jenkins', 'workloads', 'ec2']) {
      const cell = env[key];
      if (cell && cell.state !== 'ok') out.push(`${env.name}.${key}: ${cell.state} (${cell.reason})`);
    }
  }
  if (result.code !== 0) out.push(`exit ${result.code}`);
  return out;
}

/** Slowest cell per source kind in one report: where the time went. */
function cellTimes(report) {
  const times = {};
  for (const env of report?.environments ?? []) {
    for (const key of ['git', 'promotion', 'jenkins', 'workloads', 'ec2']) {
      if (env[key]) times[key] = Math.max(times[key] ?? 0, env[key].durationMs);
    }
  }
  return Object.entries(times).map(([k, v]) => `${k} ${v}`).join(', ');
}

/** 300 workloads in 3 namespaces (no added latency): the kinds and how many of each per namespace. */
const SCALE_NAMESPACES = { 'scale-dev': 'develop', 'scale-staging': 'staging', 'scale-prod': 'main' };
const SCALE_KINDS = [['deployment', 'web', 60], ['statefulset', 'db', 30], ['daemonset', 'agent', 10]];
const SCALE_BUDGET_MS = 1000;

function scaleWorkloads(namespace) {
  return SCALE_KINDS.flatMap(([kind, prefix, count]) =>
    Array.from({ length: count }, (_, i) => ({ kind, name: `${prefix}-${String(i).padStart(2, '0')}`, namespace, replicas: 1, outcome: 'steady' })));
}

function scaleConfigText() {
  const environments = Object.fromEntries(Object.entries(SCALE_NAMESPACES).map(([namespace, branch]) => [
    namespace,
    { branch, kubernetes: { kubeconfig: 'kubeconfig-scale.yaml', namespace, workloads: scaleWorkloads(namespace).map((w) => `${w.kind}/${w.name}`) } },
  ]));
  return stringify({ project: 'shop', git: { remote: 'origin' }, environments });
}

/** `iac status` over 300 workloads: the workloads cells' time, the process time, the LISTs asked. */
async function measureScale(work, env) {
  const { startKubeSandbox } = await import('../../dist/sandbox/kubernetes.js');
  const kube = await startKubeSandbox({ workloads: Object.keys(SCALE_NAMESPACES).flatMap(scaleWorkloads) });
  try {
    await kube.kubeconfig(join(work, 'kubeconfig-scale.yaml'));
    writeFileSync(join(work, 'iac.scale.yaml'), scaleConfigText());
    const cells = [];
    const processes = [];
    let workloads = 0;
    for (let round = 0; round <= RUNS; round++) {
      kube.requests.reset();
      const result = await runStatus(work, 'iac.scale.yaml', env);
      const wrong = problems(result);
      if (wrong.length > 0) throw new Error(`status over 300 workloads: ${wrong.join('; ')}`);
      if (round === 0) continue;
      cells.push(Math.max(...result.report.environments.map((e) => e.workloads.durationMs)));
      processes.push(result.ms);
      workloads = result.report.environments.reduce((n, e) => n + e.workloads.value.length, 0);
    }
    const lists = kube.requests.log.filter((r) => r.verb === 'list').length;
    return { cellMs: median(cells), processMs: median(processes), workloads, lists, requests: kube.requests.log.length };
  } finally {
    await kube.close();
  }
}

export async function run() {
  const { startJenkinsSandbox } = await import('../../dist/sandbox/jenkins.js');
  const { startKubeSandbox } = await import('../../dist/sandbox/kubernetes.js');
  const { startEc2Sandbox } = await import('../../dist/sandbox/ec2.js');
  const job = (revision) => ({ builds: [{ result: 'SUCCESS' }], history: [{ result: 'SUCCESS', revision, ageMs: 60_000 }] });
  const jenkins = await startJenkinsSandbox({
    users: [{ user: 'ci', token: TOKEN }],
    jobs: { 'shop/dev': job('a'.repeat(40)), 'shop/prod': job('b'.repeat(40)) },
    faults: { latencyMs: LATENCY_MS },
  });
  const kube = await startKubeSandbox({
    workloads: Object.keys(ENVIRONMENTS).flatMap((namespace) => [
      { kind: 'deployment', name: 'web', namespace, replicas: 2, outcome: 'steady' },
      { kind: 'deployment', name: 'api', namespace, replicas: 2, outcome: 'steady' },
      { kind: 'statefulset', name: 'db', namespace, replicas: 1, outcome: 'steady' },
    ]),
    faults: { latencyMs: LATENCY_MS },
  });
  const ec2 = await startEc2Sandbox({
    instances: Object.keys(ENVIRONMENTS).flatMap((env, e) =>
      [1, 2].map((i) => ({ id: `i-0${e}${i}00000000000000`, tags: { env, Name: `${env}-${i}` }, privateIp: `10.0.${e}.${i}` })),
    ),
    faults: { latencyMs: LATENCY_MS },
  });
  const repos = createRepos();
  try {
    await kube.kubeconfig(join(repos.work, 'kubeconfig.yaml'));
    const urls = { jenkins: jenkins.url, ec2: ec2.url };
    const variants = { all: SYSTEMS, git: [], ...Object.fromEntries(SYSTEMS.map((s) => [s, [s]])) };
    for (const [name, systems] of Object.entries(variants)) writeFileSync(join(repos.work, `iac.${name}.yaml`), configText(systems, urls));
    const env = {
      ...process.env,
      NO_COLOR: '1',
      CI: '1',
      IAC_JENKINS_USER: 'ci',
      IAC_JENKINS_TOKEN: TOKEN,
      AWS_ACCESS_KEY_ID: 'AKIABENCHSTATUS00000',
      AWS_SECRET_ACCESS_KEY: 'bench0secret0key0not0real0000000000000000',
      AWS_REGION: 'us-east-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    delete env.AWS_PROFILE;

    // One warm-up round (file cache, lazy SDK imports), then rounds that interleave the variants so
    // machine noise hits them all alike.
    const times = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
    const last = {};
    for (let round = 0; round <= RUNS; round++) {
      for (const name of Object.keys(variants)) {
        const result = await runStatus(repos.work, `iac.${name}.yaml`, env);
        const wrong = problems(result);
        if (wrong.length > 0) throw new Error(`status with ${name}: ${wrong.join('; ')}`);
        if (round > 0) times[name].push(result.ms);
        last[name] = result.report;
      }
    }
    const ms = Object.fromEntries(Object.entries(times).map(([name, list]) => [name, median(list)]));
    const slowest = SYSTEMS.reduce((a, b) => (ms[a] >= ms[b] ? a : b));
    const sequential = ms.git + SYSTEMS.reduce((sum, s) => sum + (ms[s] - ms.git), 0);
    for (const name of Object.keys(variants)) {
      process.stderr.write(`  status ${name.padEnd(10)} ${ms[name].toFixed(0).padStart(5)} ms   cells (ms): ${cellTimes(last[name])}\n`);
    }
    const kubeLists = kube.requests.log.filter((r) => r.verb === 'list').length;
    process.stderr.write(`  requests: jenkins ${jenkins.requests.length}, kubernetes ${kube.requests.log.length} (${kubeLists} LIST), ec2 ${ec2.requests.length} over ${RUNS + 1} rounds\n`);
    const allowed = ms[slowest] + BUDGET_EXTRA_MS;
    const scale = await measureScale(repos.work, env);
    const expectedLists = Object.keys(SCALE_NAMESPACES).length * SCALE_KINDS.length;
    // Besides the LISTs: one GET per namespace of the environment's deploy lease (who deploys now).
    const expectedRequests = expectedLists + Object.keys(SCALE_NAMESPACES).length;
    return [
      {
        benchmark: `status: all systems (${LATENCY_MS} ms each) / (slowest single + ${BUDGET_EXTRA_MS / 1000} s)`,
        value: `${ms.all.toFixed(0)} ms (slowest: ${slowest} ${ms[slowest].toFixed(0)} ms; git only ${ms.git.toFixed(0)} ms)`,
        ratio: ms.all / allowed,
        budget: 1,
        ok: ms.all <= allowed,
      },
      {
        benchmark: 'status: all systems / sequential baseline (information)',
        value: `${ms.all.toFixed(0)} ms / ${sequential.toFixed(0)} ms (${SYSTEMS.map((s) => `${s} ${ms[s].toFixed(0)}`).join(', ')})`,
        ratio: ms.all / sequential,
        budget: 1,
        ok: ms.all <= sequential,
      },
      {
        benchmark: `status: ${scale.workloads} workloads in 3 namespaces, workloads cells / 1 s`,
        value: `${scale.cellMs} ms (whole process ${scale.processMs.toFixed(0)} ms); ${scale.lists} LISTs (budget ${expectedLists}) of ${scale.requests} requests (budget ${expectedRequests}: the LISTs and a lease GET per namespace)`,
        ratio: scale.cellMs / SCALE_BUDGET_MS,
        budget: 1,
        ok: scale.cellMs < SCALE_BUDGET_MS && scale.lists === expectedLists && scale.requests === expectedRequests && scale.workloads === 300,
      },
    ];
  } finally {
    rmSync(repos.root, { recursive: true, force: true });
    await Promise.all([jenkins.close(), kube.close(), ec2.close()]);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await run();
  console.table(rows.map((r) => ({ ...r, ratio: Number(r.ratio.toFixed(3)) })));
  process.exit(rows.every((r) => r.ok) ? 0 : 1);
}
