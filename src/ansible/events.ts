/**
 * Turns the JSON lines sent by the shipped `iac_events` callback (also accepts `ansible.posix.jsonl`,
 * whose shape it shares) into iac's typed Ansible events, and keeps what is needed to judge the run:
 * per-task host counts, the results that went wrong and Ansible's own final stats. Pure: no I/O.
 *
 * Per-task counts follow the rules of Ansible's strategy (plugins/strategy/__init__.py), so they add up
 * to PLAY RECAP: an ok or changed result counts ok (and changed); a failure under `ignore_errors` counts
 * ok + ignored (+ changed); a failure a block's `rescue:` takes over counts rescued; an unreachable host
 * under `ignore_unreachable` counts ok + ignored. The run's totals are never summed here: they are the
 * stats Ansible reports.
 */

export interface HostCounts {
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  unreachable: number;
  rescued: number;
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

export type HostStatus = 'ok' | 'changed' | 'failed' | 'ignored' | 'rescued' | 'skipped' | 'unreachable';

/** A result that went wrong on one host, with what a person needs to fix it. */
export interface HostProblem {
  task: string;
  host: string;
  status: 'failed' | 'unreachable';
  action?: string;
  msg?: string;
  rc?: number;
  stderr?: string;
  stdout?: string;
  /** `ignore_errors` / `ignore_unreachable`: reported, but does not fail the run. */
  ignored: boolean;
  /** A block's `rescue:` handled it: counted `rescued`, not `failed`. */
  rescued: boolean;
}

export type AnsibleEvent =
  | { type: 'playbook'; path: string }
  | { type: 'play'; name: string }
  | { type: 'task-start'; name: string; action?: string; handler: boolean }
  | { type: 'host'; task: string; host: string; status: HostStatus; changed: boolean; msg?: string }
  | { type: 'diff'; task: string; host: string; text: string }
  | { type: 'task'; name: string; handler: boolean; hosts: HostCounts }
  | { type: 'no-hosts'; play: string }
  | { type: 'stats'; hosts: Record<string, HostStats> }
  /** One line of ansible-playbook's own output (its stdout callback, or stderr). */
  | { type: 'output'; stream: 'stdout' | 'stderr'; line: string };

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Parses one line; undefined for anything that is not a callback event. */
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
  return { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0, rescued: 0, ignored: 0 };
}

export function toStats(value: unknown): HostStats {
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

/** The sum over hosts, as PLAY RECAP's columns would add up. */
export function sumStats(stats: Record<string, HostStats>): HostStats {
  const total: HostStats = { ok: 0, changed: 0, failures: 0, unreachable: 0, skipped: 0, rescued: 0, ignored: 0 };
  for (const s of Object.values(stats)) {
    for (const key of Object.keys(total) as Array<keyof HostStats>) total[key] += s[key];
  }
  return total;
}

/** How one result counts, exactly as the strategy increments stats for it. */
export function countResult(counts: HostCounts, status: HostStatus, changed: boolean): void {
  switch (status) {
    case 'ok':
    case 'changed':
      counts.ok += 1;
      if (changed) counts.changed += 1;
      break;
    case 'ignored':
      counts.ok += 1;
      counts.ignored += 1;
      if (changed) counts.changed += 1;
      break;
    default:
      counts[status] += 1;
  }
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
  /** Distinct tasks (and handlers) that started. */
  tasksStarted = 0;
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
        this.tasksStarted += 1;
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
        this.stats = Object.fromEntries(Object.entries(stats).map(([host, s]) => [this.scrub(host), toStats(s)]));
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
    for (const [rawHost, value] of Object.entries(hosts)) {
      // Host names can come from EC2 tags: they reach a terminal only sanitized, like every other text.
      const host = this.scrub(rawHost);
      const result = isObject(value) ? value : {};
      const msg = str(result.msg) ?? str(result.censored);
      const changed = result.changed === true;
      const ignored = raw.ignore_errors === true;
      let status: HostStatus;
      if (event === 'v2_runner_on_unreachable') status = ignored ? 'ignored' : 'unreachable';
      else if (event === 'v2_runner_on_skipped') status = 'skipped';
      else if (event === 'v2_runner_on_failed') status = ignored ? 'ignored' : raw.rescued === true ? 'rescued' : 'failed';
      else status = changed ? 'changed' : 'ok';
      countResult(counts, status, changed);
      if (event === 'v2_runner_on_failed' || event === 'v2_runner_on_unreachable') {
        const kind = event === 'v2_runner_on_unreachable' ? 'unreachable' : 'failed';
        this.problems.push(this.problem(taskName, host, result, kind, ignored, status === 'rescued'));
      }
      out.push({ type: 'host', task: taskName, host, status, changed, ...(msg !== undefined ? { msg: this.scrub(msg) } : {}) });
      const diff = str(result.diff_text);
      if (diff) out.push({ type: 'diff', task: taskName, host, text: this.scrub(diff) });
    }
  }

  private problem(task: string, host: string, result: JsonObject, status: HostProblem['status'], ignored: boolean, rescued: boolean): HostProblem {
    const problem: HostProblem = { task, host, status, ignored, rescued };
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
