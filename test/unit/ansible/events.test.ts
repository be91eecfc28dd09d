import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PlaybookTracker, parseEventLine, type AnsibleEvent } from '../../../src/ansible/events.js';

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

describe('PlaybookTracker on the shipped iac_jsonl callback', () => {
  it('counts hosts per task and keeps ignore_errors failures apart', () => {
    const { tracker, events } = replay('shipped-iac-jsonl-mixed.jsonl');
    expect(events[0]).toEqual({ type: 'playbook', path: 'mixed.yml' });
    expect(events[1]).toEqual({ type: 'play', name: 'Mixed outcomes' });
    expect(taskSummaries(events)).toEqual([
      ['Run a command', { ok: 2, changed: 2, failed: 0, skipped: 0, unreachable: 1, ignored: 0 }],
      ['Only on web2', { ok: 1, changed: 0, failed: 0, skipped: 1, unreachable: 0, ignored: 0 }],
      ['Ignored failure', { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0, ignored: 2 }],
      ['Loop', { ok: 2, changed: 0, failed: 0, skipped: 0, unreachable: 0, ignored: 0 }],
      ['Fail on web2', { ok: 0, changed: 0, failed: 1, skipped: 1, unreachable: 0, ignored: 0 }],
      ['After failure', { ok: 1, changed: 0, failed: 0, skipped: 0, unreachable: 0, ignored: 0 }],
    ]);
    expect(tracker.problems.filter((p) => !p.ignored).map((p) => [p.task, p.host, p.msg])).toEqual([
      ['Run a command', 'deadhost', 'Failed to connect to the host via ssh: ssh: connect to host 127.0.0.1 port 1: Connection refused'],
      ['Fail on web2', 'web2', 'web2 is broken'],
    ]);
    expect(tracker.stats?.web2).toEqual({ ok: 4, changed: 2, failures: 1, unreachable: 0, skipped: 0, rescued: 0, ignored: 1 });
    expect(events.at(-1)?.type).toBe('stats');
  });
});

describe('PlaybookTracker on handlers and no_log results', () => {
  it('marks handler tasks and only ever sees censored no_log output', () => {
    const { events } = replay('shipped-iac-jsonl-handlers-nolog.jsonl');
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
      { type: 'host', task: 'Run a command', host: 'localhost', status: 'changed', msg: '' },
      { type: 'host', task: 'Fail on purpose', host: 'localhost', status: 'failed', msg: 'non-zero return code' },
    ]);
    expect(tracker.problems).toEqual([
      {
        task: 'Fail on purpose',
        host: 'localhost',
        action: 'ansible.builtin.shell',
        msg: 'non-zero return code',
        rc: 3,
        stderr: 'boom',
        ignored: false,
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
