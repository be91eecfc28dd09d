/**
 * The readable run log (`.iac/runs/<timestamp>/ansible.log`): close to what the default callback prints,
 * built from the same events the task list sees, so it never shows more than they do.
 */
import type { AnsibleEvent, HostProblem } from './events.js';
import { describeProblem } from './outcome.js';

export function logLinesFor(event: AnsibleEvent, problem?: HostProblem): string[] {
  switch (event.type) {
    case 'playbook':
      return [`PLAYBOOK: ${event.path}`];
    case 'play':
      return ['', `PLAY [${event.name}]`];
    case 'task-start':
      return ['', `${event.handler ? 'RUNNING HANDLER' : 'TASK'} [${event.name}]`];
    case 'host': {
      const head = `${event.status === 'ignored' ? 'failed (ignored)' : event.status}: [${event.host}]`;
      if (problem) return [head, ...describeProblem(problem).slice(2).map((l) => `    ${l}`)];
      return [event.msg && event.status !== 'ok' && event.status !== 'changed' ? `${head} ${event.msg}` : head];
    }
    case 'no-hosts':
      return [`skipping: no hosts matched (play "${event.play}")`];
    case 'task':
      return [];
    case 'stats':
      return [
        '',
        'PLAY RECAP',
        ...Object.entries(event.hosts).map(
          ([host, s]) =>
            `${host.padEnd(26)} : ok=${s.ok} changed=${s.changed} unreachable=${s.unreachable} failed=${s.failures} skipped=${s.skipped} rescued=${s.rescued} ignored=${s.ignored}`,
        ),
      ];
  }
}
