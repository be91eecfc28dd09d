/**
 * Waits for every workload of an environment to roll out, in parallel, with kubectl's completion
 * semantics and the run's commit (verdict.ts), and better diagnostics (pod-diagnosis.ts).
 * Watching only: one LIST + WATCH per kind per namespace, shared by all workloads of that kind
 * (feed.ts), and one shared pod stream for diagnostics; judging is done by the pure functions.
 */
import { InterruptedError, RolloutError, UnreachableError, UsageError } from '../errors.js';
import { connectKube, KubeApiError, type KubeClient } from './client.js';
import { FeedSet, type SharedFeed } from './feed.js';
import { kubectlHint, type KubeCli } from './kubectl-argv.js';
import { CRASH_LOOP_REASON, describeEvent, describeProblem, diagnosePod, recentWarnings, type PodProblem } from './pod-diagnosis.js';
import { remoteLine } from './remote-text.js';
import { eventsPath, matchesSelector, podLabelSelector, podLogPath, podsPath, replicaSetsPath, workloadCollectionPath } from './resources.js';
import { shortRevision, workloadImages, type ExpectedRevision } from './revision.js';
import { listAll } from './list-watch.js';
import type { EventObject, PodObject, WorkloadObject } from './types.js';
import { judgeWorkload, newRevisionHistory, type RevisionHistory, type WorkloadVerdict } from './verdict.js';
import { formatWorkloadRef, parseWorkloadRef, type WorkloadRef } from './workload-ref.js';

/**
 * `status`: one per ADDED/MODIFIED event of the workload while it is not failing (kubectl's line,
 * repeats included, exactly as kubectl prints them — or iac's "web runs 89a72f5, waiting for
 * 3472e6a" while the run's commit is not applied yet); `verdict` is the typed judgement.
 * `diagnostic`: a pod of the new revision entered a bad state, or one of its recent Warning events.
 * `reconnect`: the watch ended/dropped and resumes, expired (410) and re-lists, or a failing
 * request is retried. `warning`: something iac cannot check, said once (no readable revision;
 * no permission for a diagnostic resource).
 */
export type RolloutEvent =
  | { type: 'status'; workload: string; message: string; done: boolean; verdict: WorkloadVerdict }
  | { type: 'diagnostic'; workload: string; pod: string; container?: string; reason: string; message?: string }
  | { type: 'reconnect'; workload: string; reason: string }
  | { type: 'warning'; code: 'revision-unknown' | 'diagnostics-forbidden'; workloads: string[]; message: string; hint?: string };

export interface RolloutOutcome {
  workload: string;
  /** The final message, e.g. kubectl's `deployment "web" successfully rolled out`. */
  message: string;
  durationMs: number;
  /** The verdict the workload finished with. */
  verdict: WorkloadVerdict | undefined;
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
  /**
   * The run's commit (full SHA). When given, a workload is done only when kubectl says so AND its
   * pod template runs this commit (image tag = SHA or a prefix of ≥ 7, or `revisionAnnotation`).
   */
  expectedRevision?: string;
  /** Annotation (on the workload or its pod template) that holds the deployed commit. */
  revisionAnnotation?: string;
  /** Shortest unique prefix of the SHA in the repository (`git rev-parse --short`); default 7. */
  uniquePrefixLength?: number;
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
const LOG_MAX_BYTES = 64 * 1024;

type Settle = { ok: true; verdict: WorkloadVerdict } | { ok: false; error: Error };

/** What watchers share: the client, the feeds, and the warnings said once per wait. */
interface WaitContext {
  client: KubeClient;
  namespace: string;
  feeds: FeedSet;
  expected: ExpectedRevision | undefined;
  crashLoopGraceMs: number;
  emit(event: RolloutEvent): void;
  /** Says a warning once per key. */
  warnOnce(key: string, event: Extract<RolloutEvent, { type: 'warning' }>): void;
  /** A watcher's first verdict (the revision warning waits for all of them). */
  firstVerdict(watcher: WorkloadWatcher, verdict: WorkloadVerdict): void;
}

/** Diagnostics (pods, events, logs, replicasets) the user may not read: one warning, then without them. */
function isForbidden(error: unknown): error is KubeApiError {
  return error instanceof KubeApiError && (error.statusCode === 403 || error.statusCode === 401);
}

class WorkloadWatcher {
  readonly name: string;
  private readonly started = Date.now();
  private finishedAt: number | undefined;
  private latest: WorkloadObject | undefined;
  private lastVerdict: WorkloadVerdict | undefined;
  private seen = false;
  private settled = false;
  private failing = false;
  private resolveSettled!: (result: Settle) => void;
  readonly result: Promise<Settle> = new Promise((resolve) => (this.resolveSettled = resolve));
  private readonly problems = new Map<string, PodProblem>();
  private readonly crashLoopTimers = new Map<string, NodeJS.Timeout>();
  private readonly warningsFetched = new Set<string>();
  private podWatchStarted = false;
  private newReplicaSet: { revision: string; name: string | undefined } | undefined;
  private readonly history: RevisionHistory = newRevisionHistory();
  private readonly unsubscribe: Array<() => void> = [];
  private readonly feed: SharedFeed<WorkloadObject>;
  private readonly abort = new AbortController();

  constructor(
    private readonly ref: WorkloadRef,
    private readonly wait: WaitContext,
  ) {
    this.name = formatWorkloadRef(ref);
    this.feed = wait.feeds.feed<WorkloadObject>(workloadCollectionPath(ref.kind, wait.namespace), `${ref.kind}s in ${wait.namespace}`);
  }

  get durationMs(): number {
    return (this.finishedAt ?? Date.now()) - this.started;
  }

  get verdict(): WorkloadVerdict | undefined {
    return this.lastVerdict;
  }

  private hint(args: string[], cli: KubeCli = 'kubectl'): string {
    return kubectlHint(this.wait.client.target, args, { cli });
  }

  start(): void {
    this.unsubscribe.push(
      this.feed.subscribe({
        matches: (object) => object.metadata?.name === this.ref.name,
        onObject: (object) => this.judge(object),
        onDeleted: () => this.fail(`${this.name} was deleted while rolling out (object has been deleted)`, this.hint(['get', this.ref.kind])),
        onSynced: (relisted) => {
          if (!this.seen && !relisted) this.fail(`${this.name} not found in namespace ${this.wait.namespace}`, this.hint(['get', this.ref.kind]));
        },
        onReconnect: (reason) => this.wait.emit({ type: 'reconnect', workload: this.name, reason }),
        onError: (error) => this.crash(error),
      }),
    );
  }

  /** Ends the watcher without a verdict of its own (another workload failed, deadline, Ctrl-C). */
  stop(): void {
    this.settled = true;
    for (const timer of this.crashLoopTimers.values()) clearTimeout(timer);
    for (const unsubscribe of this.unsubscribe.splice(0)) unsubscribe();
    this.abort.abort();
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
    const first = !this.seen;
    this.seen = true;
    this.latest = object;
    let verdict: WorkloadVerdict;
    try {
      verdict = judgeWorkload(this.ref, object, { ...(this.wait.expected ? { expected: this.wait.expected } : {}), history: this.history });
    } catch (error) {
      // Fields of the wrong type (kubectl would fail its conversion too): the server's answer, not a bug here.
      this.crash(new UnreachableError('kube.bad-answer', `${this.name}: the Kubernetes API sent an object iac cannot read (${remoteLine((error as Error).message, 200)})`, { hint: this.hint(['get', this.ref.kind, this.ref.name, '-o', 'yaml']) }));
      return;
    }
    verdict.message = remoteLine(verdict.message);
    const previous = this.lastVerdict;
    this.lastVerdict = verdict;
    if (first) this.wait.firstVerdict(this, verdict);
    else if (verdict.revision.state === 'unknown' && previous !== undefined && previous.revision.state !== 'unknown') this.warnRevisionUnknown([this]);
    if (verdict.state === 'failing') {
      void this.failWithDetails(this.failureMessage(verdict), this.failureHint(verdict), [...this.problems.values()]);
      return;
    }
    this.wait.emit({ type: 'status', workload: this.name, message: verdict.message, done: verdict.state === 'ready', verdict });
    if (verdict.state === 'ready') this.settle({ ok: true, verdict });
    // Pods of an older commit are not ours to diagnose: only once our template (or an unreadable one) is in place.
    else if (verdict.revision.state !== 'previous') this.startPodWatch(object);
  }

  warnRevisionUnknown(watchers: WorkloadWatcher[]): void {
    const expected = this.wait.expected;
    if (expected === undefined) return;
    const names = watchers.map((w) => w.name);
    const images = watchers.flatMap((w) => (w.latest ? workloadImages(w.latest) : []));
    this.wait.warnOnce(`revision-unknown:${names.join(',')}`, {
      type: 'warning',
      code: 'revision-unknown',
      workloads: names,
      message:
        `iac cannot tell which commit ${names.join(', ')} ${names.length === 1 ? 'runs' : 'run'}` +
        `${images.length > 0 ? ` (image${images.length === 1 ? '' : 's'} ${[...new Set(images)].map((i) => remoteLine(i, 200)).join(', ')})` : ''}: ` +
        `judged by kubectl's rules only. To check the commit too, tag images with the commit SHA (e.g. :${shortRevision(expected.sha)}) ` +
        'or set kubernetes.revisionAnnotation to an annotation that holds it',
    });
  }

  private failureMessage(verdict: WorkloadVerdict): string {
    if (verdict.revision.state === 'moved') return `${this.name} ${verdict.message.slice(this.ref.name.length + 1)}: another deploy changed it`;
    return verdict.kubectl.error?.message !== undefined ? remoteLine(verdict.kubectl.error.message) : verdict.message;
  }

  private failureHint(verdict: WorkloadVerdict): string | undefined {
    const { kind, name } = this.ref;
    if (verdict.revision.state === 'moved') return kind === 'deploymentconfig' ? this.hint(['rollout', 'history', `dc/${name}`], 'oc') : this.hint(['rollout', 'history', `${kind}/${name}`]);
    switch (verdict.kubectl.error?.reason) {
      case 'ProgressDeadlineExceeded':
        return kind === 'deploymentconfig' ? this.hint(['describe', `dc/${name}`], 'oc') : this.hint(['describe', kind, name]);
      case 'UnsupportedStrategy':
        return this.hint(['get', 'pods', '-l', podLabelSelector(kind, this.latest ?? {}) ?? `app=${name}`, '-w']);
      case 'RolloutCancelled':
      case 'ManualUpdateRequired':
        return this.hint(['rollout', 'latest', `dc/${name}`], 'oc');
      case 'Paused':
        return this.hint(['rollout', 'resume', `dc/${name}`], 'oc');
      default:
        return this.hint(['describe', kind, name]);
    }
  }

  private startPodWatch(object: WorkloadObject): void {
    if (this.podWatchStarted) return;
    const selector = podLabelSelector(this.ref.kind, object);
    if (selector === undefined) return;
    this.podWatchStarted = true;
    const pods = this.wait.feeds.feed<PodObject>(podsPath(this.wait.namespace), `pods in ${this.wait.namespace}`);
    this.unsubscribe.push(
      pods.subscribe({
        matches: (pod) => matchesSelector(selector, pod.metadata?.labels),
        onObject: (pod) => {
          if (!this.settled) this.inspectPod(pod).catch(() => undefined); // diagnostics only: an unreadable pod is skipped
        },
        onDeleted: (pod) => this.forgetProblem(pod.metadata?.name ?? ''),
        onError: (error) => {
          if (error instanceof KubeApiError && error.statusCode < 500 && error.statusCode !== 429) this.diagnosticsForbidden('pods', error);
          else this.crash(error);
        },
      }),
    );
  }

  /** Pods, events, logs or replicasets may not be readable: the rollout is judged without them. */
  private diagnosticsForbidden(resource: string, error: KubeApiError): void {
    this.wait.warnOnce(`forbidden:${resource}`, {
      type: 'warning',
      code: 'diagnostics-forbidden',
      workloads: [this.name],
      message: `cannot read ${resource} in ${this.wait.namespace} (${error.statusCode} ${error.reason ?? ''}`.trimEnd() + `): the rollout is judged without ${resource === 'pods' ? 'pod diagnostics' : resource}`,
      hint: this.hint(['auth', 'can-i', resource === 'pods/log' ? 'get' : 'list', resource]),
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
      const { items } = await listAll<WorkloadObject>(this.wait.client, replicaSetsPath(this.wait.namespace), { labelSelector: selector }, this.abort.signal);
      const found = items.find(
        (rs) =>
          rs.metadata?.annotations?.['deployment.kubernetes.io/revision'] === revision &&
          (rs.metadata?.ownerReferences ?? []).some((owner) => owner.kind === 'Deployment' && owner.name === this.ref.name),
      );
      this.newReplicaSet = { revision, name: found?.metadata?.name };
    } catch (error) {
      if (isForbidden(error)) this.diagnosticsForbidden('replicasets', error);
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
    const found = diagnosePod(pod);
    if (found === undefined) {
      this.forgetProblem(name);
      return;
    }
    if (!(await this.isNewRevisionPod(pod)) || this.settled) return;
    const problem: PodProblem = {
      ...found,
      reason: remoteLine(found.reason, 100),
      ...(found.message === undefined ? {} : { message: remoteLine(found.message) }),
      ...(found.lastTermination === undefined ? {} : { lastTermination: remoteLine(found.lastTermination) }),
      ...(found.image === undefined ? {} : { image: remoteLine(found.image, 300) }),
    };
    const previous = this.problems.get(name);
    this.problems.set(name, problem);
    if (previous?.reason !== problem.reason) {
      this.wait.emit({
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
      void this.failWithDetails(`${this.name} failed: ${describeProblem(problem)}`, this.hint(['describe', 'pod', name]), [problem]);
    } else if (problem.severity === 'crashloop' && !this.crashLoopTimers.has(name)) {
      this.crashLoopTimers.set(
        name,
        setTimeout(() => {
          const current = this.problems.get(name);
          if (current?.reason === CRASH_LOOP_REASON) {
            void this.failWithDetails(`${this.name} failed: ${describeProblem(current)}`, this.hint(['logs', name, '--previous']), [current]);
          }
        }, this.wait.crashLoopGraceMs),
      );
    } else if (problem.severity !== 'crashloop') {
      const timer = this.crashLoopTimers.get(name);
      if (timer !== undefined) clearTimeout(timer);
      this.crashLoopTimers.delete(name);
    }
  }

  private async podWarnings(pod: string): Promise<EventObject[]> {
    try {
      const { items } = await listAll<EventObject>(
        this.wait.client,
        eventsPath(this.wait.namespace),
        { fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${pod}` },
        this.abort.signal.aborted ? undefined : this.abort.signal,
      );
      return recentWarnings(items);
    } catch (error) {
      if (isForbidden(error)) this.diagnosticsForbidden('events', error);
      return [];
    }
  }

  /** "Recent Warning events" while waiting, once per pod. */
  private async emitWarnings(pod: string): Promise<void> {
    if (this.warningsFetched.has(pod)) return;
    this.warningsFetched.add(pod);
    for (const event of await this.podWarnings(pod)) {
      if (this.settled) return;
      this.wait.emit({
        type: 'diagnostic',
        workload: this.name,
        pod,
        reason: remoteLine(event.reason ?? 'Warning', 100),
        ...(event.message ? { message: remoteLine(event.message) } : {}),
      });
    }
  }

  private fail(message: string, hint: string): void {
    this.settle({ ok: false, error: new WorkloadRolloutError('failed', this.name, message, { hint }) });
  }

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
          const text = await this.wait.client.getText(
            podLogPath(this.wait.namespace, problem.pod),
            { container: problem.container, tailLines: String(LOG_LINES), limitBytes: String(LOG_MAX_BYTES), ...previous },
            undefined,
            { maxBytes: LOG_MAX_BYTES * 2 },
          );
          const logLines = text.split('\n').filter((line, index, all) => line !== '' || index < all.length - 1).slice(-LOG_LINES);
          lines.push(logLines.length === 0 ? '  logs: (empty)' : `  last ${logLines.length} log lines of ${problem.container}:`);
          for (const line of logLines) lines.push(`    | ${remoteLine(line, 500)}`);
        } catch (error) {
          if (isForbidden(error)) this.diagnosticsForbidden('pods/log', error);
          lines.push(`  logs: unavailable (${remoteLine((error as Error).message, 300)})`);
        }
      }
      const warnings = await this.podWarnings(problem.pod);
      if (warnings.length > 0) lines.push('  events:');
      for (const event of warnings) lines.push(`    ${remoteLine(describeEvent(event))}`);
    }
    return lines;
  }

  /** Called at the deadline: a timeout verdict with whatever is known. */
  async timeOut(timeoutMs: number): Promise<void> {
    if (this.settled) return;
    const seconds = Math.round(timeoutMs / 1000);
    // The API failing right now: the outcome is unknown, not late.
    const failure = this.feed.currentFailure;
    if (failure !== undefined) {
      this.settle({
        ok: false,
        error: new UnreachableError('kube.unavailable', `${this.name}: the Kubernetes API was still failing at the deadline (${seconds}s): ${remoteLine(failure.message)}`, {
          hint: this.hint(['cluster-info'], 'kubectl'),
        }),
      });
      return;
    }
    const verdict = this.lastVerdict;
    if (verdict?.revision.state === 'previous') {
      const { running, expected } = verdict.revision;
      this.settle({
        ok: false,
        error: new WorkloadRolloutError(
          'timeout',
          this.name,
          `${this.name} still runs ${shortRevision(running)}, not ${expected}, after ${seconds}s: the manifest for ${expected} was most likely never applied ` +
            '(check the playbook task or GitOps agent that applies it)',
          { hint: this.hint(['get', this.ref.kind, this.ref.name, '-o', 'jsonpath={.spec.template.spec.containers[*].image}']) },
        ),
      });
      return;
    }
    const problems = [...this.problems.values()];
    const details = await this.collectDetails(problems).catch(() => []);
    this.settle({
      ok: false,
      error: new WorkloadRolloutError(
        'timeout',
        this.name,
        `${this.name} did not finish rolling out within ${seconds}s: ${verdict?.message || 'no status yet'}`,
        {
          hint: this.ref.kind === 'deploymentconfig' ? this.hint(['rollout', 'status', `dc/${this.ref.name}`], 'oc') : this.hint(['rollout', 'status', this.name]),
          details,
        },
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
 * Resolves with one outcome per workload once all have rolled out (and run the expected commit);
 * rejects with the first failure (RolloutError 40 — the other watchers are stopped at once), a
 * timeout (41), an UnreachableError (4) or InterruptedError (signal).
 */
export async function watchRollouts(options: WatchRolloutsOptions): Promise<RolloutOutcome[]> {
  const refs = options.workloads.map((text) => {
    const parsed = parseWorkloadRef(text);
    if (!parsed.ok) throw new UsageError('kube.workload-ref', parsed.error, parsed.suggestion === undefined ? {} : { hint: `use ${parsed.suggestion}` });
    return parsed.ref;
  });
  if (options.expectedRevision !== undefined && !/^[0-9a-f]{40}([0-9a-f]{24})?$/i.test(options.expectedRevision)) {
    throw new UsageError('kube.expected-revision', `the expected revision must be a full commit SHA, not "${options.expectedRevision}"`);
  }
  if (options.signal?.aborted) throw new InterruptedError();
  const started = Date.now();
  const ownClient = options.client === undefined;
  const client =
    options.client ?? (await connectKube({ kubeconfigPath: options.kubeconfigPath, context: options.context, namespace: options.namespace }));
  const streams = new AbortController();
  const warned = new Set<string>();
  const firstVerdicts = new Set<WorkloadWatcher>();
  const expected: ExpectedRevision | undefined =
    options.expectedRevision === undefined
      ? undefined
      : {
          sha: options.expectedRevision.toLowerCase(),
          ...(options.revisionAnnotation !== undefined ? { annotation: options.revisionAnnotation } : {}),
          ...(options.uniquePrefixLength !== undefined ? { minPrefixLength: options.uniquePrefixLength } : {}),
        };
  const watchers: WorkloadWatcher[] = [];
  const wait: WaitContext = {
    client,
    namespace: options.namespace,
    feeds: new FeedSet(client, streams.signal, started + options.timeoutMs),
    expected,
    crashLoopGraceMs: options.crashLoopGraceMs ?? 60_000,
    emit: options.onEvent,
    warnOnce(key, event) {
      if (warned.has(key)) return;
      warned.add(key);
      options.onEvent(event);
    },
    firstVerdict(watcher) {
      firstVerdicts.add(watcher);
      // One warning for every workload whose commit cannot be read, once all have been seen.
      if (firstVerdicts.size !== watchers.length) return;
      const unknown = watchers.filter((w) => w.verdict?.revision.state === 'unknown');
      if (unknown.length > 0) unknown[0]?.warnRevisionUnknown(unknown);
    },
  };
  watchers.push(...refs.map((ref) => new WorkloadWatcher(ref, wait)));
  const stopAll = (): void => {
    watchers.forEach((watcher) => watcher.stop());
    streams.abort();
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
    return winner.map((result, index) => {
      const watcher = watchers[index] as WorkloadWatcher;
      return { workload: watcher.name, message: result.ok ? result.verdict.message : '', durationMs: watcher.durationMs, verdict: result.ok ? result.verdict : undefined };
    });
  } finally {
    clearTimeout(deadline);
    options.signal?.removeEventListener('abort', onAbort);
    stopAll();
    if (ownClient) client.close();
  }
}
