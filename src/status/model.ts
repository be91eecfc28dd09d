/**
 * The `iac status` report: one documented, stable shape, rendered as a table on a terminal and
 * printed as-is with --json. Every source fills its own cell; a source that fails says why in that
 * cell and never delays or fails the others.
 */

/** `needs`: not asked, because the section reads an unset environment variable (reason names it). */
export type CellState = 'ok' | 'unreachable' | 'error' | 'needs';

export interface Cell<T> {
  state: CellState;
  value?: T;
  /** Why the source could not answer (state ≠ ok). */
  reason?: string;
  durationMs: number;
}

export interface GitStatus {
  branch: string;
  localSha?: string;
  remoteSha?: string;
  /** Local commits not on the remote branch, and the other way round. */
  ahead: number;
  behind: number;
  /** False when the fetch failed: ahead/behind are from the last fetch. */
  fetched: boolean;
}

export interface PromotionStatus {
  from: string;
  fromBranch: string;
  /** Commits on the promoteFrom branch not yet on this one. */
  pending: number;
  commits: Array<{ shortSha: string; subject: string; author: string }>;
  command: string;
}

export interface BuildStatus {
  number: number;
  result: string | null;
  building: boolean;
  /** Build start, epoch ms. */
  timestamp?: number;
  sha?: string;
  url: string;
}

export interface JenkinsStatus {
  job: string;
  last?: BuildStatus;
  queued: boolean;
  queueWhy?: string | null;
}

export interface WorkloadStatus {
  ref: string;
  found: boolean;
  ready: number;
  desired: number;
  message: string;
  /** From the typed verdict shared with the rollout wait (kubectl's semantics, pod problems). */
  state: 'ready' | 'progressing' | 'failing';
  /** Why pod diagnostics are missing (e.g. pods not readable: 403), when they are. */
  diagnostics?: string;
  revision?: string;
  /** How many commits the running revision is behind the branch head on the remote, when known. */
  behindHead?: number;
}

export interface Ec2Status {
  total: number;
  byState: Record<string, number>;
  instances: Array<{ id: string; name?: string; state: string; address?: string }>;
}

export interface LastPromotion {
  time: string;
  from: string;
  before: string;
  after: string;
  outcome: string;
}

/** What the run journal says about an environment (see `iac history`). */
export interface JournalStatus {
  /** The newest deploy is a rollback: the environment runs this commit on purpose until the next `up`. */
  pinned?: { sha: string; from?: string; time: string; user: string; branchAhead?: number };
  /** The deploy lease, when a run holds it (or held it and died: `expired`). */
  lease?: { user: string; host: string; command: string; commit: string; since: string; run: string; expired: boolean; where: string };
  /** The newest run had not ended: still running, or killed (its outcome is unknown). */
  unfinished?: { run: string; command: string; sha: string; state: 'running' | 'unknown'; user: string; host: string; time: string; pending?: string };
}

export interface EnvironmentStatus {
  name: string;
  branch: string;
  git: Cell<GitStatus>;
  promotion?: Cell<PromotionStatus>;
  jenkins?: Cell<JenkinsStatus>;
  workloads?: Cell<WorkloadStatus[]>;
  ec2?: Cell<Ec2Status>;
  lastPromotion?: LastPromotion;
  journal?: JournalStatus;
}

/** An environment whose workloads run an older commit than its branch head on the remote. */
export interface StaleEnvironment {
  environment: string;
  branch: string;
  /** Commits the oldest running revision is behind the branch head. */
  behind: number;
}

export interface StatusReport {
  project: string;
  generatedAt: string;
  environments: EnvironmentStatus[];
  /** Healthy is not enough: these run an older commit than their branch (exit code unaffected). */
  stale: StaleEnvironment[];
  /** 0 all answered and healthy, 4 some source unreachable, 40 a workload failing. */
  exitCode: 0 | 4 | 40;
}

export function reportExitCode(environments: EnvironmentStatus[]): 0 | 4 | 40 {
  const cells = environments.flatMap((env) => [env.git, env.promotion, env.jenkins, env.workloads, env.ec2]).filter((c) => c !== undefined);
  if (environments.some((env) => env.workloads?.value?.some((w) => w.state === 'failing'))) return 40;
  if (cells.some((cell) => cell.state === 'unreachable' || cell.state === 'error')) return 4;
  return 0;
}

export function staleEnvironments(environments: EnvironmentStatus[]): StaleEnvironment[] {
  // A pinned environment runs an older commit on purpose: the closing line says so instead.
  return environments.filter((env) => env.journal?.pinned === undefined).flatMap((env) => {
    const behind = Math.max(0, ...(env.workloads?.value ?? []).map((w) => w.behindHead ?? 0));
    return behind > 0 ? [{ environment: env.name, branch: env.branch, behind }] : [];
  });
}
