/**
 * Waits for every workload of an environment to roll out, in parallel, with kubectl's completion
 * semantics (rollout-status.ts) and better diagnostics (pod-diagnosis.ts). Watching only: per
 * workload one LIST + WATCH of the object (name field selector) and one of its pods (label
 * selector); judging is done by the pure functions.
 */
import { InterruptedError, RolloutError, UnreachableError, UsageError } from '../errors.js';
import { connectKube, type KubeClient } from './client.js';
import { listWatch } from './list-watch.js';
import { CRASH_LOOP_REASON, describeEvent, describeProblem, diagnosePod, recentWarnings, type PodProblem } from './pod-diagnosis.js';
import { PodFeed } from './pod-feed.js';
import { eventsPath, podLabelSelector, podLogPath, replicaSetsPath, workloadCollectionPath } from './resources.js';
import { RolloutStatusError, rolloutStatus } from './rollout-status.js';
import type { EventObject, ListObject, PodObject, WorkloadObject } from './types.js';
import { formatWorkloadRef, parseWorkloadRef, type WorkloadRef } from './workload-ref.js';

/**
 * `status`: kubectl's line for every ADDED/MODIFIED event of the workload (so repeats happen, exactly
 * as kubectl prints them; de-duplicate in the renderer if wanted). `diagnostic`: a pod of the new
 * revision entered a bad state, or one of its recent Warning events. `reconnect`: the watch
 * ended/dropped and resumes, or expired (410) and re-lists.
 */
export type RolloutEvent =
  | { type: 'status'; workload: string; message: string; done: boolean }
  | { type: 'diagnostic'; workload: string; pod: string; container?: string; reason: string; message?: string }
  | { type: 'reconnect'; workload: string; reason: string };

export interface RolloutOutcome {
  workload: string;
  /** kubectl's final message, e.g. `deployment "web" successfully rolled out`. */
  message: string;
  durationMs: number;
}

export interface WatchRolloutsOptions {
  kubeconfigPath?: string;
  context?: string;
  namespace: string;
  /** `deployment/web`, `sts/db`, … */
  workloads: string[];
  timeoutMs: number;
  /** How long a CrashLoopBackOff may last before the rollout fails. Default 60 s. */
  crashLoopGraceMs?: number;
  signal?: AbortSignal;
  onEvent: (event: RolloutEvent) => void;
  /** An already connected client (tests, or a caller that connected for several steps). */
  client?: KubeClient;
}

/** The rollout error for one workload; `workload` names it. */
export class WorkloadRolloutError extends RolloutError {
  constructor(
    kind: 'failed' | 'timeout',
    readonly workload: string,
    message: string,
    options: { hint?: string; details?: string[]; cause?: unknown } = {},
  ) {
    super(kind, message, options);
  }
}

const LOG_LINES = 20;

type Settle = { ok: true; message: string } | { ok: false; error: Error };

class WorkloadWatcher {
  readonly name: string;
  private readonly controller = new AbortController();
  private readonly started = Date.now();
  private latest: WorkloadObject | undefined;
  private lastMessage = '';
  private settled = false;
  private resolveSettled!: (result: Settle) => void;
  readonly result: Promise<Settle> = new Promise((resolve) => (this.resolveSettled = resolve));
  private readonly problems = new Map<string, PodProblem>();
  private readonly crashLoopTimers = new Map<string, NodeJS.Timeout>();
  private readonly warningsFetched = new Set<string>();
  private podWatchStarted = false;
  private newReplicaSet: { revision: string; name: string | undefined } | undefined;

  constructor(
    private readonly client: KubeClient,
    private readonly ref: WorkloadRef,
    private readonly namespace: string,
    private readonly crashLoopGraceMs: number,
    private readonly emit: (event: RolloutEvent) => void,
    private readonly podFeed: PodFeed,
  ) {
    this.name = formatWorkloadRef(ref);
  }

  private finishedAt: number | undefined;

  get durationMs(): number {
    return (this.finishedAt ?? Date.now()) - this.started;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  start(): void {
    const path = workloadCollectionPath(this.ref.kind, this.namespace);
    listWatch<WorkloadObject>(
      this.client,
      path,
      { fieldSelector: `metadata.name=${this.ref.name}` },
      {
        onList: (items, relisted) => {
          const object = items[0];
          if (object === undefined) {
            this.fail(
              relisted ? `${this.name} was deleted while rolling out` : `${this.name} not found in namespace ${this.namespace}`,
              `kubectl get ${this.ref.kind} -n ${this.namespace}`,
            );
          } else this.judge(object);
        },
        onEvent: (type, object) => {
          if (type === 'DELETED') this.fail(`${this.name} was deleted while rolling out (object has been deleted)`, `kubectl get ${this.ref.kind} -n ${this.namespace}`);
          else this.judge(object);
        },
        onReconnect: (reason) => this.emit({ type: 'reconnect', workload: this.name, reason }),
      },
      this.signal,
    ).catch((error: unknown) => this.crash(error));
  }

  /** Ends the watcher without a verdict of its own (another workload failed, deadline, Ctrl-C). */
  stop(): void {
    this.settled = true;
    for (const timer of this.crashLoopTimers.values()) clearTimeout(timer);
    this.controller.abort();
  }

  private crash(error: unknown): void {
    if (this.settled || error instanceof InterruptedError) return;
    this.settle({ ok: false, error: error instanceof Error ? error : new Error(String(error)) });
  }

  private settle(result: Settle): void {
    if (this.settled) return;
    this.finishedAt = Date.now();
    this.stop();
    this.resolveSettled(result);
  }

  private judge(object: WorkloadObject): void {
    if (this.settled) return;
    this.latest = object;
    try {
      const status = rolloutStatus(this.ref.kind, object);
      this.lastMessage = status.message;
      this.emit({ type: 'status', workload: this.name, message: status.message, done: status.done });
      if (status.done) this.settle({ ok: true, message: status.message });
      else this.startPodWatch(object);
    } catch (error) {
      if (!(error instanceof RolloutStatusError)) {
        this.crash(error);
        return;
      }
      this.lastMessage = error.message;
      void this.failWithDetails(error.message, error.hint, [...this.problems.values()]);
    }
  }

  private startPodWatch(object: WorkloadObject): void {
    if (this.podWatchStarted) return;
    const selector = podLabelSelector(this.ref.kind, object);
    if (selector === undefined) return;
    this.podWatchStarted = true;
    this.podFeed.subscribe({
      selector,
      onPod: (pod) => {
        if (!this.settled) void this.inspectPod(pod);
      },
      onDeleted: (name) => this.forgetProblem(name),
      onError: (error) => this.crash(error),
    });
  }

  /** Is this pod part of the revision being rolled out (old pods' troubles are not ours)? */
  private async isNewRevisionPod(pod: PodObject): Promise<boolean> {
    const latest = this.latest;
    if (latest === undefined) return true;
    const labels = pod.metadata?.labels ?? {};
    if (this.ref.kind === 'statefulset') {
      const update = latest.status?.updateRevision;
      return update === undefined || labels['controller-revision-hash'] === undefined || labels['controller-revision-hash'] === update;
    }
    if (this.ref.kind === 'deploymentconfig') {
      const version = latest.status?.latestVersion;
      return version === undefined || labels.deployment === undefined || labels.deployment === `${this.ref.name}-${version}`;
    }
    if (this.ref.kind !== 'deployment') return true;
    const owner = pod.metadata?.ownerReferences?.find((reference) => reference.controller === true && reference.kind === 'ReplicaSet');
    const newName = await this.newReplicaSetName(latest);
    return newName === undefined || owner === undefined || owner.name === newName;
  }

  /** The ReplicaSet whose revision annotation equals the Deployment's (one LIST per revision). */
  private async newReplicaSetName(deployment: WorkloadObject): Promise<string | undefined> {
    const revision = deployment.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? '';
    if (this.newReplicaSet?.revision === revision) return this.newReplicaSet.name;
    const selector = podLabelSelector('deployment', deployment);
    try {
      const list = await this.client.getJson<ListObject<WorkloadObject>>(replicaSetsPath(this.namespace), { labelSelector: selector }, this.signal);
      const found = (list.items ?? []).find(
        (rs) =>
          rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] === revision &&
          (rs.metadata?.ownerReferences ?? []).some((owner) => owner.kind === 'Deployment' && owner.name === this.ref.name),
      );
      this.newReplicaSet = { revision, name: found?.metadata?.name };
    } catch {
      this.newReplicaSet = { revision, name: undefined }; // diagnostics only: judge every pod
    }
    return this.newReplicaSet.name;
  }

  private forgetProblem(pod: string): void {
    this.problems.delete(pod);
    const timer = this.crashLoopTimers.get(pod);
    if (timer !== undefined) clearTimeout(timer);
    this.crashLoopTimers.delete(pod);
  }

  private async inspectPod(pod: PodObject): Promise<void> {
    const name = pod.metadata?.name ?? '';
    const problem = diagnosePod(pod);
    if (problem === undefined) {
      this.forgetProblem(name);
      return;
    }
    if (!(await this.isNewRevisionPod(pod)) || this.settled) return;
    const previous = this.problems.get(name);
    this.problems.set(name, problem);
    if (previous?.reason !== problem.reason) {
      this.emit({
        type: 'diagnostic',
        workload: this.name,
        pod: name,
        ...(problem.container === undefined ? {} : { container: problem.container }),
        reason: problem.reason,
        ...(problem.message === undefined ? {} : { message: problem.message }),
      });
      void this.emitWarnings(name);
    }
    if (problem.severity === 'fatal') {
      void this.failWithDetails(`${this.name} failed: ${describeProblem(problem)}`, `kubectl describe pod ${name} -n ${this.namespace}`, [problem]);
    } else if (problem.severity === 'crashloop' && !this.crashLoopTimers.has(name)) {
      this.crashLoopTimers.set(
        name,
        setTimeout(() => {
          const current = this.problems.get(name);
          if (current?.reason === CRASH_LOOP_REASON) {
            void this.failWithDetails(`${this.name} failed: ${describeProblem(current)}`, `kubectl logs ${name} -n ${this.namespace} --previous`, [current]);
          }
        }, this.crashLoopGraceMs),
      );
    } else if (problem.severity !== 'crashloop') {
      const timer = this.crashLoopTimers.get(name);
      if (timer !== undefined) clearTimeout(timer);
      this.crashLoopTimers.delete(name);
    }
  }

  private async podWarnings(pod: string): Promise<EventObject[]> {
    try {
      const list = await this.client.getJson<ListObject<EventObject>>(
        eventsPath(this.namespace),
        { fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${pod}` },
        this.signal,
      );
      return recentWarnings(list.items ?? []);
    } catch {
      return [];
    }
  }

  /** "Recent Warning events" while waiting, once per pod. */
  private async emitWarnings(pod: string): Promise<void> {
    if (this.warningsFetched.has(pod)) return;
    this.warningsFetched.add(pod);
    for (const event of await this.podWarnings(pod)) {
      if (this.settled) return;
      this.emit({ type: 'diagnostic', workload: this.name, pod, reason: event.reason ?? 'Warning', ...(event.message ? { message: event.message } : {}) });
    }
  }

  private fail(message: string, hint: string): void {
    this.settle({ ok: false, error: new WorkloadRolloutError('failed', this.name, message, { hint }) });
  }

  private failing = false;

  private async failWithDetails(message: string, hint: string | undefined, problems: PodProblem[]): Promise<void> {
    if (this.settled || this.failing) return;
    this.failing = true;
    const details = await this.collectDetails(problems);
    this.settle({ ok: false, error: new WorkloadRolloutError('failed', this.name, message, { ...(hint === undefined ? {} : { hint }), details }) });
  }

  /** Per failing pod: reason, message, last termination, last log lines, events. */
  async collectDetails(problems: PodProblem[]): Promise<string[]> {
    const lines: string[] = [];
    for (const problem of problems) {
      lines.push(`pod ${problem.pod}${problem.container ? ` container ${problem.container}` : ''}: ${problem.reason}${problem.message ? ` — ${problem.message}` : ''}`);
      if (problem.lastTermination) lines.push(`  last termination: ${problem.lastTermination}`);
      if (problem.container !== undefined) {
        try {
          const previous = problem.reason === CRASH_LOOP_REASON ? { previous: 'true' } : {};
          const text = await this.client.getText(
            podLogPath(this.namespace, problem.pod),
            { container: problem.container, tailLines: String(LOG_LINES), ...previous },
            this.controller.signal.aborted ? undefined : this.signal,
          );
          const logLines = text.split('\n').filter((line, index, all) => line !== '' || index < all.length - 1).slice(-LOG_LINES);
          lines.push(logLines.length === 0 ? '  logs: (empty)' : `  last ${logLines.length} log lines of ${problem.container}:`);
          for (const line of logLines) lines.push(`    | ${line}`);
        } catch (error) {
          lines.push(`  logs: unavailable (${(error as Error).message})`);
        }
      }
      const warnings = await this.podWarnings(problem.pod);
      if (warnings.length > 0) lines.push('  events:');
      for (const event of warnings) lines.push(`    ${describeEvent(event)}`);
    }
    return lines;
  }

  /** Called at the deadline: a timeout verdict with whatever is known. */
  async timeOut(timeoutMs: number): Promise<void> {
    if (this.settled) return;
    const problems = [...this.problems.values()];
    const details = await this.collectDetails(problems).catch(() => []);
    const seconds = Math.round(timeoutMs / 1000);
    this.settle({
      ok: false,
      error: new WorkloadRolloutError(
        'timeout',
        this.name,
        `${this.name} did not finish rolling out within ${seconds}s: ${this.lastMessage || 'no status yet'}`,
        { hint: `kubectl rollout status ${this.name} -n ${this.namespace}`, details },
      ),
    });
  }
}

function precedence(error: Error): number {
  if (error instanceof UnreachableError) return 0;
  if (error instanceof RolloutError) return error.exitCode === 40 ? 1 : 2;
  return 3;
}

/**
 * Resolves with one outcome per workload once all have rolled out; rejects with the first
 * failure (RolloutError 40 — the other watchers are stopped at once), a timeout (41), an
 * UnreachableError (4) or InterruptedError (signal).
 */
export async function watchRollouts(options: WatchRolloutsOptions): Promise<RolloutOutcome[]> {
  const refs = options.workloads.map((text) => {
    const parsed = parseWorkloadRef(text);
    if (!parsed.ok) throw new UsageError('kube.workload-ref', parsed.error, parsed.suggestion === undefined ? {} : { hint: `use ${parsed.suggestion}` });
    return parsed.ref;
  });
  if (options.signal?.aborted) throw new InterruptedError();
  const client =
    options.client ??
    (await connectKube({ kubeconfigPath: options.kubeconfigPath, context: options.context, namespace: options.namespace }));
  const pods = new AbortController();
  const podFeed = new PodFeed(client, options.namespace, pods.signal);
  const watchers = refs.map((ref) => new WorkloadWatcher(client, ref, options.namespace, options.crashLoopGraceMs ?? 60_000, options.onEvent, podFeed));
  const stopAll = (): void => {
    watchers.forEach((watcher) => watcher.stop());
    pods.abort();
  };
  const onAbort = (): void => stopAll();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const deadline = setTimeout(() => watchers.forEach((watcher) => void watcher.timeOut(options.timeoutMs)), options.timeoutMs);
  try {
    const firstFailure = new Promise<Error>((resolve) => {
      for (const watcher of watchers) void watcher.result.then((result) => !result.ok && resolve(result.error));
    });
    const interrupted = new Promise<'interrupted'>((resolve) => {
      if (options.signal === undefined) return;
      options.signal.addEventListener('abort', () => resolve('interrupted'), { once: true });
    });
    for (const watcher of watchers) watcher.start();
    const all = Promise.all(watchers.map((watcher) => watcher.result));
    const winner = await Promise.race([all, firstFailure, interrupted]);
    if (winner === 'interrupted') throw new InterruptedError();
    if (winner instanceof Error) {
      // Fail fast: stop the others, but prefer the most specific error among those settled now.
      stopAll();
      const settledNow = await Promise.race([all, new Promise<undefined>((resolve) => setImmediate(() => resolve(undefined)))]);
      const errors = (settledNow ?? []).flatMap((result) => (result.ok ? [] : [result.error]));
      errors.push(winner);
      throw errors.sort((a, b) => precedence(a) - precedence(b))[0] as Error;
    }
    return winner.map((result, index) => ({
      workload: (watchers[index] as WorkloadWatcher).name,
      message: result.ok ? result.message : '',
      durationMs: (watchers[index] as WorkloadWatcher).durationMs,
    }));
  } finally {
    clearTimeout(deadline);
    options.signal?.removeEventListener('abort', onAbort);
    stopAll();
  }
}
