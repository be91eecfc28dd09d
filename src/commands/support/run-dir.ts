import { appendFileSync, chmodSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventSink } from '../../pipeline/events.js';

/** How many runs' logs are kept: consoles can be large, and the newest runs are the ones read. */
export const KEPT_RUNS = 20;

/**
 * `.iac/runs/<timestamp>/` in the project: full logs of one run. `.iac/` ignores itself so run logs
 * never make the working tree dirty (which would block `iac promote`). Older runs beyond
 * {@link KEPT_RUNS} are removed.
 */
export function createRunDir(projectDir: string, now: Date = new Date()): string {
  const base = join(projectDir, '.iac');
  mkdirSync(base, { recursive: true });
  const ignore = join(base, '.gitignore');
  if (!existsSync(ignore)) writeFileSync(ignore, '# iac run logs; never committed\n*\n');
  const stamp = now.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  let dir = join(base, 'runs', stamp);
  for (let n = 2; existsSync(dir); n++) dir = join(base, 'runs', `${stamp}-${n}`);
  // Run logs hold what iac saw (consoles, playbook output): readable by their owner only.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  pruneRuns(join(base, 'runs'));
  return dir;
}

/** Timestamped names sort chronologically: keep the newest {@link KEPT_RUNS}. */
function pruneRuns(runs: string): void {
  const names = readdirSync(runs).filter((name) => /^\d{4}-\d\d-\d\dT/.test(name)).sort();
  for (const name of names.slice(0, Math.max(0, names.length - KEPT_RUNS))) rmSync(join(runs, name), { recursive: true, force: true });
}

/** Appends each (already redacted) event to events.ndjson in the run directory. */
export function eventLog(runDir: string): EventSink {
  const file = join(runDir, 'events.ndjson');
  return (event) => appendFileSync(file, `${JSON.stringify(event)}\n`, { mode: 0o600 });
}
