import { Chalk } from 'chalk';
import { describe, expect, it } from 'vitest';
import { renderDoctor, summarize, summaryLine } from '../../../src/doctor/render.js';
import type { CheckResult } from '../../../src/doctor/types.js';

const result = (id: string, severity: CheckResult['severity'], message: string, extra: Partial<CheckResult> = {}): CheckResult => ({
  id,
  label: id,
  ok: severity === 'ok' || severity === 'warning',
  severity,
  message,
  durationMs: 1,
  ...extra,
});

const RESULTS: CheckResult[] = [
  result('git repository', 'ok', '/repo, on develop'),
  result('git branch', 'ok', 'develop at 1234567', { env: 'dev' }),
  result('jenkins credentials', 'warning', 'none found', { env: 'dev', fix: 'set IAC_JENKINS_TOKEN' }),
  result('jenkins auth', 'error', 'rejected (401)', { env: 'dev', fix: 'set IAC_JENKINS_TOKEN' }),
  result('jenkins job', 'skipped', 'not checked: jenkins auth failed', { env: 'dev' }),
  result('git branch', 'ok', 'main at 89abcde', { env: 'prod', fix: 'never shown for a pass' }),
];

describe('renderDoctor', () => {
  it('groups by environment, one aligned line per check with its mark and fix, then the tally', () => {
    const lines = renderDoctor(RESULTS, { chalk: new Chalk({ level: 0 }), branches: { dev: 'develop', prod: 'main' } });
    expect(lines).toEqual([
      'project',
      '  ✓ git repository       /repo, on develop',
      '',
      'dev (branch develop)',
      '  ✓ git branch           develop at 1234567',
      '  ! jenkins credentials  none found → fix: set IAC_JENKINS_TOKEN',
      '  ✗ jenkins auth         rejected (401) → fix: set IAC_JENKINS_TOKEN',
      '  ○ jenkins job          not checked: jenkins auth failed',
      '',
      'prod (branch main)',
      '  ✓ git branch           main at 89abcde',
      '',
      '6 checks: 3 passed, 1 with a warning, 1 failed, 1 not checked (it needs one that failed)',
    ]);
  });

  it('colours the marks when colour is on', () => {
    const lines = renderDoctor(RESULTS.slice(0, 1), { chalk: new Chalk({ level: 1 }), branches: {} });
    expect(lines[1]).toContain('\x1b[32m✓\x1b[39m');
  });
});

describe('summaryLine', () => {
  it('says what passed and failed', () => {
    expect(summaryLine(summarize([result('a', 'ok', 'x')]))).toBe('1 check: 1 passed, 0 failed');
    expect(summaryLine(summarize(RESULTS))).toBe('6 checks: 3 passed, 1 with a warning, 1 failed, 1 not checked (it needs one that failed)');
    expect(summarize(RESULTS)).toEqual({ total: 6, passed: 4, failed: 1, warnings: 1, skipped: 1 });
  });
});
