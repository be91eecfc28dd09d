// Rollout-wait budget (DESIGN.md): one LIST + one WATCH per workload, re-list only after a drop or
// 410, no polling loop. N deployments roll out at once in the Kubernetes sandbox while the built
// adapter (dist/kube/watch-rollout.js) waits for all of them; the sandbox's request counter says
// what was asked. Also compares the wall time of the N parallel rollouts with one rollout alone
// (same scenario, measured in the same run): waiting is concurrent when N cost about as much as one.
// Needs `npm run build`. BENCH_ROLLOUT_WORKLOADS sets N (default 20); BENCH_ROLLOUT_LATENCY_MS adds
// latency to every sandbox answer (default 0).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const N = Number(process.env.BENCH_ROLLOUT_WORKLOADS ?? 20);
const LATENCY_MS = Number(process.env.BENCH_ROLLOUT_LATENCY_MS ?? 0);
const SOLO_RUNS = 3;
const NAMESPACE = 'bench';
const WALL_EXTRA_MS = 500;
/** Long enough that a polling loop (typically ≤ 1 s) would show up as extra requests. */
const QUIET_CHECK_MS = 1500;
const SCENARIO = { kind: 'deployment', namespace: NAMESPACE, replicas: 3, stepMs: 150, outcome: 'complete' };

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Requests of this rollout, by verb and resource: `list deployments`, `watch pods`, … */
function tally(log) {
  const counts = {};
  for (const r of log) {
    const key = `${r.verb} ${r.resource}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

export async function run() {
  const { startKubeSandbox } = await import('../../dist/sandbox/kubernetes.js');
  const { connectKube } = await import('../../dist/kube/client.js');
  const { watchRollouts } = await import('../../dist/kube/watch-rollout.js');
  const sandbox = await startKubeSandbox({ faults: { latencyMs: LATENCY_MS } });
  const dir = mkdtempSync(join(tmpdir(), 'iac-bench-rollout-'));
  try {
    const kubeconfigPath = await sandbox.kubeconfig(join(dir, 'kubeconfig.yaml'), { namespace: NAMESPACE });
    // Connected once, outside the timings: the client library's import is the start-up benchmark's business.
    const client = await connectKube({ kubeconfigPath, namespace: NAMESPACE });
    const rollout = async (names) => {
      sandbox.setScenario(names.map((name) => ({ ...SCENARIO, name })));
      const reconnects = [];
      const start = performance.now();
      const outcomes = await watchRollouts({
        client,
        namespace: NAMESPACE,
        workloads: names.map((name) => `deployment/${name}`),
        timeoutMs: 60_000,
        onEvent: (event) => event.type === 'reconnect' && reconnects.push(event.reason),
      });
      return { ms: performance.now() - start, outcomes, reconnects };
    };

    // N at once: every request they make.
    sandbox.requests.reset();
    const parallel = await rollout(Array.from({ length: N }, (_, i) => `web-${String(i).padStart(2, '0')}`));
    const counts = tally(sandbox.requests.log);
    await sleep(QUIET_CHECK_MS);
    const afterwards = sandbox.requests.log.length - Object.values(counts).reduce((a, b) => a + b, 0);

    // One alone, a few times.
    const solo = [];
    for (let i = 0; i < SOLO_RUNS; i++) solo.push((await rollout([`solo-${i}`])).ms);
    const single = median(solo);

    const perWorkload = (key) => (counts[key] ?? 0) / N;
    const listWatchExact = counts['list deployments'] === N && counts['watch deployments'] === N;
    const podsAtMostOnce = (counts['list pods'] ?? 0) <= 1 && (counts['watch pods'] ?? 0) <= 1;
    const breakdown = Object.entries(counts).map(([key, n]) => `${key} ${(n / N).toFixed(2)}`).join(', ');
    process.stderr.write(`  rollout: ${N} workloads, requests per workload: ${breakdown}; after the rollouts ended: ${afterwards}; reconnects: ${parallel.reconnects.length}\n`);
    const slowestInside = Math.max(...parallel.outcomes.map((o) => o.durationMs));
    process.stderr.write(`  rollout: ${N} in parallel ${parallel.ms.toFixed(0)} ms (slowest workload ${slowestInside} ms); one alone ${solo.map((ms) => ms.toFixed(0)).join(' / ')} ms\n`);
    // Diagnostics (ReplicaSet / Event lookups when a pod goes bad) are asked on a change, not in a loop.
    const streams = ['deployments', 'pods'].reduce((n, r) => n + (counts[`list ${r}`] ?? 0) + (counts[`watch ${r}`] ?? 0), 0);
    return [
      {
        benchmark: `rollout: no polling: 1 LIST + 1 WATCH of each workload object (${N} deployments)`,
        value: `list ${perWorkload('list deployments')}, watch ${perWorkload('watch deployments')} per workload; ${afterwards} requests after the end; ${parallel.reconnects.length} reconnects`,
        ratio: ((counts['list deployments'] ?? 0) + (counts['watch deployments'] ?? 0)) / (2 * N),
        budget: 1,
        ok: listWatchExact && podsAtMostOnce && afterwards === 0 && parallel.reconnects.length === 0,
      },
      {
        // DESIGN.md read strictly: the pod stream for diagnostics counts too; it is one per namespace.
        benchmark: 'rollout: every LIST + WATCH (objects, and the shared pod stream) / (2 per workload + 2)',
        value: `${streams} streams for ${N} workloads (pods: list ${counts['list pods'] ?? 0}, watch ${counts['watch pods'] ?? 0})`,
        ratio: streams / (2 * N + 2),
        budget: 1,
        ok: streams <= 2 * N + 2,
      },
      {
        benchmark: `rollout: ${N} in parallel / (one alone + 0.5 s)`,
        value: `${parallel.ms.toFixed(0)} ms (one alone: ${single.toFixed(0)} ms; ratio to one ${(parallel.ms / single).toFixed(2)})`,
        ratio: parallel.ms / (single + WALL_EXTRA_MS),
        budget: 1,
        ok: parallel.ms <= single + WALL_EXTRA_MS,
      },
    ];
  } finally {
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = await run();
  console.table(rows.map((r) => ({ ...r, ratio: Number(r.ratio.toFixed(3)) })));
  process.exit(rows.every((r) => r.ok) ? 0 : 1);
}
