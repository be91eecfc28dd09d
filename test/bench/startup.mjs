// Start-up budget: `iac --version` and `iac --help` within 1.3 × the wall time of `node -e 0`.
// The three commands run in turn, round after round (so a busy moment of the machine hits all three
// alike), and each one's median is compared. Exits 1 over budget. BENCH_RUNS sets the rounds (default 31).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/iac', import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 31);
const BUDGET = 1.3;

function timeOnce(args) {
  const start = process.hrtime.bigint();
  execFileSync(process.execPath, args, { stdio: 'ignore' });
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

export function run() {
  const commands = { base: ['-e', '0'], version: [BIN, '--version'], help: [BIN, '--help'] };
  const times = { base: [], version: [], help: [] };
  // A warm-up round: the file cache equally warm for all three.
  for (const args of Object.values(commands)) timeOnce(args);
  for (let i = 0; i < RUNS; i++) for (const [name, args] of Object.entries(commands)) times[name].push(timeOnce(args));
  const base = median(times.base);
  return [
    ['iac --version', median(times.version)],
    ['iac --help', median(times.help)],
  ].map(([name, ms]) => ({
    benchmark: `startup: ${name}`,
    value: `${ms.toFixed(1)} ms (node -e 0: ${base.toFixed(1)} ms, median of ${RUNS} alternating)`,
    ratio: ms / base,
    budget: BUDGET,
    ok: ms / base <= BUDGET,
  }));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = run();
  console.table(rows);
  process.exit(rows.every((r) => r.ok) ? 0 : 1);
}
