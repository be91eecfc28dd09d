/** The doctor's screen: grouped by environment, one aligned line per check, then the tally. */
import type { ChalkInstance } from 'chalk';
import type { CheckResult, CheckSeverity } from './types.js';

export interface DoctorSummary {
  total: number;
  passed: number;
  failed: number;
  warnings: number;
  skipped: number;
}

export function summarize(results: CheckResult[]): DoctorSummary {
  const count = (severity: CheckSeverity): number => results.filter((r) => r.severity === severity).length;
  return { total: results.length, passed: count('ok') + count('warning'), failed: count('error'), warnings: count('warning'), skipped: count('skipped') };
}

/** "7 checks: 4 passed, 1 with a warning, 1 failed, 1 not checked (it needs one that failed)". */
export function summaryLine(summary: DoctorSummary): string {
  const clean = summary.passed - summary.warnings;
  const parts = [
    `${clean} passed`,
    ...(summary.warnings > 0 ? [`${summary.warnings} with a warning`] : []),
    `${summary.failed} failed`,
    ...(summary.skipped > 0 ? [`${summary.skipped} not checked (${summary.skipped === 1 ? 'it needs one' : 'they need one'} that failed)`] : []),
  ];
  return `${summary.total} check${summary.total === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

export interface RenderOptions {
  chalk: ChalkInstance;
  /** Environment name → its branch, for the group headings. */
  branches: Record<string, string>;
}

export function renderDoctor(results: CheckResult[], options: RenderOptions): string[] {
  const c = options.chalk;
  const marks: Record<CheckSeverity, string> = { ok: c.green('✓'), warning: c.yellow('!'), error: c.red('✗'), skipped: c.dim('○') };
  const width = Math.max(0, ...results.map((r) => r.label.length));
  const groups = new Map<string | undefined, CheckResult[]>();
  for (const result of results) groups.set(result.env, [...(groups.get(result.env) ?? []), result]);

  const lines: string[] = [];
  for (const [env, group] of groups) {
    if (lines.length > 0) lines.push('');
    lines.push(c.bold(env === undefined ? 'project' : `${env} (branch ${options.branches[env] ?? '?'})`));
    for (const r of group) {
      const message = r.severity === 'skipped' ? c.dim(r.message) : r.message;
      const fix = r.fix !== undefined && r.severity !== 'ok' ? ` ${c.cyan('→ fix:')} ${r.fix}` : '';
      lines.push(`  ${marks[r.severity]} ${r.label.padEnd(width)}  ${message}${fix}`);
    }
  }
  lines.push('', summaryLine(summarize(results)));
  return lines;
}
