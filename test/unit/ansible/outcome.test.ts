import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AnsibleError, InterruptedError, UsageError } from '../../../src/errors.js';
import { PlaybookTracker, parseEventLine } from '../../../src/ansible/events.js';
import { judgeRun } from '../../../src/ansible/outcome.js';
import { parseErrorLocation } from '../../../src/ansible/preflight.js';

const HINTS = {
  rerun: "cd /run/tree && ansible-playbook -i /run/inv.yml -e '{\"a\":1}' site.yml",
  ping: (host: string) => `cd /run/tree && ansible all -i /run/inv.yml -m ping --limit ${host}`,
  syntax: 'cd /run/tree && ansible-playbook --syntax-check -i /run/inv.yml site.yml',
};

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/ansible/${name}`, import.meta.url), 'utf8');

function judge(jsonl: string | undefined, exitCode: number, stderr = ''): ReturnType<typeof judgeRun> {
  const tracker = new PlaybookTracker();
  for (const line of (jsonl ? fixture(jsonl) : '').split('\n')) {
    const raw = parseEventLine(line);
    if (raw) tracker.push(raw);
  }
  return judgeRun({
    playbook: 'site.yml',
    exitCode,
    stats: tracker.stats,
    problems: tracker.problems,
    resultsSeen: tracker.resultsSeen,
    stderrLines: stderr.split('\n'),
    hints: HINTS,
  });
}

describe('judgeRun: the outcome comes from events and stats, not the exit code', () => {
  it('success', () => {
    expect(judge('jsonl-ok.jsonl', 0)).toBeUndefined();
  });

  it('rc 2 with a failed task → exit 30 naming task, host and msg', () => {
    const error = judge('jsonl-failed.jsonl', 2);
    expect(error).toBeInstanceOf(AnsibleError);
    expect(error?.exitCode).toBe(30);
    expect(error?.message).toBe('task "Fail on purpose" failed on localhost: non-zero return code');
    expect(error?.details).toEqual(['task: Fail on purpose', 'host: localhost', 'msg: non-zero return code', 'rc: 3', 'stderr: boom']);
  });

  it('an undefined variable is a task failure', () => {
    expect(judge('jsonl-undefined-var.jsonl', 2)?.message).toMatch(/^task "Use undefined" failed on localhost: .*does_not_exist/);
  });

  it('rc 4 with an unreachable host → exit 31; failures elsewhere stay in the details; the hint pings as run', () => {
    const error = judge('shipped-iac-events-mixed.jsonl', 4);
    expect(error?.exitCode).toBe(31);
    expect(error?.message).toMatch(/^host deadhost unreachable at task "Run a command": Failed to connect.*; task failed on web2$/);
    expect(error?.details).toContain('msg: web2 is broken');
    expect(error?.details.join('\n')).not.toContain('Ignored failure');
    expect(error?.hint).toBe('cd /run/tree && ansible all -i /run/inv.yml -m ping --limit deadhost');
  });

  it('a failure a rescue handled is never blamed: unreachable web2 later names only itself', () => {
    const error = judge('shipped-iac-events-recap.jsonl', 4);
    expect(error?.exitCode).toBe(31);
    expect(error?.message).toMatch(/^host web2 unreachable at task "Reach the host": /);
    expect(error?.message).not.toContain('Fails in block');
    expect(error?.details.join('\n')).not.toContain('Fails in block');
    expect(error?.details.join('\n')).not.toContain('Ignored failure');
  });

  it('a task failure hint re-runs the playbook with -i and -e as run', () => {
    expect(judge('jsonl-failed.jsonl', 2)?.hint).toBe(HINTS.rerun);
  });

  it('rc 4 without stats is a parse error → exit 2, not "unreachable"', () => {
    const error = judge(undefined, 4, fixture('stderr-syntax-error.txt'));
    expect(error).toBeInstanceOf(UsageError);
    expect(error?.exitCode).toBe(2);
    expect(error?.message).toBe('ansible-playbook refused to run site.yml: conflicting action statements: ansible.builtin.debug, not_a_keyword');
  });

  it('rc 1 for a --limit that matches nothing → exit 2', () => {
    const error = judge(undefined, 1, fixture('stderr-limit-nomatch.txt'));
    expect(error?.exitCode).toBe(2);
    expect(error?.message).toContain('leaves us with no hosts to target');
  });

  it('rc 99 (interrupted from outside) → InterruptedError', () => {
    expect(judge('jsonl-sigint.jsonl', 99, fixture('stderr-sigint.txt'))).toBeInstanceOf(InterruptedError);
  });

  it('a play that matched no hosts is not a failure (rc 0, empty stats)', () => {
    expect(judge('jsonl-no-hosts-matched.jsonl', 0)).toBeUndefined();
  });
});

describe('parseErrorLocation', () => {
  it('reads file, line and column from ansible parser errors', () => {
    expect(parseErrorLocation(fixture('stderr-yaml-error.txt'))).toEqual({ file: '/srv/demo/yamlerr.yml', line: 5, column: 4 });
    expect(parseErrorLocation(fixture('stderr-missing-playbook.txt'))).toBeUndefined();
  });
});
