/**
 * Workload health for `iac status`: ONE LIST per kind per namespace (never one GET per workload),
 * judged with the same typed verdict as the rollout wait (verdict.ts), plus the revision running.
 */
import { UsageError } from '../errors.js';
import { connectKube, KubeApiError, type KubeClient } from './client.js';
import { listAll } from './list-watch.js';
import { diagnosePod, describeProblem, type PodProblem } from './pod-diagnosis.js';
import { remoteLine } from './remote-text.js';
import { matchesSelector, podLabelSelector, podsPath, workloadCollectionPath } from './resources.js';
import { withRetry } from './retry.js';
import { runningRevision, workloadImages } from './revision.js';
import type { PodObject, WorkloadObject } from './types.js';
import { judgeWorkload, type WorkloadState, type WorkloadVerdict } from './verdict.js';
import { parseWorkloadRef, type WorkloadKind, type WorkloadRef } from './workload-ref.js';

export interface ListWorkloadsOptions {
  kubeconfigPath?: string;
  context?: string;
  namespace: string;
  /** `deployment/web`, `sts/db`, … */
  refs: string[];
  /** Annotation holding the deployed revision; default: the first container's image tag. */
  revisionAnnotation?: string;
  /** When a workload is not rolled out, also LIST the namespace's pods once and name what is wrong. */
  diagnosePods?: boolean;
  /** How long 5xx/429 answers are retried. Default 3 s (a status screen answers quickly). */
  retryForMs?: number;
  signal?: AbortSignal;
  client?: KubeClient;
}

export interface WorkloadHealth {
  /** As given in `refs`. */
  ref: string;
  found: boolean;
  ready: number;
  desired: number;
  /** The verdict's message (kubectl's rollout status line or its error text), `not found` when absent. */
  message: string;
  /** kubectl's `done` (an OnDelete workload with every pod ready counts as done). */
  done: boolean;
  /** ready / progressing / failing: from the typed verdict (and the pods, when diagnosed). */
  state: WorkloadState;
  /** The typed verdict (undefined when the workload was not found). */
  verdict: WorkloadVerdict | undefined;
  revision: string | undefined;
  images: string[];
  /** A pod state that cannot recover (ImagePullBackOff, CrashLoopBackOff, …), from `diagnosePods`. */
  podProblem?: string;
  /** Pods could not be read (403): diagnostics are missing, said here rather than failing the cell. */
  diagnosticsUnavailable?: string;
}

function readyAndDesired(kind: WorkloadKind, object: WorkloadObject): { ready: number; desired: number } {
  const status = object.status ?? {};
  if (kind === 'daemonset') return { ready: status.numberReady ?? 0, desired: status.desiredNumberScheduled ?? 0 };
  return { ready: status.readyReplicas ?? 0, desired: object.spec?.replicas ?? 1 };
}

function health(text: string, ref: WorkloadRef, object: WorkloadObject | undefined, annotation: string | undefined): WorkloadHealth {
  if (object === undefined) {
    return { ref: text, found: false, ready: 0, desired: 0, message: 'not found', done: false, state: 'failing', verdict: undefined, revision: undefined, images: [] };
  }
  const counts = readyAndDesired(ref.kind, object);
  let verdict: WorkloadVerdict;
  try {
    // kubectl refuses to judge OnDelete workloads; for a health screen "all pods ready" will do.
    verdict = judgeWorkload(ref, object, { readyWhenUnsupported: counts });
  } catch (error) {
    const message = `the API sent an object iac cannot read (${remoteLine((error as Error).message, 200)})`;
    return { ref: text, found: true, ...counts, message, done: false, state: 'failing', verdict: undefined, revision: undefined, images: [] };
  }
  const revision = runningRevision(object, annotation);
  return {
    ref: text,
    found: true,
    ...counts,
    message: remoteLine(verdict.message),
    done: verdict.state === 'ready',
    state: verdict.state,
    verdict,
    revision: revision === undefined ? undefined : remoteLine(revision, 100),
    images: workloadImages(object).map((image) => remoteLine(image, 300)),
  };
}

export async function listWorkloads(options: ListWorkloadsOptions): Promise<WorkloadHealth[]> {
  const refs = options.refs.map((text) => {
    const parsed = parseWorkloadRef(text);
    if (!parsed.ok) throw new UsageError('kube.workload-ref', parsed.error, parsed.suggestion === undefined ? {} : { hint: `use ${parsed.suggestion}` });
    return { text, ref: parsed.ref };
  });
  if (refs.length === 0) return [];
  const client =
    options.client ??
    (await connectKube({ kubeconfigPath: options.kubeconfigPath, context: options.context, namespace: options.namespace }));
  try {
    const deadline = Date.now() + (options.retryForMs ?? 3000);
    const list = <T>(path: string, what: string): Promise<T[]> =>
      withRetry(client, async () => (await listAll<T>(client, path, {}, options.signal)).items, { signal: options.signal, deadline, what });
    const kinds = [...new Set(refs.map(({ ref }) => ref.kind))];
    const byKind = new Map<WorkloadKind, Map<string, WorkloadObject>>();
    await Promise.all(
      kinds.map(async (kind) => {
        const items = await list<WorkloadObject>(workloadCollectionPath(kind, options.namespace), `LIST ${kind}s in ${options.namespace}`);
        byKind.set(kind, new Map(items.map((item) => [item.metadata?.name ?? '', item])));
      }),
    );
    const results = refs.map(({ text, ref }) => {
      const object = byKind.get(ref.kind)?.get(ref.name);
      return { ref, object, health: health(text, ref, object, options.revisionAnnotation) };
    });
    const pending = results.filter((r) => r.object !== undefined && r.health.state !== 'ready');
    if (options.diagnosePods && pending.length > 0) {
      let pods: PodObject[] = [];
      let unavailable: string | undefined;
      try {
        pods = await list<PodObject>(podsPath(options.namespace), `LIST pods in ${options.namespace}`);
      } catch (error) {
        // Pods only explain; without permission to read them the workloads' own status still stands.
        if (!(error instanceof KubeApiError && error.statusCode >= 400 && error.statusCode < 500)) throw error;
        unavailable = `pods not readable (${error.statusCode}${error.reason ? ` ${error.reason}` : ''})`;
      }
      for (const { ref, object, health: h } of pending) {
        if (unavailable !== undefined) {
          h.diagnosticsUnavailable = unavailable;
          continue;
        }
        const problem = worstProblem(podsOf(ref.kind, object as WorkloadObject, pods));
        if (problem) {
          h.podProblem = remoteLine(describeProblem(problem));
          h.state = 'failing';
        }
      }
    }
    return results.map((r) => r.health);
  } finally {
    if (options.client === undefined) client.close();
  }
}

/** The workload's pods, by its label selector (one pod LIST serves every workload of the namespace). */
function podsOf(kind: WorkloadKind, object: WorkloadObject, pods: PodObject[]): PodObject[] {
  const selector = podLabelSelector(kind, object);
  return selector === undefined ? [] : pods.filter((pod) => matchesSelector(selector, pod.metadata?.labels));
}

/** Fatal states first, then crash loops; plain waiting is not a problem for a status screen. */
function worstProblem(pods: PodObject[]): PodProblem | undefined {
  const problems = pods.map(diagnosePod).filter((p): p is PodProblem => p !== undefined && p.severity !== 'waiting');
  return problems.find((p) => p.severity === 'fatal') ?? problems[0];
}
