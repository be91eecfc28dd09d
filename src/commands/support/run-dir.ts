import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventSink } from '../../pipeline/events.js';

/**
 * `.iac/runs/<timestamp>/` in the project: full logs of one run. `.iac/` ignores itself so run logs
 * never make the working tree dirty (which would block `iac promote`).
 */
export function createRunDir(projectDir: string, now: Date = new Date()): string {
  const base = join(projectDir, '.iac');
  mkdirSync(base, { recursive: true });
  const ignore = join(base, '.gitignore');
  if (!existsSync(ignore)) writeFileSync(ignore, '# iac run logs; never committed\n*\n');
  const stamp = now.toISOString().replace(/:/g, '-').replace(/\.\d+Z$/, 'Z');
  let dir = join(base, 'runs', stamp);
  for (let n = 2; existsSync(dir); n++) dir = join(base, 'runs', `${stamp}-${n}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Appends each (already redacted) event to events.ndjson in the run directory. */
export function eventLog(runDir: string): EventSink {
  const file = join(runDir, 'events.ndjson');
  return (event) => appendFileSync(file, `${JSON.stringify(event)}\n`);
}
