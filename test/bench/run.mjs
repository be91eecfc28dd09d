// `npm run bench`: every benchmark under test/bench, one table of ratios against the DESIGN.md budgets.
// Each benchmark module exports run() → rows { benchmark, value, ratio, budget, ok }.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const only = process.argv.slice(2);
const rows = [];
for (const file of readdirSync(dir).filter((f) => f.endsWith('.mjs') && f !== 'run.mjs').sort()) {
  const name = file.replace(/\.mjs$/, '');
  if (only.length > 0 && !only.includes(name)) continue;
  const mod = await import(new URL(file, import.meta.url).href);
  if (typeof mod.run !== 'function') continue;
  process.stderr.write(`bench: ${name}…\n`);
  rows.push(...(await mod.run()));
}
console.table(rows.map((r) => ({ ...r, ratio: Number(r.ratio.toFixed(3)) })));
const failed = rows.filter((r) => !r.ok);
if (failed.length > 0) {
  console.error(`over budget: ${failed.map((r) => r.benchmark).join(', ')}`);
  process.exit(1);
}
