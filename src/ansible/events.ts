/**
 * Turns the JSON lines printed by the shipped `iac_jsonl` callback (also accepts `ansible.posix.jsonl`,
 * whose shape it shares) into iac's typed Ansible events, and keeps what is needed to judge the run:
 * per-task host counts, failed/unreachable results and the final stats. Pure: no processes, no I/O.
 */

export interface HostCounts {
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  unreachable: number;
  ignored: number;
}

/** Ansible's own recap counters for one host (`v2_playbook_on_stats`); note `failures`, not `failed`. */
export interface HostStats {
  ok: number;
  changed: number;
  failures: number;
  unreachable: number;
  skipped: number;
  rescued: number;
  ignored: number;
}

export type HostStatus = 'ok' | 'changed' | 'failed' | 'ignored' | 'skipped' | 'unreachable';

/** A result that went wrong on one host, with what a person needs to fix it. */
export interface HostProblem {
  task: string;
  host: string;
  action?: string;
  msg?: string;
  rc?: number;
  stderr?: string;
  stdout?: string;
  /** `ignore_errors: true` on the task: reported, but does not fail the run. */
  ignored: boolean;
}

export type AnsibleEvent =
  | { type: 'playbook'; path: string }
  | { type: 'play'; name: string }
  | { type: 'task-start'; name: string; action?: string; handler: boolean }
  | { type: 'host'; task: string; host: string; status: HostStatus; msg?: string }
  | { type: 'task'; name: string; handler: boolean; hosts: HostCounts }
  | { type: 'no-hosts'; play: string }
  | { type: 'stats'; hosts: Record<string, HostStats> };

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Parses one stdout line; undefined for anything that is not a callback event (`-v` prints plain text). */
export function parseEventLine(line: string): JsonObject | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith('{')) return undefined;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    return isObject(parsed) && typeof parsed._event === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export function emptyCounts(): HostCounts {
  return { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0, ignored: 0 };
}

function toStats(value: unknown): HostStats {
  const v = isObject(value) ? value : {};
  const n = (key: string): number => (typeof v[key] === 'number' ? (v[key] as number) : 0);
  return {
    ok: n('ok'),
    changed: n('changed'),
    failures: n('failures'),
    unreachable: n('unreachable'),
    skipped: n('skipped'),
    rescued: n('rescued'),
    ignored: n('ignored'),
  };
}

interface OpenTask {
  name: string;
  handler: boolean;
  counts: HostCounts;
}

/**
 * Feed raw callback events in order; get iac events out. A task is reported as finished when the next
 * task, play or the final stats begins (the linear strategy runs tasks in lockstep).
 */
export class PlaybookTracker {
  readonly problems: HostProblem[] = [];
  stats: Record<string, HostStats> | undefined;
  /** Name of the task that was running last; shown when a run is interrupted. */
  currentTask: string | undefined;
  resultsSeen = 0;
  private open: OpenTask | undefined;
  private play = '';

  constructor(private readonly scrub: (text: string) => string = (t) => t) {}

  push(raw: JsonObject): AnsibleEvent[] {
    const out: AnsibleEvent[] = [];
    const event = raw._event as string;
    const task = isObject(raw.task) ? raw.task : {};
    const taskName = this.scrub(str(task.name) ?? '');
    switch (event) {
      case 'v2_playbook_on_start': {
        const playbook = isObject(raw.playbook) ? raw.playbook : {};
        out.push({ type: 'playbook', path: str(playbook.path) ?? '' });
        break;
      }
      case 'v2_playbook_on_play_start': {
        this.closeTask(out);
        const play = isObject(raw.play) ? raw.play : {};
        this.play = this.scrub(str(play.name) ?? '');
        out.push({ type: 'play', name: this.play });
        break;
      }
      case 'v2_playbook_on_no_hosts_matched':
        out.push({ type: 'no-hosts', play: this.play });
        break;
      case 'v2_playbook_on_task_start':
      case 'v2_playbook_on_handler_task_start':
      case 'v2_runner_on_start': {
        const handler = event === 'v2_playbook_on_handler_task_start';
        // free/host_pinned strategies send v2_runner_on_start per host for the same task.
        if (this.open && this.open.name === taskName && event === 'v2_runner_on_start') break;
        this.closeTask(out);
        this.open = { name: taskName, handler, counts: emptyCounts() };
        this.currentTask = taskName;
        const action = str(task.action);
        out.push({ type: 'task-start', name: taskName, handler, ...(action ? { action } : {}) });
        break;
      }
      case 'v2_runner_on_ok':
      case 'v2_runner_on_failed':
      case 'v2_runner_on_skipped':
      case 'v2_runner_on_unreachable':
        this.onResult(event, raw, taskName, out);
        break;
      case 'v2_playbook_on_stats': {
        this.closeTask(out);
        const stats = isObject(raw.stats) ? raw.stats : {};
        this.stats = Object.fromEntries(Object.entries(stats).map(([host, s]) => [host, toStats(s)]));
        this.currentTask = undefined;
        out.push({ type: 'stats', hosts: this.stats });
        break;
      }
      default:
        break;
    }
    return out;
  }

  /** Call once the process has exited: reports a task left open (interrupted or crashed run). */
  finish(): AnsibleEvent[] {
    const out: AnsibleEvent[] = [];
    this.closeTask(out);
    return out;
  }

  private onResult(event: string, raw: JsonObject, taskName: string, out: AnsibleEvent[]): void {
    this.resultsSeen += 1;
    const hosts = isObject(raw.hosts) ? raw.hosts : {};
    if (!this.open || this.open.name !== taskName) {
      this.closeTask(out);
      this.open = { name: taskName, handler: false, counts: emptyCounts() };
    }
    const counts = this.open.counts;
    for (const [host, value] of Object.entries(hosts)) {
      const result = isObject(value) ? value : {};
      const msg = str(result.msg) ?? str(result.censored);
      let status: HostStatus;
      if (event === 'v2_runner_on_unreachable') status = 'unreachable';
      else if (event === 'v2_runner_on_skipped') status = 'skipped';
      else if (event === 'v2_runner_on_failed') status = raw.ignore_errors === true ? 'ignored' : 'failed';
      else status = result.changed === true ? 'changed' : 'ok';
      counts[status === 'changed' ? 'changed' : status] += 1;
      if (status === 'changed') counts.ok += 1;
      if (status === 'failed' || status === 'ignored' || status === 'unreachable') {
        this.problems.push(this.problem(taskName, host, result, status === 'ignored'));
      }
      out.push({ type: 'host', task: taskName, host, status, ...(msg !== undefined ? { msg: this.scrub(msg) } : {}) });
    }
  }

  private problem(task: string, host: string, result: JsonObject, ignored: boolean): HostProblem {
    const problem: HostProblem = { task, host, ignored };
    const action = str(result.action);
    const msg = str(result.msg) ?? str(result.censored);
    const stderr = str(result.stderr);
    const stdout = str(result.stdout);
    if (action) problem.action = action;
    if (msg !== undefined) problem.msg = this.scrub(msg);
    if (typeof result.rc === 'number') problem.rc = result.rc;
    if (stderr) problem.stderr = this.scrub(stderr);
    if (stdout) problem.stdout = this.scrub(stdout);
    return problem;
  }

  private closeTask(out: AnsibleEvent[]): void {
    if (!this.open) return;
    out.push({ type: 'task', name: this.open.name, handler: this.open.handler, hosts: this.open.counts });
    this.open = undefined;
  }
}
