/**
 * Decides how an `ansible-playbook` run ended from its events and final stats, not from its exit code:
 * rc 2 means "a task failed" or "bad CLI option", rc 4 "unreachable" or "parse error" (protocol §A.1.2).
 * Pure, so every branch is tested against recorded output.
 */
import { AnsibleError, InterruptedError, UsageError, type IacError } from '../errors.js';
import type { HostProblem, HostStats } from './events.js';

export interface RunFacts {
  playbook: string;
  exitCode: number | undefined;
  stats: Record<string, HostStats> | undefined;
  problems: HostProblem[];
  /** Host results seen before the end: distinguishes "never started" from "died mid-run". */
  resultsSeen: number;
  stderrLines: string[];
}

const RUN_HINT = (playbook: string): string => `ansible-playbook ${playbook} -vvv  (or see the run log)`;

/** Detail lines for one failed result: task, host, msg, then rc/stderr for command-like modules. */
export function describeProblem(problem: HostProblem): string[] {
  const lines = [`task: ${problem.task}`, `host: ${problem.host}`];
  if (problem.msg) lines.push(`msg: ${problem.msg}`);
  if (problem.rc !== undefined) lines.push(`rc: ${problem.rc}`);
  if (problem.stderr) lines.push(...problem.stderr.split('\n').slice(-20).map((l) => `stderr: ${l}`));
  return lines;
}

/** The `ERROR! …` part of stderr (ansible prints the reason there and nothing on stdout). */
export function ansibleErrorText(stderrLines: string[]): string[] {
  const start = stderrLines.findIndex((l) => /^\s*(ERROR!|\[ERROR\]:)/.test(l));
  const lines = start >= 0 ? stderrLines.slice(start) : stderrLines.filter((l) => !/^\[WARNING\]/.test(l));
  return lines.filter((l) => l.trim() !== '').slice(0, 30);
}

/** undefined: the run succeeded. Otherwise the error to throw. */
export function judgeRun(facts: RunFacts): IacError | undefined {
  const { stats, problems } = facts;
  if (stats) {
    const unreachableHosts = Object.entries(stats).filter(([, s]) => s.unreachable > 0).map(([h]) => h);
    const failedHosts = Object.entries(stats).filter(([, s]) => s.failures > 0).map(([h]) => h);
    if (unreachableHosts.length > 0) {
      const first = problems.find((p) => unreachableHosts.includes(p.host) && !p.ignored);
      const details = problems.filter((p) => !p.ignored).flatMap(describeProblem);
      return new AnsibleError(
        'unreachable',
        `host ${unreachableHosts.join(', ')} unreachable${first ? ` at task "${first.task}"` : ''}${first?.msg ? `: ${oneLine(first.msg)}` : ''}`,
        { hint: `ansible all -i <inventory> -m ping --limit ${unreachableHosts[0]}`, details },
      );
    }
    if (failedHosts.length > 0) {
      // The last real (not ignored) failure per host is the one that stopped it.
      const failures = failedHosts
        .map((host) => [...problems].reverse().find((p) => p.host === host && !p.ignored))
        .filter((p): p is HostProblem => p !== undefined);
      const first = failures[0];
      const where = first ? `task "${first.task}" failed on ${first.host}` : `a task failed on ${failedHosts.join(', ')}`;
      return new AnsibleError('task-failed', `${where}${first?.msg ? `: ${oneLine(first.msg)}` : ''}`, {
        hint: RUN_HINT(facts.playbook),
        details: failures.flatMap(describeProblem),
      });
    }
    if (facts.exitCode !== undefined && facts.exitCode !== 0) {
      const text = ansibleErrorText(facts.stderrLines);
      return new AnsibleError('task-failed', `ansible-playbook exited with ${facts.exitCode}: ${oneLine(text[0] ?? 'no error text')}`, {
        hint: RUN_HINT(facts.playbook),
        details: text,
      });
    }
    return undefined;
  }
  // No stats: Ansible never got going, was interrupted, or crashed.
  if (facts.exitCode === 0) return undefined;
  const text = ansibleErrorText(facts.stderrLines);
  const reason = oneLine((text[0] ?? `ansible-playbook exited with ${String(facts.exitCode)}`).replace(/^\s*(ERROR!|\[ERROR\]:)\s*/, ''));
  if (facts.exitCode === 99) return new InterruptedError(`ansible-playbook interrupted: ${reason}`, { details: text });
  if (facts.resultsSeen === 0) {
    return new UsageError('ansible.invalid', `ansible-playbook refused to run ${facts.playbook}: ${reason}`, {
      hint: `ansible-playbook --syntax-check ${facts.playbook}`,
      details: text,
    });
  }
  return new AnsibleError('task-failed', `ansible-playbook stopped mid-run: ${reason}`, {
    hint: RUN_HINT(facts.playbook),
    details: [...problems.filter((p) => !p.ignored).flatMap(describeProblem), ...text],
  });
}

function oneLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? '';
  return line.length > 300 ? `${line.slice(0, 297)}...` : line.trim();
}
