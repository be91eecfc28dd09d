import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRunDir, KEPT_RUNS } from '../../../src/commands/support/run-dir.js';

describe('run directories', () => {
  const dirs: string[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('are timestamped under .iac/runs, which ignores itself in git', () => {
    const project = mkdtempSync(join(tmpdir(), 'iac-runs-'));
    dirs.push(project);
    const dir = createRunDir(project, new Date('2026-11-27T10:20:30.456Z'));
    expect(dir).toBe(join(project, '.iac', 'runs', '2026-11-27T10-20-30Z'));
    expect(readFileSync(join(project, '.iac', '.gitignore'), 'utf8')).toContain('*');
    // The same second twice: a second directory, not a shared one.
    expect(createRunDir(project, new Date('2026-11-27T10:20:30.900Z'))).toBe(`${dir}-2`);
  });

  it(`keep only the newest ${KEPT_RUNS} runs`, () => {
    const project = mkdtempSync(join(tmpdir(), 'iac-runs-'));
    dirs.push(project);
    const created = Array.from({ length: KEPT_RUNS + 5 }, (_, i) => createRunDir(project, new Date(Date.UTC(2026, 10, 27, 10, 0, i))));
    const left = readdirSync(join(project, '.iac', 'runs'));
    expect(left).toHaveLength(KEPT_RUNS);
    expect(existsSync(created[0] as string)).toBe(false);
    expect(existsSync(created.at(-1) as string)).toBe(true);
  });
});
