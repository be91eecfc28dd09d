import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import { resolveTarget, sectionProblem, type EnvironmentTarget, type Section } from '../config/resolve.js';
import { isIacError, UnreachableError } from '../errors.js';
import type { GitRepo } from '../git/repo.js';
import { pinnedBy, readHistory, type RunSummary } from '../journal/history.js';
import { describeJob } from '../jenkins/paths.js';
import type { Ec2Discovery } from '../config/schema.js';
import { ec2DiscoveryOf, findTaggedInstances } from '../steps/inventory-source.js';
import { connectJenkins, jobOf } from '../steps/jenkins-connect.js';
import { kubeTarget } from '../steps/kube-target.js';
import { remoteLine } from '../util/terminal-text.js';
import {
  reportExitCode,
  staleEnvironments,
  type Cell,
  type Ec2Status,
  type EnvironmentStatus,
  type GitStatus,
  type JenkinsStatus,
  type JournalStatus,
  type LastPromotion,
  type PromotionStatus,
  type StatusReport,
  type WorkloadStatus,
} from './model.js';

export interface GatherOptions {
  loaded: LoadedConfig;
  repo: GitRepo;
  /** One environment, or all. */
  only?: string;
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  /** Per source; a source that has not answered by then is "unreachable". Default 10 s. */
  sourceTimeoutMs?: number;
  secret: (value: string) => void;
  /** Skip the git fetch (used by --watch after the first round). */
  fetch?: boolean;
}

const DEFAULT_SOURCE_TIMEOUT_MS = 10_000;
const STATUS_RETRY = { attempts: 2, baseDelayMs: 200, maxDelayMs: 500 };

/** Runs one source with its own deadline; whatever it throws becomes the cell's reason. */
async function cell<T>(signal: AbortSignal, timeoutMs: number, source: (signal: AbortSignal) => Promise<T>): Promise<Cell<T>> {
  const started = performance.now();
  const deadline = AbortSignal.timeout(timeoutMs);
  const combined = AbortSignal.any([signal, deadline]);
  const timedOut = new Promise<never>((_, reject) => {
    combined.addEventListener('abort', () => reject(deadline.aborted ? new UnreachableError('timeout', `no answer within ${Math.round(timeoutMs / 1000)}s`) : combined.reason), { once: true });
  });
  try {
    const value = await Promise.race([source(combined), timedOut]);
    return { state: 'ok', value, durationMs: Math.round(performance.now() - started) };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const state = error instanceof UnreachableError || !isIacError(error) ? 'unreachable' : 'error';
    return { state: deadline.aborted ? 'unreachable' : state, reason, durationMs: Math.round(performance.now() - started) };
  }
}

/** Everything `iac status` shows, every source queried at once. */
export async function gatherStatus(options: GatherOptions): Promise<StatusReport> {
  const { loaded, repo, signal } = options;
  const timeoutMs = options.sourceTimeoutMs ?? DEFAULT_SOURCE_TIMEOUT_MS;
  const remote = loaded.config.git?.remote ?? 'origin';
  const names = Object.keys(loaded.config.environments).filter((name) => options.only === undefined || name === options.only);
  const allBranches = [...new Set(Object.values(loaded.config.environments).map((env) => env.branch))];

  // One fetch for every environment branch, shared by the git and promotion cells.
  const fetched = options.fetch === false
    ? Promise.resolve<string | undefined>('not fetched (watch refresh)')
    : cell(signal, timeoutMs, (s) => repo.fetch(remote, allBranches, { signal: s })).then((c) => (c.state === 'ok' ? undefined : c.reason));

  // Loading the Kubernetes client costs CPU: start it now so it overlaps the git fetch.
  if (names.some((name) => loaded.config.environments[name]?.kubernetes)) void import('../kube/list-workloads.js');
  // Targets, not runs: no commit is bound, and an unset variable blinds only the cell that reads it.
  const resolved = new Map<string, EnvironmentTarget>(
    Object.keys(loaded.config.environments).map((name) => [name, resolveTarget(loaded, name, { env: options.env })]),
  );

  const history = readHistory(loaded.dir);
  const workloadsByEnv = gatherWorkloads(names.map((n) => resolved.get(n) as EnvironmentTarget).filter((env) => env.needs.kubernetes === undefined), repo, remote, fetched, signal, timeoutMs);
  const promotions = readLastPromotions(loaded.dir);

  const environments = await Promise.all(
    names.map(async (name): Promise<EnvironmentStatus> => {
      const env = resolved.get(name) as EnvironmentTarget;
      const ec2Section: Section = env.ansible && !Array.isArray(env.ansible.inventory) ? 'ansible' : 'aws';
      // Who deploys now (the lease) is asked alongside the cells, not after them: one round trip less.
      const lease = leaseOf(env, signal, timeoutMs);
      const [git, promotion, jenkins, workloads, ec2] = await Promise.all([
        fetched.then((fetchProblem) => gitCell(repo, remote, env.branch, fetchProblem, signal, timeoutMs)),
        env.promoteFrom !== undefined ? fetched.then(() => promotionCell(loaded, repo, remote, env, resolved, signal, timeoutMs)) : undefined,
        env.jenkins ? needsCell<JenkinsStatus>(env, 'jenkins') ?? cell(signal, timeoutMs, (s) => jenkinsCell(env, options, s)) : undefined,
        env.kubernetes ? needsCell<WorkloadStatus[]>(env, 'kubernetes') ?? workloadsByEnv.get(name) : undefined,
        ec2DiscoveryOf(env) ? needsCell<Ec2Status>(env, ec2Section) ?? cell(signal, timeoutMs, (s) => ec2Cell(env, s)) : undefined,
      ]);
      const last = promotions.get(name);
      const journal = await journalStatus(history, env, repo, remote, await lease);
      return {
        name,
        branch: env.branch,
        git,
        ...(promotion ? { promotion } : {}),
        ...(jenkins ? { jenkins } : {}),
        ...(workloads ? { workloads } : {}),
        ...(ec2 ? { ec2 } : {}),
        ...(last ? { lastPromotion: last } : {}),
        ...(journal ? { journal } : {}),
      };
    }),
  );
  return {
    project: loaded.config.project,
    generatedAt: new Date().toISOString(),
    environments,
    stale: staleEnvironments(environments),
    exitCode: reportExitCode(environments),
  };
}

/** A cell whose section reads an unset environment variable: "needs PROD_REGION", nothing asked. */
function needsCell<T>(env: EnvironmentTarget, section: Section): Promise<Cell<T>> | undefined {
  const problem = sectionProblem(env, section);
  if (problem === undefined) return undefined;
  return Promise.resolve({ state: 'needs', reason: `needs ${(env.needs[section] ?? []).join(', ')}`, durationMs: 0 });
}

async function gitCell(repo: GitRepo, remote: string, branch: string, fetchProblem: string | undefined, signal: AbortSignal, timeoutMs: number): Promise<Cell<GitStatus>> {
  const result = await cell(signal, timeoutMs, async (): Promise<GitStatus> => {
    const localSha = await repo.resolve(`refs/heads/${branch}`);
    const remoteSha = await repo.resolve(`refs/remotes/${remote}/${branch}`);
    const { ahead, behind } = localSha && remoteSha ? await repo.aheadBehind(localSha, remoteSha) : { ahead: 0, behind: 0 };
    return {
      branch,
      ...(localSha ? { localSha } : {}),
      ...(remoteSha ? { remoteSha } : {}),
      ahead,
      behind,
      fetched: fetchProblem === undefined,
    };
  });
  // A failed fetch still shows the last known state, marked as such.
  return fetchProblem !== undefined && result.state === 'ok' && !fetchProblem.startsWith('not fetched')
    ? { ...result, state: 'unreachable', reason: `remote unreachable, showing the last fetched state: ${fetchProblem}` }
    : result;
}

async function promotionCell(
  loaded: LoadedConfig,
  repo: GitRepo,
  remote: string,
  env: EnvironmentTarget,
  resolved: Map<string, EnvironmentTarget>,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<Cell<PromotionStatus>> {
  return cell(signal, timeoutMs, async () => {
    const fromName = env.promoteFrom as string;
    const source = resolved.get(fromName);
    const fromBranch = source?.branch ?? fromName;
    const ref = async (branch: string): Promise<string> => (await repo.resolve(`refs/remotes/${remote}/${branch}`)) ? `refs/remotes/${remote}/${branch}` : `refs/heads/${branch}`;
    const commits = await repo.commitsBetween(await ref(env.branch), await ref(fromBranch));
    return {
      from: source?.name ?? fromName,
      fromBranch,
      pending: commits.length,
      commits: commits.slice(0, 10).map((c) => ({ shortSha: c.shortSha, subject: c.subject, author: c.author })),
      command: `iac promote ${fromBranch} ${env.branch}`,
    };
  });
}

async function jenkinsCell(env: EnvironmentTarget, options: GatherOptions, signal: AbortSignal): Promise<JenkinsStatus> {
  const settings = env.jenkins as NonNullable<EnvironmentTarget['jenkins']>;
  // A status screen answers quickly: one short retry, not the minute-long patience of `iac up`.
  const client = await connectJenkins(settings, options.env, options.secret, STATUS_RETRY);
  const job = jobOf(settings, env.branch);
  const { builds, inQueue, queueWhy } = await client.lastBuilds(job, 1, signal);
  const last = builds[0];
  return {
    job: describeJob(job),
    ...(last
      ? {
          last: {
            number: last.number,
            result: last.result,
            building: last.building,
            ...(last.timestamp !== undefined ? { timestamp: last.timestamp } : {}),
            ...(last.sha !== undefined ? { sha: last.sha } : {}),
            url: last.url,
          },
        }
      : {}),
    queued: inQueue,
    // Jenkins' own words, shown on the status screen: no control sequences, bounded.
    queueWhy: queueWhy === null ? null : remoteLine(queueWhy),
  };
}

/** One LIST per kind per namespace: environments sharing a cluster namespace are asked together. */
function gatherWorkloads(
  envs: EnvironmentTarget[],
  repo: GitRepo,
  remote: string,
  fetched: Promise<unknown>,
  signal: AbortSignal,
  timeoutMs: number,
): Map<string, Promise<Cell<WorkloadStatus[]>>> {
  const groups = new Map<string, EnvironmentTarget[]>();
  for (const env of envs) {
    const k = env.kubernetes;
    if (!k) continue;
    const key = JSON.stringify([k.kubeconfig ?? '', k.context ?? '', k.namespace, k.revisionAnnotation ?? '']);
    groups.set(key, [...(groups.get(key) ?? []), env]);
  }
  const byEnv = new Map<string, Promise<Cell<WorkloadStatus[]>>>();
  for (const group of groups.values()) {
    const k = group[0]?.kubernetes as NonNullable<EnvironmentTarget['kubernetes']>;
    const refs = [...new Set(group.flatMap((env) => env.kubernetes?.workloads ?? []))];
    const listed = cell(signal, timeoutMs, async (s) => {
      const { listWorkloads } = await import('../kube/list-workloads.js');
      return listWorkloads({
        ...kubeTarget(k),
        refs,
        ...(k.revisionAnnotation !== undefined ? { revisionAnnotation: k.revisionAnnotation } : {}),
        diagnosePods: true,
        signal: s,
      });
    });
    for (const env of group) {
      byEnv.set(
        env.name,
        listed.then(async (result) => {
          if (result.state !== 'ok' || !result.value) return { state: result.state, reason: result.reason ?? 'unknown', durationMs: result.durationMs };
          await fetched;
          const mine = result.value.filter((w) => env.kubernetes?.workloads.includes(w.ref));
          const value = await Promise.all(
            mine.map(async (w): Promise<WorkloadStatus> => {
              const behindHead = await commitsBehind(repo, w.revision, `refs/remotes/${remote}/${env.branch}`);
              return {
                ref: w.ref,
                found: w.found,
                ready: w.ready,
                desired: w.desired,
                message: w.podProblem ?? w.message,
                // The typed verdict decides (kubectl's semantics, pod problems): never the message's wording.
                state: w.state,
                ...(w.diagnosticsUnavailable !== undefined ? { diagnostics: w.diagnosticsUnavailable } : {}),
                ...(w.revision !== undefined ? { revision: w.revision } : {}),
                ...(behindHead !== undefined ? { behindHead } : {}),
              };
            }),
          );
          return { state: 'ok', value, durationMs: result.durationMs };
        }),
      );
    }
  }
  return byEnv;
}

/** "prod runs a1b2c3d, 3 commits behind main": only when the revision is a commit we know. */
async function commitsBehind(repo: GitRepo, revision: string | undefined, head: string): Promise<number | undefined> {
  if (!revision || !/^[0-9a-f]{7,40}$/.test(revision)) return undefined;
  try {
    if (!(await repo.resolve(revision)) || !(await repo.resolve(head))) return undefined;
    return (await repo.commitsBetween(revision, head)).length;
  } catch {
    return undefined;
  }
}

async function ec2Cell(env: EnvironmentTarget, signal: AbortSignal): Promise<Ec2Status> {
  const found = await findTaggedInstances(ec2DiscoveryOf(env) as Ec2Discovery, signal);
  const instances = found.map((i) => ({
    id: i.instanceId,
    ...(i.tags.Name ? { name: i.tags.Name } : {}),
    state: i.state,
    ...(i.privateIp ?? i.publicIp ? { address: (i.privateIp ?? i.publicIp) as string } : {}),
  }));
  const byState: Record<string, number> = {};
  for (const instance of instances) byState[instance.state] = (byState[instance.state] ?? 0) + 1;
  return { total: instances.length, byState, instances };
}

/** Pinned by a rollback, or a run that has not ended (running, or killed: unknown), from the journal. */
/** Who holds the environment's deploy lease now; unknown (not shown) when its store cannot be asked. */
async function leaseOf(env: EnvironmentTarget, signal: AbortSignal, timeoutMs: number): Promise<JournalStatus['lease']> {
  const result = await cell(signal, timeoutMs, async (s) => {
    const [{ leaseStoreFor }, { isExpired }] = await Promise.all([import('../lock/environment-lease.js'), import('../lock/lease.js')]);
    const store = await leaseStoreFor(env);
    const holder = (await store.read(s))?.holder;
    if (holder === undefined) return undefined;
    const { user, host, command, commit, since, run } = holder;
    return { user, host, command, commit, since, run, expired: isExpired(holder), where: store.where };
  });
  return result.value;
}

async function journalStatus(history: RunSummary[], env: EnvironmentTarget, repo: GitRepo, remote: string, lease: JournalStatus['lease']): Promise<JournalStatus | undefined> {
  const runs = history.filter((run) => run.environment === env.name);
  const newest = runs[0];
  const pinnedRun = pinnedBy(history, env.name);
  const status: JournalStatus = {};
  if (pinnedRun) {
    const head = `refs/remotes/${remote}/${env.branch}`;
    const ahead = (await repo.resolve(head)) !== undefined ? await repo.commitsBetween(pinnedRun.sha, head).then((c) => c.length, () => undefined) : undefined;
    status.pinned = { sha: pinnedRun.sha, time: pinnedRun.startedAt, user: pinnedRun.user, ...(pinnedRun.from ? { from: pinnedRun.from } : {}), ...(ahead !== undefined ? { branchAhead: ahead } : {}) };
  }
  if (newest && (newest.outcome === 'running' || newest.outcome === 'unknown')) {
    status.unfinished = {
      run: newest.run,
      command: newest.command,
      sha: newest.sha,
      state: newest.outcome,
      user: newest.user,
      host: newest.host,
      time: newest.startedAt,
      ...(newest.pending ? { pending: newest.pending.action } : {}),
    };
  }
  if (lease) status.lease = lease;
  return status.pinned || status.unfinished || status.lease ? status : undefined;
}

/** The newest promotion into each environment, from `.iac/promotions.ndjson`. */
function readLastPromotions(projectDir: string): Map<string, LastPromotion> {
  const file = join(projectDir, '.iac', 'promotions.ndjson');
  const last = new Map<string, LastPromotion>();
  if (!existsSync(file)) return last;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const record = JSON.parse(line) as { time: string; from: { branch: string }; to: { environment: string; before: string; after: string }; outcome: string };
      last.set(record.to.environment, { time: record.time, from: record.from.branch, before: record.to.before, after: record.to.after, outcome: record.outcome });
    } catch {
      // A torn last line (interrupted write) must not break status.
    }
  }
  return last;
}
