// `iac demo` run BENCH_DEMO_RUNS times in a row (default 10), each with --json so every step's events
// can be read back. Each run must show what the demo claims, every time — timing included:
//  - `up dev` and `promote`: the playbook's apply started a rollout that the rollout step watched,
//    i.e. for every workload a "Waiting for deployment …" progress event before the success, and the
//    step succeeded;
//  - the first `status`: dev runs the commit up deployed (the workload's revision is its image tag,
//    which must equal the full SHA of up's run), prod still runs main's previous head;
//  - the second `status`: dev and prod both run the commit promote deployed.
// Needs `npm run build`, ansible-playbook and git (kubectl optional: without it the playbook applies
// through the API with Ansible's uri module).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const RUNS = Number(process.env.BENCH_DEMO_RUNS ?? 10);
const BIN = fileURLToPath(new URL('../../bin/iac', import.meta.url));
const WORKLOADS = ['deployment/web', 'deployment/worker'];

function runDemo() {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [BIN, 'demo', '--json'], { env: { ...process.env, NO_COLOR: '1', CI: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGINT'), 600_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: performance.now() - started });
    });
  });
}

/** The demo's NDJSON, cut at each `result`: up, status, promote, status, then the demo's own. */
function segments(stdout) {
  const events = stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line));
  const parts = [[]];
  for (const event of events) {
    parts[parts.length - 1].push(event);
    if (event.type === 'result') parts.push([]);
  }
  return parts.filter((part) => part.length > 0);
}

/** Problems with one deploy (up or promote): the rollout it started must be watched to the end. */
function checkDeploy(name, events, problems) {
  const started = events.find((e) => e.type === 'run.started');
  const result = events.find((e) => e.type === 'result');
  if (result?.exitCode !== 0) problems.push(`${name} exited ${result?.exitCode}`);
  if (!/^[0-9a-f]{40}$/.test(started?.sha ?? '')) problems.push(`${name}: no full SHA in run.started`);
  const finished = events.find((e) => e.type === 'step.finished' && e.step === 'rollout');
  if (finished?.outcome !== 'success') problems.push(`${name}: rollout step ${finished?.outcome ?? 'missing'}`);
  for (const workload of WORKLOADS) {
    // The workload's progress lines, then its end: a `step.subtask` event (README, `--json` events).
    const own = events.filter((e) => e.step === 'rollout' && e.subtask === workload && (e.type === 'step.progress' || e.type === 'step.subtask'));
    const waiting = own.findIndex((e) => e.type === 'step.progress' && e.message.startsWith('Waiting for deployment'));
    const done = own.findIndex((e) => e.type === 'step.subtask' && e.outcome === 'success' && (e.message ?? '').endsWith('successfully rolled out'));
    if (waiting < 0) problems.push(`${name}: ${workload} showed no rollout progress (${own.map((e) => e.message).join(' | ') || 'nothing'})`);
    else if (done < waiting) problems.push(`${name}: ${workload} did not complete after its progress`);
  }
  return started?.sha;
}

/** What a status screen says each environment's workloads run (their revision = image tag). */
function checkStatus(name, events, expected, problems) {
  const data = events.find((e) => e.type === 'data' && e.kind === 'status')?.data;
  const result = events.find((e) => e.type === 'result');
  if (result?.exitCode !== 0) problems.push(`${name} exited ${result?.exitCode}`);
  for (const [environment, sha] of Object.entries(expected)) {
    const env = data?.environments?.find((e) => e.name === environment);
    const workloads = env?.workloads?.value ?? [];
    for (const ref of WORKLOADS) {
      const workload = workloads.find((w) => w.ref === ref);
      if (workload?.revision !== sha || workload?.state !== 'ready' || workload?.ready !== workload?.desired) {
        problems.push(`${name}: ${environment} ${ref} runs ${workload?.revision ?? '?'} (${workload?.state ?? 'missing'}), expected ${sha}`);
      }
    }
  }
}

function check(run) {
  const problems = [];
  if (run.code !== 0) problems.push(`demo exited ${run.code}: ${run.stderr.slice(-300)}`);
  let parts;
  try {
    parts = segments(run.stdout);
  } catch (error) {
    return { deploys: [`output is not NDJSON: ${error.message}`], statuses: [] };
  }
  const [up = [], status1 = [], promote = [], status2 = []] = parts;
  const deploys = [];
  const upSha = checkDeploy('up', up, deploys);
  const promoteSha = checkDeploy('promote', promote, deploys);
  if (upSha !== promoteSha) deploys.push(`promote deployed ${promoteSha}, up ${upSha}`);
  const mainBefore = promote.find((e) => e.type === 'data' && e.kind === 'promote.preview')?.data?.toSha;
  const statuses = [];
  checkStatus('status 1', status1, { dev: upSha, prod: mainBefore }, statuses);
  checkStatus('status 2', status2, { dev: promoteSha, prod: promoteSha }, statuses);
  return { deploys: [...problems, ...deploys], statuses };
}

export async function run() {
  const results = [];
  for (let i = 0; i < RUNS; i++) {
    const outcome = await runDemo();
    const problems = check(outcome);
    results.push({ ms: outcome.ms, ...problems });
    const all = [...problems.deploys, ...problems.statuses];
    process.stderr.write(`  demo run ${i + 1}/${RUNS}: ${(outcome.ms / 1000).toFixed(1)} s, ${all.length === 0 ? 'ok' : all.join('; ')}\n`);
  }
  const badDeploys = results.filter((r) => r.deploys.length > 0).length;
  const badStatuses = results.filter((r) => r.statuses.length > 0).length;
  const times = results.map((r) => r.ms).sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)] ?? 0;
  return [
    {
      benchmark: `demo: up and promote watch the rollout their playbook started, to the deployed commit (${RUNS} runs; ratio = failing runs)`,
      value: `${RUNS - badDeploys}/${RUNS} runs ok; median demo ${(median / 1000).toFixed(1)} s`,
      ratio: badDeploys / RUNS,
      budget: 0,
      ok: badDeploys === 0,
    },
    {
      benchmark: `demo: both status screens show what up and promote deployed (${RUNS} runs; ratio = failing runs)`,
      value: `${RUNS - badStatuses}/${RUNS} runs ok`,
      ratio: badStatuses / RUNS,
      budget: 0,
      ok: badStatuses === 0,
    },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await run();
  console.table(rows);
  process.exit(rows.every((r) => r.ok) ? 0 : 1);
}
