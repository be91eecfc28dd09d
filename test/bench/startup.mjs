// Start-up budget: `iac --version` and `iac --help` within 1.3 × the wall time of `node -e 0`.
// Prints medians and ratios against a baseline measured in the same run; exits 1 over budget.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/iac', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 25);
const BUDGET = 1.3;

function median(cmd) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const start = process.hrtime.bigint();
    execFileSync(process.execPath, cmd, { stdio: 'ignore' });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export function run() {
  // Interleave a warm-up so the file cache is equally warm for all three.
  median(['-e', '0']);
  median([BIN, '--version']);
  const base = median(['-e', '0']);
  const rows = [
    { name: 'iac --version', ms: median([BIN, '--version']) },
    { name: 'iac --help', ms: median([BIN, '--help']) },
  ];
  return rows.map((r) => ({
    benchmark: `startup: ${r.name}`,
    value: `${r.ms.toFixed(1)} ms (node -e 0: ${base.toFixed(1)} ms)`,
    ratio: r.ms / base,
    budget: BUDGET,
    ok: r.ms / base <= BUDGET,
  }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = run();
  console.table(rows);
  process.exit(rows.every((r) => r.ok) ? 0 : 1);
}
