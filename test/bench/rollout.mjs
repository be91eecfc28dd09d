// Rollout-wait budgets (DESIGN.md, issue 15, issue 12.8):
// 1. N Deployments (default 20) → ONE LIST + ONE WATCH per kind per namespace, whatever N: counted
//    as TCP connections to the API server during the wait (a counting TCP proxy in front of the
//    sandbox: each LIST and its WATCH share a keep-alive connection; the pod stream is the other)
//    and as requests at the sandbox. No polling: nothing is asked after the wait.
// 2. Wall time of iac waiting for all N (a fresh `node` process running the built adapter) versus
//    `kubectl rollout status` run on all N in parallel (N processes), same scenario, alternating,
//    median of BENCH_ROLLOUT_RUNS (default 3): ratio ≤ 1.
// 3. Memory: a DeploymentConfig whose status message is 10 MB (and a 20 MB one, refused): the
//    peak RSS of the waiting process stays under 200 MB.
// Needs `npm run build` (imports ../../dist). BENCH_ROLLOUT_WORKLOADS sets N.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const N = Number(process.env.BENCH_ROLLOUT_WORKLOADS ?? 20);
const RUNS = Number(process.env.BENCH_ROLLOUT_RUNS ?? 3);
const NAMESPACE = 'bench';
const RSS_BUDGET_MB = 200;
/** Long enough that a polling loop (typically ≤ 1 s) would show up as extra requests. */
const QUIET_CHECK_MS = 1500;
const SCENARIO = { kind: 'deployment', namespace: NAMESPACE, replicas: 3, stepMs: 150, observeDelayMs: 600, outcome: 'complete' };
const WATCH_ROLLOUT = new URL('../../dist/kube/watch-rollout.js', import.meta.url).href;

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

function spawn(file, args, env = process.env) {
  return new Promise((resolve) => {
    execFile(file, args, { env, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }));
  });
}

/** A TCP proxy that counts the connections clients open (TLS passes through untouched). */
async function countingProxy(targetUrl) {
  const target = new URL(targetUrl);
  const state = { connections: 0 };
  const server = createServer((client) => {
    state.connections++;
    const upstream = connect(Number(target.port), target.hostname);
    client.pipe(upstream).pipe(client);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { state, url: `${target.protocol}//127.0.0.1:${server.address().port}`, close: () => new Promise((resolve) => { server.close(resolve); }) };
}

/** The built adapter in a fresh process: waits for `workloads`, prints outcomes and its peak RSS. */
function iacWait(kubeconfigPath, workloads, namespace = NAMESPACE) {
  const script = `
    const { watchRollouts } = await import(${JSON.stringify(WATCH_ROLLOUT)});
    let result;
    try {
      const outcomes = await watchRollouts({ kubeconfigPath: ${JSON.stringify(kubeconfigPath)}, namespace: ${JSON.stringify(namespace)},
        workloads: ${JSON.stringify(workloads)}, timeoutMs: 60000, onEvent: () => {} });
      result = { ok: true, states: outcomes.map((o) => o.verdict?.state), longest: Math.max(...outcomes.map((o) => o.message.length)) };
    } catch (error) {
      result = { ok: false, exitCode: error.exitCode, message: String(error.message).slice(0, 300) };
    }
    console.log(JSON.stringify({ ...result, maxRssMb: process.resourceUsage().maxRSS / 1024 }));`;
  return spawn(process.execPath, ['--input-type=module', '-e', script]).then((r) => {
    const line = r.stdout.trim().split('\n').at(-1);
    if (!line) throw new Error(`iac wait printed nothing (exit ${r.code}): ${r.stderr.slice(0, 500)}`);
    return JSON.parse(line);
  });
}

async function timed(action) {
  const start = performance.now();
  const value = await action();
  return { ms: performance.now() - start, value };
}

export async function run() {
  const { startKubeSandbox } = await import('../../dist/sandbox/kubernetes.js');
  const sandbox = await startKubeSandbox({ openshift: true });
  const proxy = await countingProxy(sandbox.url);
  const dir = mkdtempSync(join(tmpdir(), 'iac-bench-rollout-'));
  try {
    const direct = await sandbox.kubeconfig(join(dir, 'kubeconfig.yaml'), { namespace: NAMESPACE });
    // The same kubeconfig through the counting proxy.
    const { readFileSync, writeFileSync } = await import('node:fs');
    const proxied = join(dir, 'kubeconfig-proxied.yaml');
    writeFileSync(proxied, readFileSync(direct, 'utf8').replace(sandbox.url, proxy.url), { mode: 0o600 });
    const kubectlEnv = { PATH: process.env.PATH ?? '', HOME: dir, KUBECONFIG: '' };
    const kubectl = (args) => spawn('kubectl', ['--kubeconfig', direct, '--cache-dir', join(dir, 'kube-cache'), ...args], kubectlEnv);
    // Warm kubectl's discovery cache once: the comparison is the waiting, not the first discovery.
    await kubectl(['get', 'deployments', '-n', NAMESPACE]);

    let round = 0;
    const scenario = () => {
      const names = Array.from({ length: N }, (_, i) => `r${round}-web-${String(i).padStart(2, '0')}`);
      round++;
      sandbox.setScenario(names.map((name) => ({ ...SCENARIO, name })));
      return names;
    };

    // 1. Connections and requests during one wait of N.
    const names = scenario();
    sandbox.requests.reset();
    const before = proxy.state.connections;
    const counted = await iacWait(proxied, names.map((n) => `deployment/${n}`));
    if (!counted.ok || counted.states.some((s) => s !== 'ready')) throw new Error(`rollout of ${N} failed: ${JSON.stringify(counted)}`);
    const connections = proxy.state.connections - before;
    const requests = sandbox.requests.log.filter((r) => r.verb !== 'discovery');
    const tally = {};
    for (const r of requests) tally[`${r.verb} ${r.resource}`] = (tally[`${r.verb} ${r.resource}`] ?? 0) + 1;
    const afterCount = sandbox.requests.log.length;
    await sleep(QUIET_CHECK_MS);
    const afterwards = sandbox.requests.log.length - afterCount;
    process.stderr.write(`  rollout: ${N} deployments: ${connections} connections; requests ${Object.entries(tally).map(([k, v]) => `${k} ${v}`).join(', ')}; after the wait: ${afterwards}\n`);

    // 2. Wall time, alternating: iac (one process) vs kubectl rollout status × N (N processes).
    const iacMs = [];
    const kubectlMs = [];
    for (let i = 0; i < RUNS; i++) {
      const a = scenario();
      const iac = await timed(() => iacWait(direct, a.map((n) => `deployment/${n}`)));
      if (!iac.value.ok) throw new Error(`iac wait failed: ${JSON.stringify(iac.value)}`);
      iacMs.push(iac.ms);
      const b = scenario();
      const cli = await timed(() => Promise.all(b.map((n) => kubectl(['rollout', 'status', `deployment/${n}`, '-n', NAMESPACE, '--timeout=60s']))));
      if (cli.value.some((r) => r.code !== 0)) throw new Error(`kubectl rollout status failed: ${cli.value.find((r) => r.code !== 0).stderr}`);
      kubectlMs.push(cli.ms);
    }
    const iacMedian = median(iacMs);
    const kubectlMedian = median(kubectlMs);
    process.stderr.write(`  rollout: iac ${iacMs.map((ms) => ms.toFixed(0)).join(' / ')} ms; kubectl ×${N} ${kubectlMs.map((ms) => ms.toFixed(0)).join(' / ')} ms\n`);

    // 3. Memory with a 10 MB status message (cut), and a 20 MB one (refused).
    // Each in its own namespace: one LIST per namespace must not carry the others. The sandbox's
    // controllers would rewrite these statuses (and their messages): they are held for this part.
    sandbox.setRolloutTiming({ stepMs: 3_600_000, observeDelayMs: 3_600_000 });
    const dc = (name, message) => ({
      metadata: { name, namespace: `mem-${name}`, labels: { app: name } },
      spec: { replicas: 1, selector: { app: name }, triggers: [{ type: 'ConfigChange' }], template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'registry.example.com/app:v1' }] } } },
      status: { observedGeneration: 1, latestVersion: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1, conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicationControllerAvailable', message }] },
    });
    sandbox.store.put('deploymentconfigs', dc('small', 'replication controller "small-1" successfully rolled out'));
    sandbox.store.put('deploymentconfigs', dc('huge', `replication controller "huge-1" successfully rolled out ${'A'.repeat(10 * 1024 * 1024)}`));
    sandbox.store.put('deploymentconfigs', dc('refused', 'B'.repeat(20 * 1024 * 1024)));
    const small = await iacWait(direct, ['dc/small'], 'mem-small');
    const huge = await iacWait(direct, ['dc/huge'], 'mem-huge');
    const refused = await iacWait(direct, ['dc/refused'], 'mem-refused');
    process.stderr.write(`  rollout: peak RSS ${small.maxRssMb.toFixed(0)} MB (small message), ${huge.maxRssMb.toFixed(0)} MB (10 MB message, shown ${huge.longest} chars), ${refused.maxRssMb.toFixed(0)} MB (20 MB: exit ${refused.exitCode}: ${refused.message})\n`);
    const peak = Math.max(huge.maxRssMb, refused.maxRssMb);

    const streams = (tally['list deployments'] ?? 0) + (tally['watch deployments'] ?? 0);
    return [
      {
        benchmark: `rollout: ${N} deployments, connections to the API server during the wait / 2`,
        value: `${connections} connections; deployments: list ${tally['list deployments'] ?? 0}, watch ${tally['watch deployments'] ?? 0}; pods: list ${tally['list pods'] ?? 0}, watch ${tally['watch pods'] ?? 0}; ${afterwards} requests after the wait`,
        ratio: connections / 2,
        budget: 1,
        ok: connections <= 2 && streams === 2 && (tally['list pods'] ?? 0) <= 1 && (tally['watch pods'] ?? 0) <= 1 && afterwards === 0,
      },
      {
        benchmark: `rollout: ${N} deployments, iac / kubectl rollout status ×${N} in parallel (wall time)`,
        value: `${iacMedian.toFixed(0)} ms vs ${kubectlMedian.toFixed(0)} ms (median of ${RUNS}, alternating)`,
        ratio: iacMedian / kubectlMedian,
        budget: 1,
        ok: iacMedian <= kubectlMedian,
      },
      {
        benchmark: `rollout: peak RSS with a 10 MB status message / ${RSS_BUDGET_MB} MB`,
        value: `${huge.maxRssMb.toFixed(0)} MB (small message: ${small.maxRssMb.toFixed(0)} MB; 20 MB body refused at ${refused.maxRssMb.toFixed(0)} MB, exit ${refused.exitCode})`,
        ratio: peak / RSS_BUDGET_MB,
        budget: 1,
        ok: peak < RSS_BUDGET_MB && huge.ok && huge.longest < 1200 && refused.exitCode === 4,
      },
    ];
  } finally {
    await proxy.close();
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await run();
  console.table(rows.map((r) => ({ ...r, ratio: Number(r.ratio.toFixed(3)) })));
  process.exit(rows.every((r) => r.ok) ? 0 : 1);
}
