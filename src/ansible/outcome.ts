/**
 * Decides how an `ansible-playbook` run ended from its events and final stats, not from its exit code:
 * rc 2 means "a task failed" or "bad CLI option", rc 4 "unreachable" or "parse error" (protocol §A.1.2).
 * Only failures that stopped a host are blamed: a failure under `ignore_errors` or one a block's
 * `rescue:` handled is not (Ansible's stats count those as ignored / rescued, not failures).
 * Pure, so every branch is tested against recorded output.
 */
import { AnsibleError, InterruptedError, UsageError, type IacError } from '../errors.js';
import type { HostProblem, HostStats } from './events.js';

/** Commands that re-run against the same target as the run did (built by the runner from its argv). */
export interface OutcomeHints {
  /** The playbook again, with -i and -e as run. */
  rerun: string;
  /** `ansible all -i <inventory as run> -m ping --limit <host>`. */
  ping: (host: string) => string;
  /** `ansible-playbook --syntax-check …` on what ran. */
  syntax: string;
}

export interface RunFacts {
  playbook: string;
  exitCode: number | undefined;
  stats: Record<string, HostStats> | undefined;
  problems: HostProblem[];
  /** Host results seen before the end: distinguishes "never started" from "died mid-run". */
  resultsSeen: number;
  stderrLines: string[];
  hints: OutcomeHints;
}

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

/**
 * The failures that really failed each host: per host, the last `failures` (Ansible's count) results
 * that were neither ignored nor rescued. Order: as they happened.
 */
export function fatalFailures(problems: HostProblem[], stats: Record<string, HostStats>): HostProblem[] {
  const picked = new Set<HostProblem>();
  for (const [host, s] of Object.entries(stats)) {
    if (s.failures <= 0) continue;
    const candidates = problems.filter((p) => p.host === host && p.status === 'failed' && !p.ignored && !p.rescued);
    for (const p of candidates.slice(-s.failures)) picked.add(p);
  }
  return problems.filter((p) => picked.has(p));
}

/** undefined: the run succeeded. Otherwise the error to throw. */
export function judgeRun(facts: RunFacts): IacError | undefined {
  const { stats, problems, hints } = facts;
  if (stats) {
    const unreachableHosts = Object.entries(stats).filter(([, s]) => s.unreachable > 0).map(([h]) => h);
    const fatal = fatalFailures(problems, stats);
    const failedHosts = Object.entries(stats).filter(([, s]) => s.failures > 0).map(([h]) => h);
    if (unreachableHosts.length > 0) {
      const unreachable = problems.filter((p) => p.status === 'unreachable' && !p.ignored && unreachableHosts.includes(p.host));
      const first = unreachable[0];
      return new AnsibleError(
        'unreachable',
        `host ${unreachableHosts.join(', ')} unreachable${first ? ` at task "${first.task}"` : ''}${first?.msg ? `: ${oneLine(first.msg)}` : ''}` +
          (failedHosts.length > 0 ? `; task failed on ${failedHosts.join(', ')}` : ''),
        { hint: hints.ping(unreachableHosts[0] as string), details: [...unreachable, ...fatal].flatMap(describeProblem) },
      );
    }
    if (failedHosts.length > 0) {
      const first = fatal[0];
      const where = first ? `task "${first.task}" failed on ${first.host}` : `a task failed on ${failedHosts.join(', ')}`;
      return new AnsibleError('task-failed', `${where}${first?.msg ? `: ${oneLine(first.msg)}` : ''}`, {
        hint: hints.rerun,
        details: fatal.flatMap(describeProblem),
      });
    }
    if (facts.exitCode !== undefined && facts.exitCode !== 0) {
      const text = ansibleErrorText(facts.stderrLines);
      return new AnsibleError('task-failed', `ansible-playbook exited with ${facts.exitCode}: ${oneLine(text[0] ?? 'no error text')}`, {
        hint: hints.rerun,
        details: text,
      });
    }
    return undefined;
  }
  // No stats: Ansible never got going, was interrupted, or crashed.
  if (facts.exitCode === 0) return undefined;
  const text = ansibleErrorText(facts.stderrLines);
  const reason = oneLine((text[0] ?? `ansible-playbook exited with ${String(facts.exitCode)}`).replace(/^\s*(ERROR!|\[ERROR\]:)\s*/, ''));
  if (facts.exitCode === 99) return new InterruptedError(`ansible-playbook interrupted: ${reason}`, { details: text, hint: hints.rerun });
  if (facts.resultsSeen === 0) {
    return new UsageError('ansible.invalid', `ansible-playbook refused to run ${facts.playbook}: ${reason}`, {
      hint: hints.syntax,
      details: text,
    });
  }
  return new AnsibleError('task-failed', `ansible-playbook stopped mid-run: ${reason}`, {
    hint: hints.rerun,
    details: [...problems.filter((p) => !p.ignored && !p.rescued).flatMap(describeProblem), ...text],
  });
}

function oneLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '') ?? '';
  return line.length > 300 ? `${line.slice(0, 297)}...` : line.trim();
}
