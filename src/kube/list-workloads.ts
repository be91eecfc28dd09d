/**
 * Workload health for `iac status`: ONE LIST per kind per namespace (never one GET per workload),
 * judged with kubectl's rollout rules, plus the revision actually running.
 */
import { UsageError } from '../errors.js';
import { connectKube, type KubeClient } from './client.js';
import { diagnosePod, describeProblem, type PodProblem } from './pod-diagnosis.js';
import { matchesSelector, podLabelSelector, podsPath, workloadCollectionPath } from './resources.js';
import { RolloutStatusError, rolloutStatus } from './rollout-status.js';
import { runningRevision, workloadImages } from './revision.js';
import type { ListObject, PodObject, WorkloadObject } from './types.js';
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
  signal?: AbortSignal;
  client?: KubeClient;
}

export interface WorkloadHealth {
  /** As given in `refs`. */
  ref: string;
  found: boolean;
  ready: number;
  desired: number;
  /** kubectl's rollout status message (or its error text), `not found` when absent. */
  message: string;
  done: boolean;
  revision: string | undefined;
  images: string[];
  /** A pod state that cannot recover (ImagePullBackOff, CrashLoopBackOff, …), from `diagnosePods`. */
  podProblem?: string;
}

function readyAndDesired(kind: WorkloadKind, object: WorkloadObject): { ready: number; desired: number } {
  const status = object.status ?? {};
  if (kind === 'daemonset') return { ready: status.numberReady ?? 0, desired: status.desiredNumberScheduled ?? 0 };
  return { ready: status.readyReplicas ?? 0, desired: object.spec?.replicas ?? 1 };
}

function health(text: string, ref: WorkloadRef, object: WorkloadObject | undefined, annotation: string | undefined): WorkloadHealth {
  if (object === undefined) {
    return { ref: text, found: false, ready: 0, desired: 0, message: 'not found', done: false, revision: undefined, images: [] };
  }
  let message: string;
  let done: boolean;
  try {
    ({ message, done } = rolloutStatus(ref.kind, object));
  } catch (error) {
    if (!(error instanceof RolloutStatusError)) throw error;
    message = error.message;
    // kubectl refuses to judge OnDelete workloads; for a health screen "all pods ready" will do.
    done = error.reason === 'UnsupportedStrategy' && readyAndDesired(ref.kind, object).ready >= readyAndDesired(ref.kind, object).desired;
  }
  return {
    ref: text,
    found: true,
    ...readyAndDesired(ref.kind, object),
    message,
    done,
    revision: runningRevision(object, annotation),
    images: workloadImages(object),
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
  const kinds = [...new Set(refs.map(({ ref }) => ref.kind))];
  const byKind = new Map<WorkloadKind, Map<string, WorkloadObject>>();
  await Promise.all(
    kinds.map(async (kind) => {
      const list = await client.getJson<ListObject<WorkloadObject>>(workloadCollectionPath(kind, options.namespace), {}, options.signal);
      byKind.set(kind, new Map((list.items ?? []).map((item) => [item.metadata?.name ?? '', item])));
    }),
  );
  const results = refs.map(({ text, ref }) => ({ ref, object: byKind.get(ref.kind)?.get(ref.name), health: health(text, ref, byKind.get(ref.kind)?.get(ref.name), options.revisionAnnotation) }));
  const pending = results.filter((r) => r.object !== undefined && !r.health.done);
  if (options.diagnosePods && pending.length > 0) {
    const pods = (await client.getJson<ListObject<PodObject>>(podsPath(options.namespace), {}, options.signal)).items ?? [];
    for (const { ref, object, health: h } of pending) {
      const problem = worstProblem(podsOf(ref.kind, object as WorkloadObject, pods));
      if (problem) h.podProblem = describeProblem(problem);
    }
  }
  return results.map((r) => r.health);
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
