import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { countResult, PlaybookTracker, parseEventLine, type AnsibleEvent, type HostCounts, type HostStats } from '../../../src/ansible/events.js';

function replay(fixture: string, scrub?: (t: string) => string): { tracker: PlaybookTracker; events: AnsibleEvent[] } {
  const text = readFileSync(new URL(`../../fixtures/ansible/${fixture}`, import.meta.url), 'utf8');
  const tracker = new PlaybookTracker(scrub);
  const events: AnsibleEvent[] = [];
  for (const line of text.split('\n')) {
    const raw = parseEventLine(line);
    if (raw) events.push(...tracker.push(raw));
  }
  events.push(...tracker.finish());
  return { tracker, events };
}

const taskSummaries = (events: AnsibleEvent[]): unknown[] =>
  events.flatMap((e) => (e.type === 'task' ? [[e.name, e.hosts]] : []));

const counts = (c: Partial<HostCounts>): HostCounts => ({ ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0, rescued: 0, ignored: 0, ...c });

/** Per-task counts summed per host must equal Ansible's own stats (PLAY RECAP), column by column. */
function perHostSums(events: AnsibleEvent[]): Record<string, HostStats> {
  const sums: Record<string, HostStats> = {};
  for (const e of events) {
    if (e.type !== 'host') continue;
    const one = counts({});
    countResult(one, e.status, e.changed);
    const s = (sums[e.host] ??= { ok: 0, changed: 0, failures: 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 });
    s.ok += one.ok;
    s.changed += one.changed;
    s.failures += one.failed;
    s.unreachable += one.unreachable;
    s.skipped += one.skipped;
    s.rescued += one.rescued;
    s.ignored += one.ignored;
  }
  return sums;
}

describe('PlaybookTracker on the shipped iac_events callback', () => {
  it('counts hosts per task as PLAY RECAP does: an ignored failure is ok + ignored (+ changed)', () => {
    const { tracker, events } = replay('shipped-iac-events-mixed.jsonl');
    expect(events[0]).toEqual({ type: 'playbook', path: 'playbooks/mixed.yml' });
    expect(events[1]).toEqual({ type: 'play', name: 'Mixed outcomes' });
    expect(taskSummaries(events)).toEqual([
      ['Run a command', counts({ ok: 2, changed: 2, unreachable: 1 })],
      ['Only on web2', counts({ ok: 1, skipped: 1 })],
      ['Ignored failure', counts({ ok: 2, changed: 2, ignored: 2 })],
      ['Loop', counts({ ok: 2 })],
      ['Fail on web2', counts({ failed: 1, skipped: 1 })],
      ['After failure', counts({ ok: 1 })],
    ]);
    expect(perHostSums(events)).toEqual(tracker.stats);
    expect(tracker.problems.filter((p) => !p.ignored).map((p) => [p.task, p.host, p.msg])).toEqual([
      ['Run a command', 'deadhost', 'Failed to connect to the host via ssh: ssh: connect to host 127.0.0.1 port 1: Connection refused'],
      ['Fail on web2', 'web2', 'web2 is broken'],
    ]);
    expect(tracker.stats?.web2).toEqual({ ok: 4, changed: 2, failures: 1, unreachable: 0, skipped: 0, rescued: 0, ignored: 1 });
    expect(events.at(-1)?.type).toBe('stats');
  });

  it('loops, when, ignore_errors, block/rescue/always, handlers, include_tasks, delegate_to, run_once, unreachable', () => {
    const { tracker, events } = replay('shipped-iac-events-recap.jsonl');
    const stdout = readFileSync(new URL('../../fixtures/ansible/shipped-iac-events-recap.stdout.txt', import.meta.url), 'utf8');
    expect(tracker.stats).toEqual(parsePlayRecap(stdout));
    expect(perHostSums(events)).toEqual(tracker.stats);
    expect(events).toContainEqual(expect.objectContaining({ type: 'host', task: 'Fails in block', host: 'web1', status: 'rescued' }));
    expect(tracker.problems.find((p) => p.task === 'Fails in block')).toMatchObject({ rescued: true, ignored: false });
    expect(tracker.tasksStarted).toBe(15);
  });

  it('check mode: the rendered diff of a changed file arrives as a diff event', () => {
    const { tracker, events } = replay('shipped-iac-events-recap-check.jsonl');
    const stdout = readFileSync(new URL('../../fixtures/ansible/shipped-iac-events-recap-check.stdout.txt', import.meta.url), 'utf8');
    expect(tracker.stats).toEqual(parsePlayRecap(stdout));
    const diffs = events.filter((e) => e.type === 'diff');
    expect(diffs.map((d) => (d.type === 'diff' ? `${d.task} ${d.host}` : '')).sort()).toEqual(['Write a file web1', 'Write a file web2']);
    const web1 = diffs.find((d) => d.type === 'diff' && d.host === 'web1');
    expect(web1?.type === 'diff' && web1.text).toContain('+hello web1');
  });
});

/** ansible-playbook's own PLAY RECAP lines → stats (the default callback's format). */
function parsePlayRecap(stdout: string): Record<string, HostStats> {
  const recap: Record<string, HostStats> = {};
  const section = stdout.slice(stdout.indexOf('PLAY RECAP'));
  for (const match of section.matchAll(/^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)/gm)) {
    const n = match.slice(2).map(Number) as number[];
    recap[match[1] as string] = { ok: n[0] ?? 0, changed: n[1] ?? 0, unreachable: n[2] ?? 0, failures: n[3] ?? 0, skipped: n[4] ?? 0, rescued: n[5] ?? 0, ignored: n[6] ?? 0 };
  }
  return recap;
}

describe('PlaybookTracker on handlers and no_log results', () => {
  it('marks handler tasks and only ever sees censored no_log output', () => {
    const { events } = replay('shipped-iac-events-handlers-nolog.jsonl');
    expect(events.filter((e) => e.type === 'task').map((e) => (e.type === 'task' ? [e.name, e.handler] : []))).toEqual([
      ['Secret command', false],
      ['Loop with no_log', false],
      ['Restart', true],
    ]);
    expect(events).toContainEqual({
      type: 'host',
      task: 'Secret command',
      host: 'localhost',
      status: 'changed',
      changed: true,
      msg: "the output has been hidden due to the fact that 'no_log: true' was specified for this result",
    });
    const text = JSON.stringify(events);
    expect(text).not.toContain('topsecret');
    expect(text).not.toContain('hush');
  });
});

describe('PlaybookTracker on ansible.posix.jsonl recordings (same shape)', () => {
  it('reads a failed command with rc and stderr', () => {
    const { tracker, events } = replay('jsonl-failed.jsonl');
    expect(events.filter((e) => e.type === 'host')).toEqual([
      { type: 'host', task: 'Run a command', host: 'localhost', status: 'changed', changed: true, msg: '' },
      { type: 'host', task: 'Fail on purpose', host: 'localhost', status: 'failed', changed: true, msg: 'non-zero return code' },
    ]);
    expect(tracker.problems).toEqual([
      {
        task: 'Fail on purpose',
        host: 'localhost',
        action: 'ansible.builtin.shell',
        msg: 'non-zero return code',
        rc: 3,
        stderr: 'boom',
        status: 'failed',
        ignored: false,
        rescued: false,
      },
    ]);
  });

  it('knows an interrupted run by its missing stats and still closes the open task', () => {
    const { tracker, events } = replay('jsonl-sigint.jsonl');
    expect(tracker.stats).toBeUndefined();
    expect(tracker.currentTask).toBe('Sleep');
    expect(events.at(-1)).toMatchObject({ type: 'task', name: 'Sleep' });
  });

  it('passes every message through the scrubber', () => {
    const { events } = replay('jsonl-failed.jsonl', (t) => t.replace('boom', '***').replace('return', '***'));
    expect(JSON.stringify(events)).not.toContain('return code');
  });
});

describe('parseEventLine', () => {
  it('skips text that -v and --syntax-check print on stdout', () => {
    expect(parseEventLine('No config file found; using defaults')).toBeUndefined();
    expect(parseEventLine('playbook: ok.yml')).toBeUndefined();
    expect(parseEventLine('{"not": "an event"}')).toBeUndefined();
    expect(parseEventLine('{broken')).toBeUndefined();
    expect(parseEventLine('{"_event":"v2_playbook_on_stats","stats":{}}')).toEqual({ _event: 'v2_playbook_on_stats', stats: {} });
  });
});
